"""The playground over HTTP: the page's JSON state and actions drive the real bot against the local Slack.

These tests use the page's own endpoints (what its script sends), so every step runs
the bot's real code paths: signed requests to /slack/events, Web API calls over HTTP
to the local Slack, the scheduler and the playground's SQLite database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.playground.team import COMMANDER, COMMS_LEAD, OUTSIDER, RESPONDER
from tests.playground_support import (
    Playground,
    button,
    channel_id,
    incident_channel,
    message_with,
    open_view,
    pressed,
    running,
    ts_of,
)

DECLARE = [
    ["title", "title", "Checkout is failing"], ["severity", "severity", "2"],
    ["customer_impact", "customer_impact", "yes"], ["private", "private", "no"], ["drill", "drill", "no"],
    ["commander", "commander", COMMANDER.id], ["responders", "responders", RESPONDER.id],
]


@pytest.fixture(autouse=True)
def own_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """playground.db and the post-mortems go to the test's own directory."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path


async def declare(play: Playground, *, entries: list[list[str]] = DECLARE, private: bool = False) -> str:
    """Declare from #general as the incident commander; returns the incident channel's id."""
    general = channel_id(await play.state(), "general")
    await play.act("message", at=general, text="/incident declare Checkout is failing")
    view = await play.until(lambda: _view(play, "Declare an incident"))
    if private:
        entries = [e if e[0] != "private" else ["private", "private", "yes"] for e in entries]
    await play.act("submit", view_id=view, entries=entries)
    return str(await play.until(lambda: _incident_channel(play)))


async def _view(play: Playground, title: str, user_id: str = COMMANDER.id) -> str | None:
    return open_view(await play.state(user_id), title)


async def _incident_channel(play: Playground) -> str | None:
    return incident_channel(await play.state())


async def _message(play: Playground, at: str, text: str, user_id: str = COMMANDER.id) -> str | None:
    return message_with(await play.state(user_id, at), text)


async def test_banner_says_it_is_local_and_which_settings_it_ignores(own_directory: Path) -> None:
    environ = {"SLACK_BOT_TOKEN": "xoxb-a-real-token", "DATABASE_URL": "postgresql://prod/db", "HOME": "/root"}
    async with running(environ=environ) as play:
        banner = play.out.getvalue()
        assert f"Open {play.url}/ in your browser" in banner
        assert "a local playground, not connected to any Slack workspace" in banner
        assert "Ignored from the environment: DATABASE_URL, SLACK_BOT_TOKEN." in banner
        assert str(own_directory / "playground.db") in banner and "HOME" not in banner
        assert "every minute is a second (SEV-1 update reminders every 15s)" in banner
        state = await play.state()
        assert [channel_id(state, name) is not None for name in ("general", "incidents", "status")] == [True] * 3
        assert state["as"] == COMMANDER.id and state["title"] == "#general"
    assert (own_directory / "playground.db").exists()


async def test_the_whole_process_through_the_page(own_directory: Path) -> None:
    async with running() as play:
        channel = await declare(play)
        summary = await play.until(lambda: _message(play, channel, "📌 Pinned"))
        assert "Post update" in summary and "@isabel" in summary

        await play.act("message", at=channel, text="/incident role comms @colm")
        await play.until(lambda: _message(play, channel, "Communications Lead</strong> of INC-1"))

        await play.act("action", at=channel, ts=ts_of(summary), action=pressed(button(summary, "Post update")))
        view = await play.until(lambda: _view(play, "Post an update"))
        await play.act("submit", view_id=view, entries=[
            ["update_phase", "update_phase", "identified"],
            ["update_what_changed", "update_what_changed", "Rolled back the faulty deploy."],
            ["update_customer_facing", "update_customer_facing", "yes"],
        ])
        draft = await play.until(lambda: _message(play, channel, "Approve", COMMS_LEAD.id))

        await play.act("action", OUTSIDER.id, at=channel, ts=ts_of(draft), action=pressed(button(draft, "Approve")))
        refusal = await play.until(lambda: _message(play, channel, "Only visible to you", OUTSIDER.id))
        assert message_with(await play.state(COMMS_LEAD.id, channel), "Only visible to you") is None
        assert "Dismiss" in refusal

        await play.act("action", COMMS_LEAD.id, at=channel, ts=ts_of(draft), action=pressed(button(draft, "Approve")))
        status = channel_id(await play.state(), "status")
        await play.until(lambda: _message(play, str(status), "Rolled back the faulty deploy."))
        async with play.session.get(f"{play.url}/status") as page:
            assert page.status == 200 and "Rolled back the faulty deploy." in await page.text()

        await play.act("message", at=channel, text="/incident resolve")
        view = await play.until(lambda: _view(play, "Resolve incident"))
        await play.act("submit", view_id=view, entries=[
            ["resolve_summary", "resolve_summary", "The deploy was rolled back."],
            ["resolve_customers_affected", "resolve_customers_affected", "yes"],
        ])
        shared = await play.until(lambda: _message(play, channel, 'href="/files/'))
        file_id = re.search(r'href="/files/(F\w+)"', shared)[1]  # type: ignore[index]
        async with play.session.get(f"{play.url}/files/{file_id}") as document:
            assert document.status == 200 and "Checkout is failing" in await document.text()
        assert await _message(play, channel, "INC-1 resolved")


async def test_a_field_error_from_the_bot_shows_under_its_field_with_what_was_entered(own_directory: Path) -> None:
    async with running() as play:
        general = channel_id(await play.state(), "general")
        await play.act("message", at=general, text="/incident declare x")
        view = await play.until(lambda: _view(play, "Declare an incident"))
        too_long = "A" * 81  # the page's maxlength stops this; the bot must refuse it too
        entries = [e if e[0] != "title" else ["title", "title", too_long] for e in DECLARE]
        await play.act("submit", view_id=view, entries=entries)
        modal = (await play.state())["modal"]["html"]
        assert 'aria-invalid="true"' in modal and "keep it to 80" in modal and f'value="{too_long}"' in modal

        await play.act("submit", view_id=view, entries=[e for e in DECLARE if e[0] != "severity"])
        modal = (await play.state())["modal"]["html"]
        assert "Please complete this required field." in modal  # Slack's client refuses it before sending

        await play.act("close", view_id=view)
        assert (await play.state())["modal"] is None


async def test_private_incident_channels_only_for_members(own_directory: Path) -> None:
    async with running() as play:
        channel = await declare(play, private=True)
        assert 'data-place="%s"' % channel in (await play.state(RESPONDER.id))["nav"]
        outsider = await play.state(OUTSIDER.id, channel)
        assert f'data-place="{channel}"' not in outsider["nav"] and outsider["title"] == "#general"
        with pytest.raises(AssertionError, match="HTTP 404"):
            await play.act("message", OUTSIDER.id, at=channel, text="let me in")


async def test_pushpin_reaction_and_shortcut_reach_the_timeline(own_directory: Path) -> None:
    async with running() as play:
        channel = await declare(play)
        await play.act("message", RESPONDER.id, at=channel, text="Disk on db-2 is full & growing")
        said = await play.until(lambda: _message(play, channel, "Disk on db-2 is full &amp; growing"))
        await play.act("reaction", RESPONDER.id, at=channel, ts=ts_of(said), name="pushpin")
        await play.until(lambda: _message(play, channel, "Added to the timeline", RESPONDER.id))
        reacted = await _message(play, channel, "Disk on db-2", RESPONDER.id)
        assert 'aria-pressed="true"' in str(reacted) and "📌 1" in str(reacted)

        await play.act("message", at=channel, text="Failover started")
        said = await play.until(lambda: _message(play, channel, "Failover started"))
        await play.act("shortcut", at=channel, ts=ts_of(said), callback_id="add_to_timeline")
        await play.until(lambda: _message(play, channel, "Only visible to you"))
        await play.act("message", at=channel, text="/incident timeline")
        timeline = await play.until(lambda: _message(play, channel, "Timeline of INC-1"))
        assert "Failover started" in timeline and "Disk on db-2 is full" in timeline


async def test_app_home_and_the_workspace_are_kept_between_runs(own_directory: Path) -> None:
    async with running() as play:
        channel = await declare(play)
        await play.act("home", COMMS_LEAD.id)
        home = await play.until(lambda: _home(play, COMMS_LEAD.id))
        assert "Open incidents" in home and "Checkout is failing" in home
    async with running(fast=False) as play:
        assert "picked up where you left off" in play.out.getvalue()
        assert incident_channel(await play.state()) == channel
        assert await _message(play, channel, "Post update")
    async with running(reset=True) as play:
        assert "a fresh workspace" in play.out.getvalue()
        assert incident_channel(await play.state()) is None


async def _home(play: Playground, user_id: str) -> str | None:
    header = (await play.state(user_id, "home"))["header"]
    return header if "Asking the app" not in header else None


async def test_requests_from_other_sites_are_refused(own_directory: Path) -> None:
    async with running() as play:
        async with play.session.get(f"{play.url}/", headers={"Host": "evil.example:80"}) as answer:
            assert answer.status == 421
        body = {"as": COMMANDER.id, "at": "home"}
        async with play.session.post(f"{play.url}/api/home", json=body, headers={"Origin": "http://evil.example"}) as answer:
            assert answer.status == 403
        async with play.session.post(f"{play.url}/api/home", data="as=x", headers={"Content-Type": "text/plain"}) as answer:
            assert answer.status == 403
        async with play.session.get(f"{play.url}/") as page:
            assert page.status == 200 and "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
            assert '<label for="acting">Acting as</label>' in await page.text()
