"""Modal submissions: validate, answer Slack with field errors or an ack, then act."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack import forms
from bot.context import BotContext
from bot.incidents.declare import declare_incident
from bot.errors import FormError
from bot.slack.ids import Callback
from bot.slack.modal_state import read_metadata
from bot.status import updates


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.view(Callback.DECLARE)
    async def declare_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            request = forms.declare_request(
                view["state"]["values"], user_id=body["user"]["id"], view_id=view["id"],
                metadata=read_metadata(view.get("private_metadata", "")), now=ctx.clock.now(), tz=ctx.config.tz,
            )
        except FormError as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        await declare_incident(ctx, request)
        await ack()

    @app.view(Callback.UPDATE)
    async def update_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            request = updates.read_submission(
                ctx, view["state"]["values"], user_id=body["user"]["id"], view_id=view["id"],
                metadata=read_metadata(view.get("private_metadata", "")),
            )
            await updates.record_update(ctx, request)
        except FormError as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        await ack()
