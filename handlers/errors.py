"""The one place where failures become messages for people.

Domain errors carry a message written for the user and go back ephemerally
through the request's response_url; anything else is logged with its stack
and the user gets a short apology instead of silence.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.slack import messages
from bot.context import BotContext
from bot.errors import IncidentError, SlackCallFailed

log = logging.getLogger(__name__)


def _response_url(body: dict[str, Any]) -> str | None:
    if body.get("response_url"):
        return str(body["response_url"])
    urls = body.get("response_urls") or []
    return str(urls[0]["response_url"]) if urls else None


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
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
