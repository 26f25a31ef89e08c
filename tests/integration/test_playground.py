"""The playground over HTTP: the page's JSON state and actions drive the real bot against the local Slack.

These tests use the page's own endpoints (what its script sends), so every step runs
the bot's real code paths: signed requests to /slack/events, Web API calls over HTTP
to the local Slack, the scheduler and the playground's SQLite database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.config.settings import IncidentConfig
from bot.local_slack.state import User
from bot.playground.forms import client_errors, state_values
from bot.playground.mrkdwn import Reader, to_html
from bot.playground.policy import in_seconds, playground_config
from bot.playground.rendering import SHORTCUTS, Pages
from bot.playground.screen import Author, Item
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
        assert await play.until(lambda: _message(play, channel, "INC-1 resolved"))


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
        assert f'data-place="{channel}"' in (await play.state(RESPONDER.id))["nav"]
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


# -- rendering: mrkdwn, Block Kit and modals, without a running playground --------------------

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def reader(tz: str = "Europe/Berlin") -> Reader:
    return Reader(tz=ZoneInfo(tz), now=NOW, users={"U1": "isabel"}, channels={"C1": "general"},
                  groups={"S1": "oncall"})


def test_mrkdwn_shows_formatting_names_and_dates_for_the_reader() -> None:
    text = ("*bold* _it_ ~gone~ `co*de*` <@U1> <@U9|someone> <#C1> <#C2|secret> <!subteam^S1> <!here> "
            "<https://example.com/a?b=1&amp;c=2|a link> <javascript:alert(1)|bad> &lt;script&gt; snake_case_name\n"
            "&gt; quoted\n```pre <@U1>```")
    html = to_html(text, reader())
    for part in ["<strong>bold</strong>", "<em>it</em>", "<del>gone</del>", "<code>co*de*</code>", "@isabel",
                 "@someone", ">#general</a>", "🔒 private channel", "@oncall", "@here",
                 '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" rel="noopener noreferrer">a link</a>',
                 "&lt;script&gt;", "snake_case_name", "<blockquote>quoted</blockquote>", "<pre>pre &lt;@U1&gt;</pre>"]:
        assert part in html, part
    assert "javascript:" not in html and "<script" not in html
    stamp = int(NOW.timestamp())
    due = f"<!date^{stamp}^{{date_short_pretty}} {{time}}|2026-03-02 09:00 UTC>"
    assert ">Today 10:00 AM</time>" in to_html(due, reader("Europe/Berlin"))
    assert ">Today 4:00 AM</time>" in to_html(due, reader("America/New_York"))
    day = f"<!date^{stamp}^{{date_num}}|2026-03-02>"
    assert ">2026-03-01</time>" in to_html(day, reader("Pacific/Pago_Pago"))
    assert ">2026-03-02</time>" in to_html(day, reader("Pacific/Kiritimati"))


def test_block_kit_messages_render_as_accessible_html() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "INC-7: Checkout :fire:"}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Severity:* SEV-1"},
         "fields": [{"type": "mrkdwn", "text": "*IC* <@U1>"}, {"type": "plain_text", "text": "<b>raw</b>"}],
         "accessory": {"type": "image", "image_url": "https://example.com/x.png", "alt_text": "a graph"}},
        {"type": "context", "elements": [{"type": "image", "image_url": "https://e.com/i.png", "alt_text": "icon"},
                                          {"type": "mrkdwn", "text": "_declared_"}]},
        {"type": "divider"},
        {"type": "actions", "block_id": "acts", "elements": [
            {"type": "button", "action_id": "go", "value": "7", "style": "primary",
             "text": {"type": "plain_text", "text": "Post update"}}]},
        {"type": "image", "image_url": "https://example.com/chart.png", "alt_text": "error rate chart"},
    ]
    item = Item(key="1.0", kind="message", author=Author("Incident Bot", "IB", 0, is_app=True), ts="1772442000.0",
                text="", blocks=blocks, pinned=True)
    html = Pages().render("message.html.j2", reader=reader(), item=item)
    for part in ['<h3 class="bk-header">INC-7: Checkout 🔥</h3>', "<strong>Severity:</strong> SEV-1",
                 "&lt;b&gt;raw&lt;/b&gt;", 'role="img" aria-label="a graph"', 'aria-label="icon"', "<em>declared</em>",
                 '<hr class="bk-divider">', 'data-action="go"', 'data-block="acts"', 'data-value="7"',
                 ">Post update</button>", 'aria-label="error rate chart"', "📌 Pinned",
                 ">Add to incident timeline</button>", 'aria-label="React with :pushpin:"']:
        assert part in html, part
    ephemeral = Item(key="e1.0", kind="ephemeral", author=item.author, ts="1772442000.0", text="only *you*")
    html = Pages().render("message.html.j2", reader=reader(), item=ephemeral)
    assert "Only visible to you" in html and "<strong>you</strong>" in html and "data-shortcut" not in html


def test_a_modal_is_a_labelled_dialog_with_every_input_kind() -> None:
    yes_no = [{"value": v, "text": {"type": "plain_text", "text": v.title()}} for v in ("yes", "no")]
    def field(block_id: str, label: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
                "element": {"action_id": block_id, **element}, **extra}
    view = {"id": "V1", "type": "modal", "title": {"type": "plain_text", "text": "Post an update"},
            "submit": {"type": "plain_text", "text": "Post update"}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [
                field("what", "What changed", {"type": "plain_text_input", "multiline": True}),
                field("eta", "ETA", {"type": "plain_text_input"}, optional=True,
                      hint={"type": "plain_text", "text": "e.g. 45m"}),
                field("phase", "Phase", {"type": "static_select", "options": yes_no}),
                field("facing", "Customer-facing", {"type": "radio_buttons", "options": yes_no}),
                field("checks", "Checks", {"type": "checkboxes", "options": yes_no}),
                field("ic", "Incident commander", {"type": "users_select", "initial_user": "U1"}),
                field("who", "Responders", {"type": "multi_users_select"}),
                field("day", "Day", {"type": "datepicker"}),
                field("at", "Time", {"type": "timepicker"}),
            ]}
    someone = User("U1", "isabel", real_name="Isabel Chen")
    html = Pages().render("modal.html.j2", reader=reader(), view=view, people=[someone],
                          values={"eta": {"eta": {"type": "plain_text_input", "value": "soon-ish"}}},
                          errors={"eta": "That is not a time."})
    assert '<dialog class="modal" aria-labelledby="modal-title" data-view="V1">' in html
    assert '<h2 id="modal-title">Post an update</h2>' in html and '<button type="submit" class="primary">Post update' in html
    for index, tag in enumerate(["<textarea id=\"f0\"", '<input id="f1"', '<select id="f2"']):
        assert f'for="f{index}"' in html and tag in html
    assert html.count('aria-invalid="true"') == 1 and 'aria-describedby="f1-error f1-hint" aria-invalid="true"' in html
    assert '<p class="error" id="f1-error">That is not a time.</p>' in html and 'value="soon-ish"' in html
    assert 'role="radiogroup" aria-labelledby="f3-label"' in html and 'type="checkbox"' in html
    assert '<option value="U1" selected>Isabel Chen (@isabel)</option>' in html and "multiple" in html
    assert 'type="date"' in html and 'type="time"' in html

    entries = [("what", "what", "Rolled back"), ("eta", "eta", ""), ("phase", "phase", "no"),
               ("facing", "facing", "yes"), ("checks", "checks", "yes"), ("checks", "checks", "no"),
               ("ic", "ic", "U1"), ("who", "who", "U1"), ("day", "day", "2026-03-02")]
    values = state_values(view, entries, tz=ZoneInfo("UTC"))
    assert values["what"]["what"] == {"type": "plain_text_input", "value": "Rolled back"}
    assert values["eta"]["eta"]["value"] is None and values["phase"]["phase"]["selected_option"]["value"] == "no"
    assert [o["value"] for o in values["checks"]["checks"]["selected_options"]] == ["yes", "no"]
    assert values["who"]["who"]["selected_users"] == ["U1"] and values["at"]["at"]["selected_time"] is None
    assert client_errors(view, values) == {"at": "Please complete this required field."}


def test_the_page_offers_the_shortcuts_the_manifest_declares() -> None:
    manifest = yaml.safe_load((Path(__file__).parents[2] / "manifest.yml").read_text())
    declared = [(s["callback_id"], s["name"]) for s in manifest["features"]["shortcuts"] if s["type"] == "message"]
    assert list(SHORTCUTS) == declared


def test_fast_mode_makes_every_minute_a_second_and_nothing_longer_than_a_minute() -> None:
    fast = playground_config(fast=True, postmortem_dir=Path("pm"))
    sev1, sev3 = fast.policy(1), fast.policy(3)
    assert (sev1.update_every, sev1.respond_within, sev1.escalation[0].after) == (
        timedelta(seconds=15), timedelta(seconds=5), timedelta(seconds=15))
    assert sev1.postmortem_within == timedelta(minutes=1) and sev3.postmortem_within is None
    assert in_seconds(IncidentConfig(archive_after="2h")).archive_after == timedelta(minutes=1)
    assert playground_config(fast=False, postmortem_dir=Path("pm")).policy(2).update_every == timedelta(minutes=30)
