"""Acknowledge at the door, work afterwards: the Slack requests whose ack says only "received".

Slack gives an app 3 seconds to acknowledge, and in a big outage many people
type commands and press buttons at once. If each request's work (database
reads, Block Kit, Web API calls) ran before later requests were even read,
acks would queue behind it. So slash commands, button presses, shortcuts,
closed modals and events are verified and answered ``200`` here, before Bolt
sees them; the worker app then runs each one to the end. Replies that would
have gone in the ack body go to the request's ``response_url`` instead.

Modal submissions, options requests and Slack's URL and SSL checks carry their
answer in the ack (field errors, options, the challenge), so they are not taken
here: the HTTP endpoint hands them to Bolt as before.

Work starts in arrival order, one request per turn of the event loop, so a
burst's work never holds back the acks of requests that arrive meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.request.payload_utils import (
    is_block_actions,
    is_event,
    is_shortcut,
    is_slash_command,
    is_view_closed,
)
from slack_sdk.signature import SignatureVerifier

log = logging.getLogger(__name__)

DRAIN_SECONDS = 20.0
"""On a graceful stop, how long acknowledged requests may take to finish."""


def acks_early(request: AsyncBoltRequest) -> bool:
    """True for the requests whose ack carries nothing Slack shows or uses."""
    body = request.body
    return any(check(body) for check in (is_slash_command, is_block_actions, is_shortcut, is_view_closed, is_event))


class Intake:
    """Verifies and queues early-acked requests, and feeds them to the worker app in order."""

    def __init__(self, worker: AsyncApp, *, signing_secret: str) -> None:
        self.worker = worker
        self._verifier = SignatureVerifier(signing_secret)
        self._queue: asyncio.Queue[AsyncBoltRequest] = asyncio.Queue()
        self._working: set[asyncio.Task[None]] = set()
        self._feeder: asyncio.Task[None] | None = None

    def verified(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Slack's signature and a fresh timestamp; the worker app relies on this check."""
        return self._verifier.is_valid_request(body, dict(headers))

    def accept(self, request: AsyncBoltRequest) -> None:
        """Queue a verified request; the caller acks it straight away."""
        self._queue.put_nowait(request)

    @property
    def waiting(self) -> int:
        """Requests acknowledged and not yet finished."""
        return self._queue.qsize() + len(self._working)

    def start(self) -> None:
        self._feeder = asyncio.get_running_loop().create_task(self._feed(), name="slack-intake")

    async def _feed(self) -> None:
        while True:
            request = await self._queue.get()
            # One start per loop turn: requests that arrived meanwhile are read and acked first.
            await asyncio.sleep(0)
            task = asyncio.get_running_loop().create_task(self._work(request), name="slack-request")
            self._working.add(task)
            task.add_done_callback(self._working.discard)

    async def _work(self, request: AsyncBoltRequest) -> None:
        try:
            response = await self.worker.async_dispatch(request)
            if response.status == 404:
                log.warning("no listener for an acknowledged Slack request: %s", request.body.get("type")
                            or request.body.get("command"))
        except Exception:  # noqa: BLE001 - Bolt's error handler has told the user; keep serving
            log.exception("an acknowledged Slack request failed")
        finally:
            self._queue.task_done()

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Finish what was acknowledged (graceful stop), then stop feeding."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            log.warning("stopping with %d acknowledged Slack request(s) unfinished", self.waiting)
        if self._feeder is not None:
            self._feeder.cancel()
            await asyncio.gather(self._feeder, return_exceptions=True)
        for task in list(self._working):
            task.cancel()
        await asyncio.gather(*self._working, return_exceptions=True)
