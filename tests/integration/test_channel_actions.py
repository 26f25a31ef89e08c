"""`/incident action`: numbered follow-ups with owners and due dates, in the summary and on the timeline."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.channel_commands import (
    CHANGES, action_items, answer, ask, calls, kinds, quiet, run, summary, timeline, wait_for_post, wait_for_summary,
)
from tests.support import ALICE, BOB, CAROL, RunningBot


NEXT_YEAR = date(datetime.now(UTC).year + 1, 6, 30)


async def test_adding_and_closing_action_items(bot: RunningBot) -> None:
    incident = await bot.declare("Expired certificate")
    channel = incident.channel_id
    await run(bot, f"action Automate certificate renewal <@{BOB}|bob> due {NEXT_YEAR.isoformat()}", channel)
    posted = await wait_for_post(bot, channel, "action item *#1*")
    assert "Automate certificate renewal" in posted[0] and f"Owner: <@{BOB}>" in posted[0]
    assert f"Due: {NEXT_YEAR.isoformat()}" in posted[0]
    await run(bot, "action Add an expiry alert", channel, user=CAROL)
    await wait_for_post(bot, channel, "action item *#2*")
    text = await wait_for_summary(bot, incident, "#2 Add an expiry alert")
    assert f"#1 Automate certificate renewal · <@{BOB}> · due {NEXT_YEAR.isoformat()}" in text

    items = await action_items(bot, incident)
    assert [(i.number, i.text, i.owner, i.due, i.created_by, i.done_at) for i in items] == [
        (1, "Automate certificate renewal", BOB, NEXT_YEAR, ALICE, None),
        (2, "Add an expiry alert", None, None, CAROL, None),
    ]

    await run(bot, "action done 1", channel, user=BOB)
    await wait_for_post(bot, channel, "closed action item *#1*")
    await wait_for_summary(bot, incident, "#1 Automate certificate renewal · <@U0BOB>")
    await bot.wait_until(lambda: "· done" in summary(bot, incident))
    closed = (await action_items(bot, incident))[0]
    assert closed.done_by == BOB and closed.done_at is not None
    assert [k for k in await kinds(bot, incident) if k.startswith("action")] == [
        "action_added", "action_added", "action_done"]
    added = next(e for e in await timeline(bot, incident) if e.kind == "action_added")
    assert added.actor == ALICE and added.data["number"] == 1 and added.data["owner"] == BOB


async def test_people_named_in_the_text_stay_mentioned_and_broadcasts_stay_inert(bot: RunningBot) -> None:
    incident = await bot.declare("Mentions")
    await run(bot, f"action Ask <@{CAROL}|carol> to rotate keys, tell <!here> <@{BOB}>", incident.channel_id)
    posted = await wait_for_post(bot, incident.channel_id, "action item *#1*")
    assert f"Ask <@{CAROL}> to rotate keys, tell &lt;!here&gt;" in posted[0] and f"Owner: <@{BOB}>" in posted[0]
    await wait_for_summary(bot, incident, f"#1 Ask <@{CAROL}> to rotate keys, tell &lt;!here&gt; · <@{BOB}>")
    assert "<!here>" not in summary(bot, incident)
    [item] = await action_items(bot, incident)
    assert (item.text, item.owner) == (f"Ask <@{CAROL}|carol> to rotate keys, tell <!here>", BOB)


async def test_closing_twice_or_a_missing_number_changes_nothing(bot: RunningBot) -> None:
    incident = await bot.declare("Memory leak")
    channel = incident.channel_id
    await run(bot, "action Add a heap dashboard", channel)
    await wait_for_post(bot, channel, "action item *#1*")
    await run(bot, "action done 1", channel)
    await wait_for_post(bot, channel, "closed action item *#1*")
    await bot.wait_until(lambda: "· done" in summary(bot, incident))
    await quiet(bot)
    before = calls(bot, *CHANGES)
    url = await run(bot, "action done 1", channel)
    assert "already closed" in await answer(bot, url)
    url = await run(bot, "action done 7", channel)
    reply = await answer(bot, url)
    assert "no action item #7" in reply and "Usage: `/incident action" in reply
    assert calls(bot, *CHANGES) == before
    assert [k for k in await kinds(bot, incident) if k.startswith("action")] == ["action_added", "action_done"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("action Fix it due 2031-02-30", "not a date"),
        ("action Fix it due next-week", "not a date"),
        ("action", "needs the text"),
        ("action done", "needs the number"),
    ],
)
async def test_malformed_action_items_show_the_usage(bot: RunningBot, text: str, problem: str) -> None:
    incident = await bot.declare("Bad input")
    acked = await ask(bot, text, incident.channel_id)
    assert problem in acked and "Usage: `/incident action" in acked
    assert await action_items(bot, incident) == []


async def test_past_due_dates_and_unknown_owners_are_refused(bot: RunningBot) -> None:
    incident = await bot.declare("Refusals")
    yesterday = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    await quiet(bot)
    before = calls(bot, *CHANGES)
    url = await run(bot, f"action Write the runbook due {yesterday}", incident.channel_id)
    reply = await answer(bot, url)
    assert "is in the past" in reply and "Usage: `/incident action" in reply
    url = await run(bot, "action Write the runbook <@U0NOBODY>", incident.channel_id)
    assert "is not a member of this workspace" in await answer(bot, url)
    assert calls(bot, *CHANGES) == before
    assert await action_items(bot, incident) == []
    assert "action_added" not in await kinds(bot, incident)


async def test_action_items_need_an_incident_channel(bot: RunningBot) -> None:
    general = bot.slack.channel_by_name("general").id
    url = await run(bot, "action Anything", general)
    reply = await answer(bot, url)
    assert "works only in an incident channel" in reply and "/incident action" in reply
