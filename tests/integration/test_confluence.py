"""The post-mortem as a Confluence page, against a local stand-in of Confluence Cloud's content API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config.settings import IncidentConfig
from bot.integrations.confluence.config import ConfluenceConfig
from tests.channel_commands import ask, kinds, timeline, wait_for_post, wait_for_summary
from tests.confluence_stub import EMAIL, TOKEN, FakeConfluence
from tests.resolving import resolve
from tests.support import ALICE, RunningBot

ENV = {"CONFLUENCE_EMAIL": EMAIL, "CONFLUENCE_API_TOKEN": TOKEN}


@pytest.fixture
async def confluence() -> AsyncIterator[FakeConfluence]:
    async with FakeConfluence(spaces=("OPS",), parents=("98304",)) as fake:
        yield fake


@pytest.fixture
def confluence_bot(make_bot: Callable[..., Any], confluence: FakeConfluence, tmp_path: Path) -> Callable[..., Any]:
    async def start(**table: Any) -> RunningBot:
        settings = {"url": f"{confluence.url}/wiki", "space": "OPS", "parent_page_id": "98304", **table}
        config = IncidentConfig(postmortem_dir=tmp_path / "postmortems", confluence=ConfluenceConfig(**settings))
        return await make_bot(config, **ENV)  # type: ignore[no-any-return]

    return start


async def published(bot: RunningBot, incident: Any, timeout: float = 10.0) -> Any:
    async def has_page() -> bool:
        return (await bot.incident(incident.id)).postmortem_page_id is not None

    await bot.wait_until(has_page, timeout=timeout)
    return await bot.incident(incident.id)


async def test_resolving_publishes_the_postmortem_page_beside_the_upload(
    confluence_bot: Callable[..., Any], confluence: FakeConfluence
) -> None:
    bot = await confluence_bot()
    incident = await bot.declare("Checkout 500s")
    incident = await resolve(bot, incident, summary="Rolled back <ac:structured-macro ac:name=\"html\"/>")
    incident = await published(bot, incident)

    page = confluence.page_titled(f"Post-mortem {incident.reference}: Checkout 500s")
    assert page is not None and page.space == "OPS" and page.ancestors == ["98304"] and page.version == 1
    assert incident.postmortem_page_id == page.id and incident.postmortem_page_url.startswith(f"{confluence.url}/wiki/")
    assert "<h1>Post-mortem: " in page.body and "<table>" in page.body
    assert "<ac:structured-macro" not in page.body and "&lt;ac:structured-macro" in page.body
    assert bot.slack.calls_to("files.completeUploadExternal"), "the Markdown upload stays"
    await wait_for_post(bot, incident.channel_id, "is published in Confluence: <")
    await wait_for_summary(bot, incident, f"*Post-mortem:* <{incident.postmortem_page_url}|Confluence page>")
    assert any(e.kind == "postmortem_page" and incident.postmortem_page_url in e.text
               for e in await timeline(bot, incident))
    created = next(c for c in confluence.calls if c.method == "POST")
    assert created.body["body"]["storage"]["representation"] == "storage"


async def test_postmortem_command_updates_the_same_page(
    confluence_bot: Callable[..., Any], confluence: FakeConfluence
) -> None:
    bot = await confluence_bot()
    incident = await resolve(bot, await bot.declare("Queue stuck"))
    incident = await published(bot, incident)
    await ask(bot, "postmortem", incident.channel_id, user=ALICE)
    await wait_for_post(bot, incident.channel_id, "is updated in Confluence")
    pages = [p for p in confluence.pages.values() if p.title.startswith("Post-mortem ")]
    assert len(pages) == 1 and pages[0].version == 2 and pages[0].id == incident.postmortem_page_id
    [update] = confluence.writes("PUT")
    assert update.body["version"] == {"number": 2}


async def test_an_outage_is_retried_and_a_page_is_never_doubled(
    confluence_bot: Callable[..., Any], confluence: FakeConfluence
) -> None:
    bot = await confluence_bot()
    incident = await bot.declare("Login loop")
    confluence.fail_next(2, status=503)
    incident = await published(bot, await resolve(bot, incident), timeout=15)
    assert len([p for p in confluence.pages.values() if p.title.startswith("Post-mortem ")]) == 1


async def test_a_refusal_is_on_the_timeline_and_told_to_the_person(confluence_bot: Callable[..., Any]) -> None:
    bot = await confluence_bot(space="NOPE")
    incident = await resolve(bot, await bot.declare("Clock skew"))

    async def failed() -> bool:
        return "work_failed" in await kinds(bot, incident)

    await bot.wait_until(failed)
    entry = next(e for e in await timeline(bot, incident) if e.kind == "work_failed")
    assert "Confluence refused creating the post-mortem page: No space with key : NOPE (HTTP 404)" in entry.text
    await bot.wait_until(lambda: any("Publishing the post-mortem to Confluence" in e.text
                                     for e in bot.slack.ephemerals_for(ALICE)))
