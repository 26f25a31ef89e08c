"""The post-mortem document: generated at resolve, uploaded, saved, regenerated on request."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.config.settings import IncidentConfig
from bot.resolution.postmortem import filename_for
from storage import queries
from tests.reminding import field_errors, opened_modal, submit_update
from tests.resolving import resolve
from tests.support import ALICE, BOB, CAROL, RunningBot

pytestmark = pytest.mark.asyncio

SECTIONS = [
    "# Post-mortem: INC-",
    "## Summary",
    "## Impact",
    "## Root cause",
    "### Five whys",
    "## Contributing factors",
    "## Response metrics",
    "## Roles",
    "## Severity and phase changes",
    "## Status updates",
    "## Action items",
    "## Timeline",
    "## Lessons learned",
]


@pytest.fixture
def bot_config(tmp_path: Path) -> IncidentConfig:
    return IncidentConfig(postmortem_dir=tmp_path / "postmortems", timezone="Europe/Berlin")


def uploaded(bot: RunningBot, channel_id: str) -> list[str]:
    """The Markdown documents shared in a channel, oldest first."""
    found = []
    for message in bot.slack.messages_in(channel_id):
        for file in message.files:
            content = bot.slack.files[file["id"]].content
            assert content is not None
            found.append(content.decode())
    return found


async def command(bot: RunningBot, text: str, channel_id: str, *, user: str = ALICE) -> None:
    """Run a subcommand and wait until its work is visible in the timeline."""
    async with bot.ctx.db.session() as session:
        incident = await queries.incident_by_channel(session=session, channel_id=channel_id)
        before = len(await queries.timeline(session=session, incident_id=incident.id))
    await bot.requests.command(text, user_id=user, channel_id=channel_id)

    async def logged() -> bool:
        async with bot.ctx.db.session() as session:
            return len(await queries.timeline(session=session, incident_id=incident.id)) > before

    await bot.wait_until(logged)


async def test_the_document_has_every_section_and_what_happened(bot: RunningBot, tmp_path: Path) -> None:
    incident = await bot.declare("Payments failing", severity=3, responders=[BOB], customer_impact=True,
                                 services="payments", description="Card payments | declined")
    channel = incident.channel_id
    await command(bot, "sev 1", channel)
    await command(bot, "status identified", channel)
    await command(bot, f"role tech <@{BOB}>", channel)
    await command(bot, f"ic <@{CAROL}>", channel)
    await command(bot, "note Rolled back the payment gateway", channel)
    opened_before = len(bot.slack.calls_to("views.open"))
    await bot.requests.command("update", user_id=ALICE, channel_id=channel)
    opened = await opened_modal(bot, opened_before)
    assert not field_errors(await submit_update(bot, opened, phase="monitoring", what="Declines back to normal",
                                                next_steps="Watch for an hour", eta="1h"))
    await bot.wait_until(lambda: _phase_is(bot, incident.id, "monitoring"))
    due = (date.today() + timedelta(days=7)).isoformat()
    await command(bot, f"action Add an alert on declines <@{BOB}> due {due}", channel)
    await resolve(bot, incident, summary="Gateway rolled back", root_cause="An expired certificate")

    documents = uploaded(bot, channel)
    assert len(documents) == 1
    document = documents[0]
    positions = [document.index(section) for section in SECTIONS]
    assert positions == sorted(positions), "sections in the template's order"
    for fact in ["Payments failing", "SEV-1", "Gateway rolled back", "An expired certificate",
                 "Add an alert on declines", "@bob", "@carol", due, "Technical Lead", "Incident Commander",
                 "from investigating to identified", "Rolled back the payment gateway",
                 "Declines back to normal", "Watch for an hour", ": Monitoring",
                 "Time to acknowledge", "Time to resolve", "Europe/Berlin", "payments",
                 "Card payments \\| declined"]:
        assert fact in document, fact
    assert "<@" not in document, "mentions are written as names"

    saved = tmp_path / "postmortems" / filename_for(bot.ctx, await bot.incident(incident.id))
    assert saved.name.endswith("-payments-failing.md") and saved.name[:4].isdigit()
    assert saved.read_text() == document
    share = next(m for m in bot.slack.messages_in(channel) if m.files)
    assert share.files[0]["name"] == saved.name
    assert "Post-mortem" in share.text


async def _phase_is(bot: RunningBot, incident_id: int, phase: str) -> bool:
    return (await bot.incident(incident_id)).phase.value == phase


async def test_postmortem_command_regenerates_and_replies(bot: RunningBot) -> None:
    incident = await bot.declare("Slow search")
    await resolve(bot, incident)
    await command(bot, f"action Tune the index <@{BOB}>", incident.channel_id)
    url = bot.slack.new_response_url()
    await bot.requests.command("postmortem", user_id=BOB, channel_id=incident.channel_id, response_url=url)
    reply = await bot.slack.wait_for_response(url)
    assert "regenerated" in reply[0]["text"] and "Saved as" in reply[0]["text"]
    documents = uploaded(bot, incident.channel_id)
    assert len(documents) == 2 and "Tune the index" in documents[1]


async def test_postmortem_of_an_open_incident_is_refused(bot: RunningBot) -> None:
    incident = await bot.declare("Still burning")
    url = bot.slack.new_response_url()
    await bot.requests.command("postmortem", user_id=ALICE, channel_id=incident.channel_id, response_url=url)
    reply = await bot.slack.wait_for_response(url)
    assert "still open" in reply[0]["text"]
    assert bot.slack.calls_to("files.getUploadURLExternal") == []


async def test_an_unwritable_directory_is_told_to_the_ic_and_the_upload_still_made(make_bot, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    bot = await make_bot(IncidentConfig(postmortem_dir=blocker / "postmortems"))
    incident = await bot.declare("Disk trouble", commander=CAROL)
    await resolve(bot, incident)
    assert len(uploaded(bot, incident.channel_id)) == 1
    await bot.wait_until(lambda: bot.slack.ephemerals_for(CAROL))
    warning = bot.slack.ephemerals_for(CAROL)[-1].text
    assert "not saved to disk" in warning and "postmortem_dir" in warning
    async with bot.ctx.db.session() as session:
        events = await queries.timeline(session=session, incident_id=incident.id)
    generated = [e for e in events if e.kind == "postmortem_generated"]
    assert generated and generated[0].data["write_error"]


async def test_a_failed_upload_is_told_to_the_ic_and_the_file_still_saved(bot: RunningBot, tmp_path: Path) -> None:
    incident = await bot.declare("Upload trouble", commander=BOB, responders=[BOB])
    bot.slack.fail_next("files.completeUploadExternal", "not_in_channel")
    await resolve(bot, incident, wait=False)
    await bot.wait_until(lambda: bot.slack.ephemerals_for(BOB))
    assert "could not be uploaded" in bot.slack.ephemerals_for(BOB)[-1].text
    saved = tmp_path / "postmortems" / filename_for(bot.ctx, await bot.incident(incident.id))
    assert saved.exists() and "# Post-mortem: INC-" in saved.read_text()
