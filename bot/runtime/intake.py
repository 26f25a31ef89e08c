"""Acknowledge at the door, work afterwards: one way in for Slack's requests, whatever the transport.

Slack gives an app 3 seconds to acknowledge, and in a big outage many people
type commands and press buttons at once. If each request's work (database
reads, Block Kit, Web API calls) ran before later requests were even read,
acks would queue behind it. So slash commands, button presses, shortcuts,
closed modals and events are acknowledged as soon as they arrive, with an
empty ack, before Bolt sees them; the app then runs each one to the end.
Replies that would have gone in the ack go to the request's ``response_url``.

Modal submissions, options requests and Slack's URL and SSL checks carry their
answer in the ack (field errors, options, the challenge), so the app answers
them straight away with what the listener acked; a submitted form's remaining
work runs afterwards as acknowledged work (:meth:`BotContext.after_ack`).

Both transports come through :meth:`Intake.receive`: the HTTP endpoint
(:mod:`bot.runtime.server`) once the signature checks out, and the Socket Mode
connection (:mod:`bot.runtime.socket_mode`) for each envelope. There is one
Bolt app, which always runs a listener to the end before returning
(``process_before_response``), so every piece of work is awaited somewhere a
graceful stop can wait for.

Work starts in arrival order, one request per turn of the event loop, so the
requests of a burst are read and acked before their work piles up.
"""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.request.payload_utils import (
    is_block_actions,
    is_event,
    is_shortcut,
    is_slash_command,
    is_view_closed,
)
from slack_bolt.response import BoltResponse

from bot.context import BotContext

log = logging.getLogger(__name__)


def acks_early(request: AsyncBoltRequest) -> bool:
    """True for the requests whose ack carries nothing Slack shows or uses."""
    body = request.body
    return any(check(body) for check in (is_slash_command, is_block_actions, is_shortcut, is_view_closed, is_event))


class Intake:
    """Acks what it can at once and feeds it to the app in order; the rest the app answers.

    Each early-acked request's work runs as the context's acknowledged work
    (:meth:`BotContext.after_ack`), like a submitted form's, so one place
    counts it and a graceful stop waits for all of it.
    """

    def __init__(self, app: AsyncApp, ctx: BotContext) -> None:
        self.app = app
        self._ctx = ctx
        self._queue: asyncio.Queue[AsyncBoltRequest] = asyncio.Queue()
        self._feeder: asyncio.Task[None] | None = None

    async def receive(self, request: AsyncBoltRequest) -> BoltResponse:
        """The ack for a request Slack sent us; the caller sends it back over its transport.

        Nothing is awaited before an early ack: the request is queued and the
        empty ack returned in the same step.
        """
        if acks_early(request):
            self._queue.put_nowait(request)
            return BoltResponse(status=200, body="")
        return await self.app.async_dispatch(request)

    @property
    def queued(self) -> int:
        """Requests acknowledged and not yet started."""
        return self._queue.qsize()

    def start(self) -> None:
        self._feeder = asyncio.get_running_loop().create_task(self._feed(), name="slack-intake")

    async def _feed(self) -> None:
        while True:
            request = await self._queue.get()
            # One start per loop turn: requests that arrived meanwhile are read and acked first.
            await asyncio.sleep(0)
            self._ctx.after_ack(self._work(request), name="slack-request")

    async def _work(self, request: AsyncBoltRequest) -> None:
        try:
            await self.app.async_dispatch(request)
        except Exception:  # noqa: BLE001 - Bolt's error handler has told the user; keep serving
            log.exception("an acknowledged Slack request failed")
        finally:
            self._queue.task_done()

    async def finish(self) -> None:
        """Wait until every queued request has been worked on (graceful stop)."""
        await self._queue.join()

    async def stop(self) -> None:
        """Stop feeding the app."""
        if self._feeder is not None:
            self._feeder.cancel()
            await asyncio.gather(self._feeder, return_exceptions=True)
