"""`/incident role` and `/incident ic`: handovers with history, invites, and refusals of non-people."""

from __future__ import annotations

import pytest

from storage.models import Role
from tests.channel_commands import (
    CHANGES, answer, ask, calls, kinds, quiet, roles_history, run, timeline, wait_for_post, wait_for_summary,
)
from tests.support import ALICE, BOB, CAROL, DAVE, RunningBot



async def test_assigning_a_role_invites_announces_and_updates_the_summary(bot: RunningBot) -> None:
    incident = await bot.declare("Database failover", responders=[BOB])
    channel = bot.slack.channels[incident.channel_id]
    assert CAROL not in channel.members
    await run(bot, f"role tech <@{CAROL}|carol>", incident.channel_id, user=BOB)
    posted = await wait_for_post(bot, incident.channel_id, "*Technical Lead*")
    assert f"<@{CAROL}> is now the *Technical Lead*" in posted[0] and f"Assigned by <@{BOB}>" in posted[0]
    assert CAROL in channel.members
    invite = bot.slack.calls_to("conversations.invite")[-1]
    assert invite.params["users"] == CAROL and invite.ok
    await wait_for_summary(bot, incident, f"*Technical Lead:* <@{CAROL}>")
    entry = next(e for e in await timeline(bot, incident) if e.kind == "role_assigned")
    assert entry.actor == BOB and entry.data == {"role": "tech", "user": CAROL, "previous": None}


async def test_ic_handover_keeps_the_history(bot: RunningBot) -> None:
    incident = await bot.declare("Cache stampede")
    await run(bot, f"ic <@{BOB}>", incident.channel_id)
    await wait_for_post(bot, incident.channel_id, f"taking over from <@{ALICE}>")
    await run(bot, f"role commander <@{DAVE}|dave>", incident.channel_id, user=BOB)
    await wait_for_post(bot, incident.channel_id, f"taking over from <@{BOB}>")
    await wait_for_summary(bot, incident, f"*Incident Commander:* <@{DAVE}>")
    history = [(a.user_id, a.assigned_by, a.ended_at is None) for a in await roles_history(bot, incident)
               if a.role is Role.IC]
    assert history == [(ALICE, ALICE, False), (BOB, ALICE, False), (DAVE, BOB, True)]
    handovers = [e.data["previous"] for e in await timeline(bot, incident) if e.kind == "role_assigned"]
    assert handovers == [ALICE, BOB]


@pytest.mark.parametrize("role", ["comms", "scribe"])
async def test_every_role_can_be_assigned_to_someone_already_in_the_channel(bot: RunningBot, role: str) -> None:
    incident = await bot.declare("Webhook delays", responders=[BOB])
    await run(bot, f"role {role} <@{BOB}>", incident.channel_id)
    label = {"comms": "Communications Lead", "scribe": "Scribe"}[role]
    await wait_for_summary(bot, incident, f"*{label}:* <@{BOB}>")
    await bot.idle()  # the invite and the announcement run beside the summary refresh
    assert bot.slack.calls_to("conversations.invite")[-1].response.get("error") == "already_in_channel"
    assert not any("could not be invited" in m.text for m in bot.slack.messages_in(incident.channel_id))


@pytest.mark.parametrize(
    ("arrange", "mention", "problem"),
    [
        (None, "<@U0NOBODY>", "is not a member of this workspace"),
        ("deleted", "<@U0GONE|gone>", "has been deactivated"),
        ("bot", "<@U0ROBOT>", "is a bot"),
    ],
)
async def test_people_who_cannot_hold_a_role_are_refused(
    bot: RunningBot, arrange: str | None, mention: str, problem: str
) -> None:
    bot.slack.add_user("U0GONE", "gone", deleted=True)
    bot.slack.add_user("U0ROBOT", "robot", is_bot=True)
    incident = await bot.declare("Auth outage")
    await quiet(bot)
    before = calls(bot, *CHANGES)
    url = await run(bot, f"role tech {mention}", incident.channel_id)
    reply = await answer(bot, url)
    assert problem in reply and "Usage: `/incident role <ic|tech|comms|scribe> @user`" in reply
    assert calls(bot, *CHANGES) == before
    assert "role_assigned" not in await kinds(bot, incident)
    assert [a.role for a in await roles_history(bot, incident)] == [Role.IC]


async def test_the_same_holder_again_changes_nothing(bot: RunningBot) -> None:
    incident = await bot.declare("CDN errors")
    await quiet(bot)
    before = calls(bot, *CHANGES)
    url = await run(bot, f"ic <@{ALICE}>", incident.channel_id)
    assert "already the Incident Commander" in await answer(bot, url)
    assert calls(bot, *CHANGES) == before
    assert len(await roles_history(bot, incident)) == 1


async def test_bad_role_commands_show_the_usage(bot: RunningBot) -> None:
    incident = await bot.declare("DNS flaps")
    for text, problem in [("role chef <@U0BOB>", "`chef` is not a role"), ("role tech bob", "not a user mention"),
                          ("ic", "not a user mention")]:
        acked = await ask(bot, text, incident.channel_id)
        assert problem in acked and "Usage:" in acked, text
    general = bot.slack.channel_by_name("general").id
    url = await run(bot, f"role tech <@{BOB}>", general)
    assert "works only in an incident channel" in await answer(bot, url)
    assert len(await roles_history(bot, incident)) == 1
