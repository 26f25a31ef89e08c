"""Status-draft listeners: the Approve / Edit / Reject buttons and their modals."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.context import BotContext
from bot.errors import FormError
from bot.slack.ids import Action, Callback
from bot.status import drafts


def _draft_id(action: dict[str, Any]) -> int:
    return int(action["value"])


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.action(Action.DRAFT_APPROVE)
    async def approve_pressed(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await drafts.approve_draft(ctx, _draft_id(action), actor=body["user"]["id"])

    @app.action(Action.DRAFT_EDIT)
    async def edit_pressed(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        view = await drafts.edit_form(ctx, _draft_id(action), user_id=body["user"]["id"])
        await ctx.slack.open_view(body["trigger_id"], view)

    @app.action(Action.DRAFT_REJECT)
    async def reject_pressed(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        view = await drafts.reject_form(ctx, _draft_id(action), user_id=body["user"]["id"])
        await ctx.slack.open_view(body["trigger_id"], view)

    @app.action(Action.DRAFT_RETRY_EXTERNAL)
    async def retry_pressed(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await drafts.retry_external(ctx, _draft_id(action), actor=body["user"]["id"])

    @app.view(Callback.DRAFT_EDIT)
    async def edit_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            draft_id, text = drafts.read_edit_form(view["state"]["values"], view.get("private_metadata", ""))
            await drafts.save_edit(ctx, draft_id, text=text, actor=body["user"]["id"])
        except FormError as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        await ack()

    @app.view(Callback.DRAFT_REJECT)
    async def reject_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            draft_id, reason = drafts.read_reject_form(view["state"]["values"], view.get("private_metadata", ""))
            await drafts.reject_draft(ctx, draft_id, reason=reason, actor=body["user"]["id"])
        except FormError as exc:
            await ack(response_action="errors", errors=exc.errors)
            return
        await ack()
