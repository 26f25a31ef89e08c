"""Update buttons: *Post update* on the pinned summary, and the three buttons of a reminder prompt."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.context import BotContext
from bot.reminders import prompts
from bot.slack.ids import Action
from bot.status import updates


def _incident_id(action: dict[str, Any]) -> int | None:
    """The incident a prompt's buttons name (the summary's button names none: its channel does)."""
    value = str(action.get("value") or "")
    return int(value) if value.isdigit() else None


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.action(Action.POST_UPDATE)
    async def summary_post_update(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        view = await updates.form_from_button(ctx, channel_id=body["channel"]["id"], user_id=body["user"]["id"],
                                              incident_id=None, from_prompt=False)
        await ctx.slack.open_view(body["trigger_id"], view)

    @app.action(Action.REMINDER_POST_UPDATE)
    async def prompt_post_update(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        view = await updates.form_from_button(ctx, channel_id=body["channel"]["id"], user_id=body["user"]["id"],
                                              incident_id=_incident_id(action), from_prompt=True)
        await ctx.slack.open_view(body["trigger_id"], view)

    @app.action(Action.REMINDER_NO_CHANGE)
    async def prompt_no_change(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await prompts.no_change(ctx, channel_id=body["channel"]["id"], user_id=body["user"]["id"],
                                incident_id=_incident_id(action), pressed_ts=body["container"]["message_ts"])

    @app.action(Action.REMINDER_SNOOZE)
    async def prompt_snooze(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        await prompts.snooze(ctx, channel_id=body["channel"]["id"], user_id=body["user"]["id"],
                             incident_id=_incident_id(action), pressed_ts=body["container"]["message_ts"])
