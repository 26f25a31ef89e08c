"""Modal submissions: validate, answer Slack with field errors or an ack, then act."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.slack import forms
from bot.context import BotContext
from bot.incidents.declare import declare_incident, finish_declare
from bot.errors import FormError
from bot.slack.ids import Callback
from bot.status import updates


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.view(Callback.DECLARE)
    async def declare_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            request = forms.declare_request(
                view["state"]["values"], user_id=body["user"]["id"], view_id=view["id"],
                metadata=forms.read_metadata(view.get("private_metadata", "")),
            )
        except FormError as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        incident, created = await declare_incident(ctx, request)
        await ack()
        if created:
            assert incident.id is not None
            ctx.after_ack(finish_declare(ctx, incident.id), name=f"declare {incident.id}")

    @app.view(Callback.UPDATE)
    async def update_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            request = updates.read_submission(
                ctx, view["state"]["values"], user_id=body["user"]["id"], view_id=view["id"],
                metadata=forms.read_metadata(view.get("private_metadata", "")),
            )
            recorded = await updates.record_update(ctx, request)
        except FormError as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        await ack()
        if recorded is not None:
            ctx.after_ack(updates.publish_update(ctx, recorded), name="publish update")
