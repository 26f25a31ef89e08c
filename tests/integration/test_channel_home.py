"""App Home: open incidents the viewer may see, their roles, counts by severity; `/incident list` alike."""

from __future__ import annotations

import json


from tests.channel_commands import event_payload, run, wait_for_summary
from tests.support import ALICE, BOB, CAROL, DAVE, RunningBot



async def open_home(bot: RunningBot, user: str) -> str:
    published = len(bot.slack.calls_to("views.publish"))
    answered = await bot.requests.event(event_payload("app_home_opened", user=user, channel="D0HOME", tab="home"))
    assert answered.status_code == 200
    await bot.slack.wait_for("views.publish", count=published + 1)
    call = bot.slack.calls_to("views.publish")[-1]
    assert call.ok, call.response
    view = bot.slack.home_view(user)
    assert view is not None and view["type"] == "home"
    return json.dumps(view["blocks"])


async def test_home_shows_what_the_viewer_may_see_their_roles_and_counts(bot: RunningBot) -> None:
    public = await bot.declare("Checkout errors", severity=1, user=ALICE)
    secret = await bot.declare("Credential leak", severity=2, private=True, user=BOB, commander=BOB)
    await bot.declare("Game day", severity=3, drill=True, user=CAROL, commander=CAROL)
    await run(bot, f"role scribe <@{DAVE}>", public.channel_id)
    await wait_for_summary(bot, public, f"*Scribe:* <@{DAVE}>")

    alice = await open_home(bot, ALICE)
    assert "Checkout errors" in alice and "Credential leak" not in alice and "Game day" in alice
    assert "SEV-1: *1*" in alice and "SEV-2: *0*" in alice and "Drills: *1*" in alice
    assert f"Incident Commander of {public.reference}" in alice

    bob = await open_home(bot, BOB)
    assert "Credential leak" in bob and "SEV-2: *1*" in bob
    assert f"Incident Commander of {secret.reference}" in bob

    dave = await open_home(bot, DAVE)
    assert f"Scribe of {public.reference}" in dave and "Credential leak" not in dave


async def test_home_with_nothing_open(bot: RunningBot) -> None:
    home = await open_home(bot, CAROL)
    assert "No open incidents" in home and "no role" in home


async def test_home_is_republished_with_fresh_data(bot: RunningBot) -> None:
    assert "No open incidents" in await open_home(bot, ALICE)
    incident = await bot.declare("Fresh one", severity=4)
    home = await open_home(bot, ALICE)
    assert "Fresh one" in home and f"<#{incident.channel_id}>" in home and "SEV-4: *1*" in home


async def test_list_shows_private_incidents_only_to_members(bot: RunningBot) -> None:
    await bot.declare("Visible", user=ALICE)
    secret = await bot.declare("Hidden", private=True, user=BOB, commander=BOB)
    general = bot.slack.channel_by_name("general").id
    alice = await bot.command_reply("list", user_id=ALICE, channel_id=general)
    assert "Visible" in alice and "Hidden" not in alice
    await run(bot, f"role tech <@{ALICE}>", secret.channel_id, user=BOB)
    await wait_for_summary(bot, secret, f"*Technical Lead:* <@{ALICE}>")
    alice = await bot.command_reply("list", user_id=ALICE, channel_id=general)
    assert "Hidden" in alice
