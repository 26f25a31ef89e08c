"""The status page in a real browser: headless Debian Chromium driven by Playwright.

Needs ``/usr/bin/chromium`` (Debian's ``chromium`` package) and the
``playwright`` Python package; Playwright's own browser downloads are never
used. Skipped, saying why, when either is missing.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from storage.models import DraftState, Phase, utcnow
from tests.draft_support import add_draft, add_incident
from tests.support import RunningBot

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 375, "height": 740}

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
async_api = pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The page is the same whatever the database; one run on SQLite is enough here."""
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with async_api.async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


async def test_status_page_in_chromium_on_a_phone(bot: RunningBot, browser: Any) -> None:
    incident_id = await add_incident(bot, "<script>alert('title')</script> Checkout errors")
    await add_draft(bot, incident_id, "We are investigating failed payments.",
                    published_at=utcnow() - timedelta(minutes=20))
    await add_draft(bot, incident_id, "Cause found; see https://example.com/" + "very-long-path-" * 12,
                    phase=Phase.IDENTIFIED)
    await add_draft(bot, incident_id, "PENDING draft nobody approved", phase=Phase.MONITORING,
                    state=DraftState.PENDING)
    await add_draft(bot, incident_id, "REJECTED draft text", phase=Phase.MONITORING, state=DraftState.REJECTED)

    page = await browser.new_page(viewport=PHONE)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    response = await page.goto(bot.url + "/status")
    assert response is not None and response.status == 200

    body = await page.inner_text("body")
    assert "1 ongoing incident" in body
    assert "We are investigating failed payments." in body and "Cause found" in body
    assert "PENDING draft" not in body and "REJECTED draft" not in body
    # The title is shown as text, and nothing in it ran.
    assert await page.get_by_text("<script>alert('title')</script> Checkout errors").is_visible()
    assert dialogs == []
    assert await page.evaluate("document.querySelectorAll('script').length") == 0

    # Readable at phone width: no horizontal scrolling, body text not shrunk.
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    size = await page.evaluate("parseFloat(getComputedStyle(document.querySelector('.text')).fontSize)")
    assert size >= 14
    assert await page.title() == "Ongoing incident · Status"


async def test_all_clear_in_chromium(bot: RunningBot, browser: Any) -> None:
    page = await browser.new_page(viewport=PHONE)
    await page.goto(bot.url + "/status")
    assert await page.get_by_role("status").inner_text() == "All systems operational"
    assert await page.title() == "All systems operational · Status"
