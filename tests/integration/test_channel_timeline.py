"""Timeline capture and display: `/incident note`, the message shortcut, :pushpin:, `/incident timeline`."""

from __future__ import annotations

import json
from datetime import UTC, datetime


from bot.config.settings import IncidentConfig
from bot.slack.ids import Callback
from bot.timeline.notes import PAGE_SIZE
from storage.models import TimelineEvent
from tests.channel_commands import answer, ask, event_payload, kinds, quiet, run, timeline, wait_for_post
from tests.support import ALICE, BOB, CAROL, RunningBot



async def test_a_note_is_logged_and_shown_in_the_channel(bot: RunningBot) -> None:
    incident = await bot.declare("Replica lag")
    await run(bot, "note Failover to the replica started, <@U0BOB|bob> watching <!channel>", incident.channel_id,
              user=CAROL)
    posted = await wait_for_post(bot, incident.channel_id, "Note from")
    assert "Failover to the replica started, <@U0BOB> watching &lt;!channel&gt;" in posted[0]
    assert "<!channel>" not in posted[0]
    note = next(e for e in await timeline(bot, incident) if e.kind == "note")
    assert note.actor == CAROL and note.text == "Failover to the replica started, <@U0BOB|bob> watching <!channel>"


async def test_timeline_lists_entries_in_order_each_time_in_the_readers_zone(make_bot) -> None:
    bot = await make_bot(IncidentConfig(timezone="Asia/Tokyo"))
    incident = await bot.declare("Tokyo outage")
    await run(bot, "note first", incident.channel_id)
    await wait_for_post(bot, incident.channel_id, "first")
    await run(bot, "note second <!here>", incident.channel_id, user=BOB)
    await wait_for_post(bot, incident.channel_id, "second")
    url = await run(bot, "timeline", incident.channel_id)
    shown = json.loads(json.dumps((await bot.slack.wait_for_response(url))[0]))
    text = shown["text"]
    assert "Times in" not in text, "Slack shows each reader their own zone"
    assert text.index("Declared as SEV-2") < text.index("first") < text.index("second")
    assert f"<@{BOB}>: second" in text and "<!here>" not in text
    declared = next(e for e in await timeline(bot, incident) if e.kind == "declared")
    fallback = declared.at.astimezone(bot.ctx.config.tz).strftime("%Y-%m-%d %H:%M JST")
    assert f"<!date^{int(declared.at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}> · " in text
    assert shown["response_type"] == "ephemeral"
    assert not any("Timeline of" in m.text for m in bot.slack.messages_in(incident.channel_id))


async def test_a_long_timeline_is_paginated(bot: RunningBot) -> None:
    incident = await bot.declare("Noisy incident")
    async with bot.ctx.db.session() as session:
        start = datetime.now(UTC)
        for n in range(PAGE_SIZE * 2 + 3):
            session.add(TimelineEvent(incident_id=incident.id, kind="note", actor=ALICE, at=start,
                                      text=f"entry {n:03d} " + "x" * 400))
    url = await run(bot, "timeline", incident.channel_id)
    first = await answer(bot, url)
    assert "page 1 of 3" in first and "/incident timeline 2" in first
    url = await run(bot, "timeline 3", incident.channel_id)
    last = (await bot.slack.wait_for_response(url))[0]
    assert "page 3 of 3" in last["text"] and "/incident timeline 4" not in last["text"]
    assert "entry 042" in last["text"] and "entry 000" not in last["text"]
    url = await run(bot, "timeline 9", incident.channel_id)
    reply = await answer(bot, url)
    assert "has 3 pages" in reply and "Usage: `/incident timeline [page]`" in reply


async def test_timeline_and_note_need_an_incident_channel(bot: RunningBot) -> None:
    general = bot.slack.channel_by_name("general").id
    for text in ["timeline", "note hello"]:
        url = await run(bot, text, general)
        assert "works only in an incident channel" in await answer(bot, url)
    incident = await bot.declare("Somewhere")
    acked = await ask(bot, "note", incident.channel_id)
    assert "needs the text of the note" in acked and "Usage: `/incident note <text>`" in acked


async def test_the_shortcut_captures_a_message_once(bot: RunningBot) -> None:
    incident = await bot.declare("Kafka consumer lag")
    message = bot.slack.add_message(incident.channel_id, BOB, "Consumer group rebalanced at 14:02")
    payload = {"ts": message.ts, "user": BOB, "text": message.text}
    url = bot.slack.new_response_url(channel_id=incident.channel_id)
    reply = await bot.requests.message_shortcut(callback_id=Callback.ADD_TO_TIMELINE, user_id=CAROL,
                                                channel_id=incident.channel_id, message=payload, response_url=url)
    assert reply.status_code == 200
    assert "Added to the timeline" in await answer(bot, url)
    entry = next(e for e in await timeline(bot, incident) if e.kind == "message")
    assert entry.text == "Consumer group rebalanced at 14:02" and entry.actor == BOB
    assert entry.at == datetime.fromtimestamp(float(message.ts), UTC)
    assert entry.data["captured_by"] == CAROL and entry.data["ts"] == message.ts
    assert entry.data["permalink"].endswith(f"/archives/{incident.channel_id}/p{message.ts.replace('.', '')}")

    again = bot.slack.new_response_url(channel_id=incident.channel_id)
    await bot.requests.message_shortcut(callback_id=Callback.ADD_TO_TIMELINE, user_id=ALICE,
                                        channel_id=incident.channel_id, message=payload, response_url=again)
    assert "already on the timeline" in await answer(bot, again)
    assert (await kinds(bot, incident)).count("message") == 1

    url = await run(bot, "timeline", incident.channel_id)
    shown = await answer(bot, url)
    assert f"<@{BOB}>: Consumer group rebalanced at 14:02" in shown and "|message>" in shown


async def test_the_shortcut_works_on_thread_replies(bot: RunningBot) -> None:
    incident = await bot.declare("Thread capture")
    parent = bot.slack.add_message(incident.channel_id, BOB, "What changed?")
    reply_message = bot.slack.add_message(incident.channel_id, CAROL, "A deploy at 13:55", thread_ts=parent.ts)
    url = bot.slack.new_response_url(channel_id=incident.channel_id)
    await bot.requests.message_shortcut(
        callback_id=Callback.ADD_TO_TIMELINE, user_id=ALICE, channel_id=incident.channel_id, response_url=url,
        message={"ts": reply_message.ts, "user": CAROL, "text": reply_message.text, "thread_ts": parent.ts},
    )
    assert "Added to the timeline" in await answer(bot, url)
    entry = next(e for e in await timeline(bot, incident) if e.kind == "message")
    assert entry.text == "A deploy at 13:55" and entry.data["thread_ts"] == parent.ts


async def test_the_shortcut_outside_an_incident_channel_is_refused(bot: RunningBot) -> None:
    general = bot.slack.channel_by_name("general").id
    message = bot.slack.add_message(general, BOB, "Lunch?")
    url = bot.slack.new_response_url(channel_id=general)
    await bot.requests.message_shortcut(callback_id=Callback.ADD_TO_TIMELINE, user_id=ALICE, channel_id=general,
                                        message={"ts": message.ts, "user": BOB, "text": message.text},
                                        response_url=url)
    reply = await answer(bot, url)
    assert "Add to incident timeline" in reply and "works only in an incident channel" in reply
    assert (await bot.slack.wait_for_response(url))[0]["response_type"] == "ephemeral"


def _pin(channel_id: str, ts: str, user: str = ALICE, reaction: str = "pushpin") -> dict[str, object]:
    return event_payload("reaction_added", user=user, reaction=reaction, item_user=BOB,
                         item={"type": "message", "channel": channel_id, "ts": ts})


async def test_a_pushpin_captures_the_message_once_however_often_it_is_pinned(bot: RunningBot) -> None:
    incident = await bot.declare("Elevated latency", responders=[CAROL])
    older = bot.slack.add_message(incident.channel_id, BOB, "p99 latency back to 180ms")
    bot.slack.add_message(incident.channel_id, CAROL, "a later message")
    for user in (ALICE, CAROL, ALICE):
        answered = await bot.requests.event(_pin(incident.channel_id, older.ts, user=user))
        assert answered.status_code == 200
    await bot.wait_until(lambda: bot.slack.ephemerals)
    await quiet(bot)
    entries = [e for e in await timeline(bot, incident) if e.kind == "message"]
    assert len(entries) == 1
    assert entries[0].text == "p99 latency back to 180ms" and entries[0].actor == BOB
    assert entries[0].data["via"] == "reaction" and entries[0].data["captured_by"] in {ALICE, CAROL}
    assert bot.slack.calls_to("conversations.replies") == [], "a top-level message is read from the history"
    [confirmation] = bot.slack.ephemerals
    assert "Added to the timeline" in confirmation.text
    assert confirmation.user == entries[0].data["captured_by"] and confirmation.channel == incident.channel_id
    await bot.requests.event(_pin(incident.channel_id, older.ts, user=BOB))
    await quiet(bot)
    assert (await kinds(bot, incident)).count("message") == 1 and len(bot.slack.ephemerals) == 1


async def test_a_pushpin_on_a_thread_reply_is_found(bot: RunningBot) -> None:
    incident = await bot.declare("Thread pin")
    parent = bot.slack.add_message(incident.channel_id, BOB, "Root cause?")
    reply_message = bot.slack.add_message(incident.channel_id, CAROL, "Bad config push", thread_ts=parent.ts)
    await bot.requests.event(_pin(incident.channel_id, reply_message.ts))
    await bot.wait_until(lambda: bot.slack.ephemerals_for(ALICE))
    entry = next(e for e in await timeline(bot, incident) if e.kind == "message")
    assert entry.text == "Bad config push" and entry.actor == CAROL
    assert bot.slack.calls_to("conversations.replies")[-1].params["ts"] == reply_message.ts


async def test_retried_and_duplicate_deliveries_log_once(bot: RunningBot) -> None:
    incident = await bot.declare("Retry storm")
    message = bot.slack.add_message(incident.channel_id, BOB, "Rolled back to v41")
    event = _pin(incident.channel_id, message.ts)
    first = await bot.requests.event(event, event_id="Ev0SAME")
    retry = await bot.requests.event(event, event_id="Ev0SAME", retry_num=1, retry_reason="http_timeout")
    again = await bot.requests.event(event, event_id="Ev0SAME", retry_num=2)
    assert {first.status_code, retry.status_code, again.status_code} == {200}
    await bot.wait_until(lambda: bot.slack.ephemerals_for(ALICE))
    await quiet(bot)
    assert (await kinds(bot, incident)).count("message") == 1
    assert len(bot.slack.ephemerals_for(ALICE)) == 1


async def test_other_reactions_and_unknown_channels_are_ignored_silently(bot: RunningBot) -> None:
    incident = await bot.declare("Quiet events")
    message = bot.slack.add_message(incident.channel_id, BOB, "thumbs")
    general = bot.slack.channel_by_name("general").id
    elsewhere = bot.slack.add_message(general, BOB, "not an incident")
    before = len(bot.slack.calls)
    for event in [
        _pin(incident.channel_id, message.ts, reaction="thumbsup"),
        _pin(incident.channel_id, message.ts, reaction="round_pushpin"),
        _pin(general, elsewhere.ts),
        _pin("C0UNKNOWN", "1700000000.000001"),
        _pin(incident.channel_id, "1600000000.000001"),
        event_payload("reaction_added", user=ALICE, reaction="pushpin", item={"type": "file", "file": "F1"}),
    ]:
        answered = await bot.requests.event(event)
        assert answered.status_code == 200
    marker = bot.slack.add_message(incident.channel_id, BOB, "marker")
    await bot.requests.event(_pin(incident.channel_id, marker.ts))
    await bot.wait_until(lambda: bot.slack.ephemerals_for(ALICE))
    made = [c.method for c in bot.slack.calls[before:]]
    assert made.count("chat.postEphemeral") == 1
    assert [e.text for e in await timeline(bot, incident) if e.kind == "message"] == ["marker"]


async def test_a_captured_message_keeps_its_text_as_people_wrote_it(bot: RunningBot) -> None:
    incident = await bot.declare("R&D dashboards")
    written = bot.slack.add_message(incident.channel_id, BOB, "fish &amp; chips &lt;3")
    await bot.requests.event(_pin(incident.channel_id, written.ts))
    await bot.wait_until(lambda: bot.slack.ephemerals)
    [entry] = [e for e in await timeline(bot, incident) if e.kind == "message"]
    assert entry.text == "fish & chips <3", "Slack's escaping is undone once, never shown as &amp;amp;"
