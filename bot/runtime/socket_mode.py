"""The Socket Mode side: Slack's requests over a WebSocket, through the same intake as HTTP.

slack-sdk's ``SocketModeClient`` asks for a WebSocket URL with the app-level
token (``apps.connections.open``), keeps the connection alive, reconnects when
Slack asks for a refresh, and hands over each envelope. Each envelope goes
through the intake (:mod:`bot.runtime.intake`) like a verified HTTP request,
and the intake's ack goes back over the socket: an empty ack for the kinds
acknowledged at the door, the listener's answer for modal submissions and
options.

Stopping closes the door first: envelopes that arrive afterwards are not
acknowledged, so Slack delivers them again (to another connection, or later),
while those already being answered get their ack before the socket closes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import build_headers
from slack_bolt.async_app import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime.intake import Intake

log = logging.getLogger(__name__)

PING_SECONDS = 10.0
"""How often the client pings Slack to notice a dead connection (Bolt's own default)."""
ACK_SECONDS = 3.0
"""Slack's limit for an ack: on stop, no envelope being answered is waited for longer."""


class AppTokenRefused(Exception):
    """Slack would not open a Socket Mode connection with the app-level token."""

    def __init__(self, error: str) -> None:
        super().__init__(f"apps.connections.open failed: {error}")
        self.error = error


class SocketModeConnection:
    """One app-level connection to Slack, feeding every envelope to the intake."""

    def __init__(self, intake: Intake, *, app_token: str, web_client: AsyncWebClient) -> None:
        self._intake = intake
        self._app_token = app_token
        self._web_client = web_client
        self._client: SocketModeClient | None = None
        self._answering: set[asyncio.Task[Any]] = set()
        self._closing = False

    async def connect(self) -> None:
        """Open the connection; from then on slack-sdk keeps it open.

        The first URL is asked for here, so a refused token stops start-up
        instead of being retried for ever in the background.
        """
        client = SocketModeClient(
            app_token=self._app_token, web_client=self._web_client, logger=log, ping_interval=PING_SECONDS,
        )
        client.socket_mode_request_listeners.append(self._on_envelope)  # type: ignore[arg-type]
        self._client = client
        try:
            client.wss_uri = await client.issue_new_wss_url()
        except SlackApiError as exc:
            raise AppTokenRefused(str(exc.response.get("error", "unknown_error"))) from exc
        await client.connect()

    async def _on_envelope(self, client: AsyncBaseSocketModeClient, envelope: SocketModeRequest) -> None:
        """Ack one envelope with what the intake answers (slack-sdk runs each in its own task)."""
        task = asyncio.current_task()
        if self._closing or task is None:
            return  # left unacknowledged: Slack delivers it again
        self._answering.add(task)
        try:
            started = time.time()
            request = AsyncBoltRequest(mode="socket_mode", body=envelope.payload, headers=build_headers(envelope))
            await send_async_response(client, envelope, await self._intake.receive(request), started)
        finally:
            self._answering.discard(task)

    async def close(self) -> None:
        """Take no more envelopes, send the acks still being worked out, then close the socket."""
        self._closing = True
        if self._answering:
            await asyncio.wait(list(self._answering), timeout=ACK_SECONDS)
        if self._client is not None:
            await self._client.close()
            self._client = None
