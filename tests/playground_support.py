"""Running ``incident-bot playground`` inside a test, and reading its page the way the script does."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import aiohttp

from bot.playground.command import Options, run
from bot.playground.team import COMMANDER
from tests.support import free_port

START_SECONDS = 30.0


@dataclass
class Playground:
    """A running playground: its page's address and what it printed."""

    url: str
    out: io.StringIO
    session: aiohttp.ClientSession

    async def state(self, user_id: str = COMMANDER.id, at: str = "") -> dict[str, Any]:
        """What the page shows this person at a place (a channel id, "home", or "" for the default)."""
        query = {"as": user_id, "at": at, "seen": "-1"}
        async with self.session.get(f"{self.url}/api/state", params=query) as response:
            assert response.status == 200, await response.text()
            return dict(await response.json())

    async def act(self, what: str, user_id: str = COMMANDER.id, **body: Any) -> None:
        """POST one of the page's actions (message, action, submit, close, shortcut, reaction, home, dismiss)."""
        async with self.session.post(f"{self.url}/api/{what}", json={"as": user_id, **body}) as response:
            assert response.status == 200, f"HTTP {response.status}: {await response.text()}"

    async def until(self, look: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Poll an async look-up until it returns something truthy, and return it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = await look()
            if found:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the page never showed what the test waited for")
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def running(*, fast: bool = True, reset: bool = False, environ: Mapping[str, str] | None = None,
                  port: int | None = None) -> AsyncIterator[Playground]:
    """The playground in this process, in the working directory (make it the test's own)."""
    port = port or free_port()
    out = io.StringIO()
    started = asyncio.Event()
    loop = asyncio.get_running_loop()
    task = loop.create_task(run(Options(port=port, fast=fast, reset=reset), environ=environ or {}, out=out,
                                started=started))
    waiting = loop.create_task(started.wait())
    await asyncio.wait({task, waiting}, timeout=START_SECONDS, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if task.done():
        task.result()
    assert started.is_set(), "the playground did not start in time"
    async with aiohttp.ClientSession() as session:
        try:
            yield Playground(url=f"http://127.0.0.1:{port}", out=out, session=session)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# -- reading the page's HTML ------------------------------------------------------


class _Buttons(HTMLParser):
    """Each <button>'s attributes and text, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[dict[str, str], str]] = []
        self._open: dict[str, str] | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "button":
            self._open, self._text = {k: v or "" for k, v in attrs}, ""

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._open is not None:
            self.found.append((self._open, " ".join(self._text.split())))
            self._open = None


def button(html: str, name: str) -> dict[str, str]:
    """The attributes of the last button with this text (the newest message's, in a message list)."""
    parser = _Buttons()
    parser.feed(html)
    matching = [attrs for attrs, text in parser.found if text == name]
    assert matching, f"no button named {name!r}"
    return matching[-1]


def pressed(attrs: Mapping[str, str]) -> dict[str, Any]:
    """The action the page's script sends for a button."""
    return {"action_id": attrs["data-action"], "block_id": attrs["data-block"], "value": attrs["data-value"],
            "text": {"type": "plain_text", "text": attrs["data-label"]}}


def channel_id(state: Mapping[str, Any], name: str) -> str | None:
    """The id of a channel listed in the sidebar, by name (without #)."""
    found = re.search(rf'data-place="([CDG]\w+)"[^>]*>#{re.escape(name)}</a>', state["nav"])
    return found[1] if found else None


def incident_channel(state: Mapping[str, Any]) -> str | None:
    """The id of the first incident channel in the sidebar."""
    found = re.search(r'data-place="([CG]\w+)"[^>]*>#inc-', state["nav"])
    return found[1] if found else None


def open_view(state: Mapping[str, Any], title: str) -> str | None:
    """The id of the modal open for this person, if its title is `title`."""
    modal = state.get("modal")
    if not modal or f'<h2 id="modal-title">{title}</h2>' not in modal["html"]:
        return None
    return str(re.search(r'data-view="(V\w+)"', modal["html"])[1])  # type: ignore[index]


def message_with(state: Mapping[str, Any], text: str) -> str | None:
    """The HTML of the newest message showing `text`."""
    found = [item["html"] for item in state["items"] if text in item["html"]]
    return found[-1] if found else None


def ts_of(html: str) -> str:
    return str(re.search(r'data-ts="([\d.]+)"', html)[1])  # type: ignore[index]
