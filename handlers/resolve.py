"""Resolve listeners: the summary's *Resolve* button and the resolve modal's submission."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.context import BotContext
from bot.errors import FormError
from bot.resolution import resolve
from bot.slack.ids import Action, Callback
from bot.slack.modal_state import read_metadata


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.action(Action.RESOLVE)
    async def resolve_pressed(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        view = await resolve.resolve_form(ctx, channel_id=body["channel"]["id"])
        await ctx.slack.open_view(body["trigger_id"], view)

    @app.view(Callback.RESOLVE)
    async def resolve_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            request = resolve.read_form(view["state"]["values"], user_id=body["user"]["id"],
                                        metadata=read_metadata(view.get("private_metadata", "")))
            await resolve.check_still_open(ctx, request)
        except FormError as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        await resolve.resolve_incident(ctx, request)
        await ack()
