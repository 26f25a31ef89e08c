"""App Home: published afresh whenever someone opens the Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.context import BotContext
from bot.incidents.home import publish_home


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.event("app_home_opened")
    async def app_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            await publish_home(ctx, event["user"])
