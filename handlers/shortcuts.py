"""Message shortcuts: *Add to incident timeline*."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.context import BotContext
from bot.slack.ids import Callback
from bot.timeline.capture import capture_from_shortcut


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.shortcut(Callback.ADD_TO_TIMELINE)
    async def add_to_timeline(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        reply = await capture_from_shortcut(
            ctx, channel_id=body["channel"]["id"], message=body["message"], actor=body["user"]["id"],
        )
        await ctx.slack.respond(body["response_url"], text=reply)
