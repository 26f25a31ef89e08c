"""The buttons on an alert in the announcements channel: *Declare incident* and *Dismiss*."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.context import BotContext
from bot.integrations.alerts import decisions
from bot.slack.ids import Action


def _alert_id(action: dict[str, Any]) -> int:
    return int(str(action.get("value") or "0"))


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.action(Action.ALERT_DECLARE)
    async def declare_pressed(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        view = await decisions.declare_form(ctx, alert_id=_alert_id(action), user_id=body["user"]["id"],
                                            channel_id=(body.get("channel") or {}).get("id"),
                                            response_url=body.get("response_url"))
        await ctx.slack.open_view(body["trigger_id"], view)

    @app.action(Action.ALERT_DISMISS)
    async def dismiss_pressed(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await decisions.dismiss(ctx, alert_id=_alert_id(action), user_id=body["user"]["id"])
