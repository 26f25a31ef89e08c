"""FakeSocketMode: Slack's side of Socket Mode, served by the local Slack.

`apps.connections.open` (called with the app-level token) hands out a `ws://` URL
on the local Slack's server carrying a one-use ticket. A connection to it gets
`hello`, then envelopes (`envelope_id`, `type` = `slash_commands`, `interactive`
or `events_api`, `payload`, `accepts_response_payload`), each of which the app
acknowledges by sending back `{"envelope_id", "payload"?}`. `disconnect` with
reason `refresh_requested` asks the app to open a new connection, as Slack does
from time to time; envelopes then go to the newest connection.

An envelope Slack does not see acknowledged within 3 seconds has failed (the
person sees an error, an event is delivered again later); :meth:`deliver`
raises :class:`NotAcknowledged` then.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from .state import Workspace

LINK_PATH = "/link/"
ACK_SECONDS = 3.0
"""Slack's limit for acknowledging an envelope."""
CONNECT_SECONDS = 5.0
"""How long an envelope waits for the app to be connected before it is given up."""
POLL_SECONDS = 0.01


def link_url(base_url: str, *, ticket: str, app_id: str) -> str:
    """The WebSocket URL for a ticket, on the server at `base_url` (`http://…` becomes `ws://…`)."""
    return f"{base_url.replace('http', 'ws', 1)}{LINK_PATH}?ticket={ticket}&app_id={app_id}"


class NotAcknowledged(AssertionError):
    """The app did not acknowledge an envelope in time (or was not connected to receive it)."""


@dataclass(frozen=True)
class Ack:
    """What the app sent back for one envelope."""

    envelope_id: str
    payload: dict[str, Any] | None
    after: float
    """Seconds between sending the envelope and receiving its ack."""


@dataclass
class Connection:
    """One WebSocket the app opened."""

    socket: web.WebSocketResponse
    refreshing: bool = False
    """Told to reconnect: no new envelopes go here."""

    @property
    def open(self) -> bool:
        return not self.socket.closed


class FakeSocketMode:
    """The Socket Mode endpoint of the local Slack; see the module docstring."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self.connections: list[Connection] = []
        """Every connection the app opened, oldest first (closed ones included)."""
        self.envelopes: list[dict[str, Any]] = []
        """Every envelope sent, oldest first."""
        self.acks: dict[str, Ack] = {}
        self._waiting: dict[str, tuple[float, asyncio.Future[Ack]]] = {}

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(LINK_PATH, self._handle_link)

    async def close(self) -> None:
        """Close every open connection (the server is stopping)."""
        for connection in self.connections:
            if connection.open:
                await connection.socket.close()

    # the app's side ---------------------------------------------------------

    async def _handle_link(self, request: web.Request) -> web.StreamResponse:
        """Accept a connection with a ticket from apps.connections.open, greet it, read its acks."""
        ticket = request.query.get("ticket", "")
        if ticket not in self._workspace.socket_tickets:
            return web.Response(status=401, text="invalid or used ticket")
        self._workspace.socket_tickets.discard(ticket)
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        connection = Connection(socket=socket)
        self.connections.append(connection)
        await socket.send_json(self._hello())
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                self._receive(message.data)
        return socket

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": len(self.open_connections),
            "debug_info": {"host": "applink-local", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self._workspace.app_id},
        }

    def _receive(self, text: str) -> None:
        """An ack: `{"envelope_id", "payload"?}`; anything else means nothing to Slack."""
        try:
            message = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        envelope_id = message.get("envelope_id")
        waiting = self._waiting.pop(str(envelope_id), None)
        if waiting is None:
            return
        sent_at, future = waiting
        ack = Ack(str(envelope_id), message.get("payload"), _now() - sent_at)
        self.acks[ack.envelope_id] = ack
        if not future.done():
            future.set_result(ack)

    # Slack's side -----------------------------------------------------------

    @property
    def open_connections(self) -> list[Connection]:
        return [c for c in self.connections if c.open]

    async def wait_for_connections(self, count: int = 1, timeout: float = CONNECT_SECONDS) -> None:
        """Wait until the app has opened `count` connections in all (reconnections count) and the last is open."""
        deadline = _now() + timeout
        while len(self.connections) < count or not self.connections[-1].open:
            if _now() > deadline:
                raise AssertionError(f"expected {count} Socket Mode connection(s), got {len(self.connections)}")
            await asyncio.sleep(POLL_SECONDS)

    async def deliver(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = False,
        timeout: float = ACK_SECONDS,
    ) -> Ack:
        """Send one envelope over the newest connection and wait for its ack (a first delivery, not a retry)."""
        connection = await self._ready_connection()
        envelope: dict[str, Any] = {
            "envelope_id": str(uuid.uuid4()),
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._waiting[envelope["envelope_id"]] = (_now(), future)
        self.envelopes.append(envelope)
        await connection.socket.send_json(envelope)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self._waiting.pop(envelope["envelope_id"], None)
            raise NotAcknowledged(f"{kind} envelope not acknowledged within {timeout}s: {_short(payload)}") from None

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the app to reconnect; envelopes go to its next connection from then on."""
        connection = await self._ready_connection()
        connection.refreshing = True
        await connection.socket.send_json({"type": "disconnect", "reason": reason,
                                           "debug_info": {"host": "applink-local"}})

    async def _ready_connection(self) -> Connection:
        """The newest open connection not asked to refresh, waiting for the app if need be."""
        deadline = _now() + CONNECT_SECONDS
        while True:
            ready = [c for c in self.open_connections if not c.refreshing]
            if ready:
                return ready[-1]
            if _now() > deadline:
                raise NotAcknowledged("the app has no Socket Mode connection open")
            await asyncio.sleep(POLL_SECONDS)


def _now() -> float:
    """Real time on the running loop: waits must end even when the workspace's clock is a test's."""
    return asyncio.get_running_loop().time()


def _short(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, default=str)
    return text if len(text) <= 200 else text[:197] + "..."
