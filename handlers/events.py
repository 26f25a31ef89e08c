"""Events API deliveries that change an incident: the :pushpin: reaction."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.context import BotContext
from bot.timeline.capture import capture_reaction


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.event("reaction_added")
    async def reaction_added(event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        await capture_reaction(
            ctx, reaction=str(event.get("reaction") or ""), channel_id=item.get("channel"), ts=item.get("ts"),
            actor=str(event.get("user") or ""),
        )
