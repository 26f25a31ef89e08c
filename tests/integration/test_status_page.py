"""The public status page, its JSON and its Atom feed: approved updates of public incidents only."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

from bot.config.settings import IncidentConfig
from bot.config.render import Renderer
from bot.status.public_page import iso
from storage.models import DraftState, Phase, utcnow
from tests.draft_support import add_draft, add_incident, get
from tests.support import RunningBot

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$")


async def test_all_clear_when_nothing_is_published(bot: RunningBot) -> None:
    page = await get(bot, "/status")
    assert page.status_code == 200 and "All systems operational" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert (await get(bot, "/status.json")).json() == {"incidents": []}
    feed = ET.fromstring((await get(bot, "/status/feed.atom")).text)
    assert feed.tag == f"{ATOM}feed" and feed.findall(f"{ATOM}entry") == []


async def test_only_approved_updates_of_public_incidents_appear(bot: RunningBot) -> None:
    shown = await add_incident(bot, "Checkout errors")
    await add_draft(bot, shown, "APPROVED-ONE", published_at=utcnow() - timedelta(minutes=30))
    await add_draft(bot, shown, "APPROVED-TWO", phase=Phase.IDENTIFIED, state=DraftState.APPROVED)
    for state in (DraftState.PENDING, DraftState.REJECTED, DraftState.SUPERSEDED):
        await add_draft(bot, shown, f"HIDDEN-{state.value}", phase=Phase.MONITORING, state=state)
    await add_draft(bot, await add_incident(bot, "Secret breach", private=True), "HIDDEN-private")
    await add_draft(bot, await add_incident(bot, "Game day", drill=True), "HIDDEN-drill")
    await add_incident(bot, "Internal only, nothing approved")

    page, data, feed = (await get(bot, "/status")).text, (await get(bot, "/status.json")).json(), \
        (await get(bot, "/status/feed.atom")).text
    for body in (page, str(data), feed):
        assert "APPROVED-ONE" in body and "APPROVED-TWO" in body
        assert "HIDDEN" not in body and "Secret breach" not in body and "Game day" not in body
        assert "Internal only" not in body
    assert "1 ongoing incident" in page
    [incident] = data["incidents"]
    assert incident["phase"] == "identified" and incident["severity"] == "SEV-2"
    assert incident["resolved_at"] is None
    assert [u["text"] for u in incident["updates"]] == ["APPROVED-TWO", "APPROVED-ONE"]
    assert set(incident) == {"title", "severity", "phase", "started_at", "resolved_at", "updates"}
    for moment in [incident["started_at"], *(u["published_at"] for u in incident["updates"])]:
        assert moment.endswith("Z") and datetime.fromisoformat(moment)


async def test_the_public_phase_is_the_latest_approved_one(bot: RunningBot) -> None:
    incident_id = await add_incident(bot, "Search slow", resolved_at=utcnow())
    await add_draft(bot, incident_id, "Looking into it.", published_at=utcnow() - timedelta(minutes=5))
    await add_draft(bot, incident_id, "All good now.", phase=Phase.RESOLVED, state=DraftState.PENDING)
    [incident] = (await get(bot, "/status.json")).json()["incidents"]
    assert incident["phase"] == "investigating" and incident["resolved_at"] is None
    assert "ongoing" in (await get(bot, "/status")).text


async def test_resolved_incidents_stay_a_week(bot: RunningBot) -> None:
    recent = await add_incident(bot, "Recent outage", resolved_at=utcnow() - timedelta(days=2))
    resolved_at = utcnow() - timedelta(days=2)
    await add_draft(bot, recent, "Fixed.", phase=Phase.RESOLVED, published_at=resolved_at)
    old = await add_incident(bot, "Old outage", declared_at=utcnow() - timedelta(days=9),
                             resolved_at=utcnow() - timedelta(days=8))
    await add_draft(bot, old, "Fixed long ago.", phase=Phase.RESOLVED, published_at=utcnow() - timedelta(days=8))
    [shown] = (await get(bot, "/status.json")).json()["incidents"]
    assert shown["title"] == "Recent outage" and shown["phase"] == "resolved"
    assert shown["resolved_at"] == iso(resolved_at)
    page = (await get(bot, "/status")).text
    assert "All systems operational" in page and "Resolved in the last 7 days" in page
    assert "Old outage" not in page


async def test_the_feed_is_valid_atom(bot: RunningBot) -> None:
    incident_id = await add_incident(bot, "Payments <down> & out")
    first = await add_draft(bot, incident_id, "We are investigating.", published_at=utcnow() - timedelta(minutes=9))
    second = await add_draft(bot, incident_id, "Cause found: <script>x</script>", phase=Phase.IDENTIFIED)
    response = await get(bot, "/status/feed.atom")
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.text)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    assert RFC3339.match(feed.findtext(f"{ATOM}updated") or "")
    self_link = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link and self_link[0].get("href", "").endswith("/status/feed.atom")
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id", "").rsplit("-", 1)[-1] for e in entries] == [str(second), str(first)]
    for entry in entries:
        for required in ("id", "title", "updated", "content"):
            assert entry.find(f"{ATOM}{required}") is not None, required
        assert RFC3339.match(entry.findtext(f"{ATOM}updated") or "")
    assert entries[0].findtext(f"{ATOM}title") == "Payments <down> & out: Identified"
    assert entries[0].findtext(f"{ATOM}content") == "Cause found: <script>x</script>"
    assert len({e.findtext(f"{ATOM}id") for e in entries}) == len(entries)


async def test_html_escapes_titles_and_text(bot: RunningBot) -> None:
    incident_id = await add_incident(bot, "<script>alert(1)</script> outage")
    await add_draft(bot, incident_id, 'Text with <img src=x onerror="alert(2)"> & more')
    page = (await get(bot, "/status")).text
    assert "<script>alert" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; outage" in page
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt; &amp; more" in page


async def test_times_on_the_page_use_the_configured_zone(make_bot: object) -> None:
    bot: RunningBot = await make_bot(IncidentConfig(timezone="Europe/Berlin"))  # type: ignore[operator]
    incident_id = await add_incident(bot, "Berlin time")
    await add_draft(bot, incident_id, "Investigating.")
    page = (await get(bot, "/status")).text
    assert "Europe/Berlin" in page and re.search(r"\d\d:\d\d CES?T", page)


def test_every_status_template_renders() -> None:
    """The page and feed templates render with an empty view (every template is rendered in a test)."""
    from bot.status.public_page import StatusView

    renderer = Renderer(timezone=IncidentConfig().tz)
    view = StatusView(incidents=[], generated_at=utcnow())
    assert "All systems operational" in renderer.html("status.html", view=view, feed_url="/f", json_url="/j")
    ET.fromstring(renderer.html("status.atom", view=view, entries=[], page_url="http://x/status",
                                self_url="http://x/status/feed.atom", iso=iso))
