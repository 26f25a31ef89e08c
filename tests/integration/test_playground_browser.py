"""The playground in a real browser: the whole incident process through the page alone.

Headless Debian Chromium driven by Playwright (never Playwright's own browser downloads),
finding everything by role and name as a person using a screen reader would. Skipped,
saying why, when /usr/bin/chromium or the playwright package is missing. Set
PLAYGROUND_SCREENSHOTS to a directory to keep the screenshots the README shows.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.playground.team import COMMANDER, COMMS_LEAD, RESPONDER
from tests.integration.test_status_browser import CHROMIUM, CHROMIUM_ARGS
from tests.playground_support import Playground, running

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)
async_api = pytest.importorskip("playwright.async_api", reason="the playwright package is not installed")
expect = async_api.expect

SCREEN = {"width": 1280, "height": 860}
PROMPT_SECONDS = 30_000
"""In fast mode a SEV-1's first update reminder comes 15 s after the declare."""
WHAT_CHANGED = "Rolled back the 14:05 deploy; error rate is falling."
KEPT = os.environ.get("PLAYGROUND_SCREENSHOTS")
KEPT_IN = Path(KEPT).absolute() if KEPT else None
"""Where to keep the screenshots, relative to where pytest was started (the test runs elsewhere)."""


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = KEPT_IN or tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def play(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Playground]:
    monkeypatch.chdir(tmp_path)
    async with running(fast=True) as started:
        yield started


@pytest.fixture
async def page(play: Playground) -> AsyncIterator[Any]:
    async with async_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        opened = await browser.new_page(viewport=SCREEN)
        errors: list[str] = []
        opened.on("pageerror", lambda error: errors.append(str(error)))
        await opened.goto(play.url + "/")
        yield opened
        await browser.close()
        assert errors == [], errors


def message(page: Any, text: str) -> Any:
    """The newest message showing `text`."""
    return page.get_by_role("listitem").filter(has_text=text).last


async def act_as(page: Any, person_id: str) -> None:
    await page.get_by_label("Acting as").select_option(person_id)


async def type_in(page: Any, text: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    await box.fill(text)
    await box.press("Enter")


async def test_the_whole_incident_process_in_the_browser(play: Playground, page: Any, shots: Path) -> None:
    channels = page.get_by_role("navigation", name="Channels")
    for name in ("#general", "#incidents", "#status"):
        await expect(channels.get_by_role("link", name=name, exact=True)).to_be_visible()
    await expect(page.get_by_label("Acting as")).to_have_value(COMMANDER.id)

    # Declare from #general.
    await channels.get_by_role("link", name="#general", exact=True).click()
    await type_in(page, "/incident declare Checkout is failing")
    declare = page.get_by_role("dialog", name="Declare an incident")
    await expect(declare.get_by_label("Title")).to_have_value("Checkout is failing")
    await declare.get_by_label("Severity").select_option("1")
    await declare.get_by_role("radiogroup", name="Customer impact").get_by_label("Yes").check()
    await declare.get_by_label("Responders").select_option([RESPONDER.id])
    await declare.get_by_role("button", name="Declare").click()
    await expect(declare).to_be_hidden()
    await expect(message(page, "declared as SEV-1").get_by_text("Only visible to you")).to_be_visible()

    # The channel appears; its pinned summary shows the incident.
    incident = channels.get_by_role("link", name=re.compile(r"^#inc-\d{8}-checkout-is-failing$"))
    await incident.click()
    summary = message(page, "Pinned")
    await expect(summary.get_by_role("heading", name="INC-1: Checkout is failing")).to_be_visible()
    await type_in(page, "/incident role comms @colm")
    await expect(message(page, "is now the Communications Lead")).to_be_visible()
    await page.screenshot(path=shots / "channel.png")

    # The IC answers the update reminder's prompt with an update.
    prompt = message(page, "time for an update")
    await prompt.get_by_role("button", name="Post update").click(timeout=PROMPT_SECONDS)
    update = page.get_by_role("dialog", name="Post an update")
    await update.get_by_label("Phase").select_option("identified")
    await update.get_by_label("What changed").fill(WHAT_CHANGED)
    await expect(update.get_by_role("radiogroup", name="Customer-facing").get_by_label("Yes")).to_be_checked()
    await page.screenshot(path=shots / "update-modal.png")
    await update.get_by_role("button", name="Post update").click()
    await expect(update).to_be_hidden()

    # The communications lead approves the status draft.
    await act_as(page, COMMS_LEAD.id)
    draft = message(page, "Status page draft")
    await expect(draft.get_by_role("button", name="Approve")).to_be_visible()
    await draft.scroll_into_view_if_needed()
    await page.screenshot(path=shots / "draft-approval.png")
    await draft.get_by_role("button", name="Approve").click()
    await expect(message(page, "Approved by")).to_be_visible()
    await channels.get_by_role("link", name="Home", exact=True).click()
    await expect(page.get_by_text("Communications Lead of INC-1")).to_be_visible()
    await page.screenshot(path=shots / "app-home.png")
    await channels.get_by_role("link", name="#status", exact=True).click()
    await expect(message(page, WHAT_CHANGED)).to_be_visible()
    status = await page.context.browser.new_page()
    await status.goto(play.url + "/status")
    await expect(status.get_by_text(WHAT_CHANGED)).to_be_visible()
    await status.close()

    # The IC resolves; the post-mortem is uploaded to the channel.
    await act_as(page, COMMANDER.id)
    await incident.click()
    await type_in(page, "/incident resolve")
    resolve = page.get_by_role("dialog", name="Resolve incident")
    await resolve.get_by_label("Summary").fill("The faulty deploy was rolled back.")
    await resolve.get_by_role("button", name="Resolve").click()
    await expect(resolve).to_be_hidden()
    postmortem = page.get_by_role("link", name=re.compile(r"[Pp]ost-mortem"))
    await expect(postmortem.last).to_be_visible()
    await message(page, ".md").get_by_text(re.compile(r"^Preview ")).click()
    await expect(message(page, ".md").get_by_text("The faulty deploy was rolled back.").first).to_be_visible()

    await channels.get_by_role("link", name="Home", exact=True).click()
    await expect(page.get_by_text("No open incidents.")).to_be_visible()
