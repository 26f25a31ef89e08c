"""The one place where failures become messages for people.

Domain errors carry a message written for the user and go back ephemerally
through the request's response_url; anything else is logged with its stack
and the user gets a short apology instead of silence.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.slack import messages
from bot.context import BotContext
from bot.errors import IncidentError
from bot.slack.gateway import SlackCallFailed

log = logging.getLogger(__name__)

ACK_GRACE_SECONDS = 0.05
"""Bolt's runner polls every 10 ms for a listener's ack, and once this handler returns
it clears the ack of a listener that failed after acknowledging. A listener that acks
and fails within one poll would then be answered 404; waiting a few polls first lets
Bolt send the ack it already has. This happens in Socket Mode, where commands and
button presses go through the app that answers Slack itself; over HTTP they are acked
at the door (:mod:`bot.runtime.intake`) and Bolt always passes a response here."""


def _response_url(body: dict[str, Any]) -> str | None:
    if body.get("response_url"):
        return str(body["response_url"])
    urls = body.get("response_urls") or []
    return str(urls[0]["response_url"]) if urls else None


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.error
    async def on_error(error: Exception, body: dict[str, Any], response: BoltResponse | None) -> None:
        if response is None:  # Bolt passes None when the listener had acknowledged before failing
            await asyncio.sleep(ACK_GRACE_SECONDS)
        if isinstance(error, IncidentError):
            text = messages.error(ctx, error.message)
        elif isinstance(error, SlackCallFailed):
            log.warning("Slack call failed: %s", error)
            text = messages.error(
                ctx, f"Slack refused a call ({error.method}: {error.error}). Try again; if it keeps failing, "
                "tell an operator.")
        else:
            log.exception("unhandled error in a Slack listener", exc_info=error)
            text = messages.error(ctx, "Something went wrong on our side; it has been logged. Try again.")
        url = _response_url(body)
        if url:
            await ctx.slack.respond(url, text=text)
