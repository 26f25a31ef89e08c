"""The ``/incident`` slash command: parse, acknowledge, call the core, reply."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import incidents
from bot.commands import Declare, Help, ListIncidents, parse
from bot.context import BotContext
from bot.declare import open_declare_form
from bot.errors import UsageError


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.command("/incident")
    async def incident_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        try:
            subcommand, request = parse(command.get("text") or "")
        except UsageError as exc:
            await ack(response_type="ephemeral", text=incidents.help_reply(ctx, exc.message))
            return
        user_id = command["user_id"]
        match request:
            case Help():
                await ack(response_type="ephemeral", text=incidents.help_reply(ctx))
            case ListIncidents():
                await ack(response_type="ephemeral", text=await incidents.list_reply(ctx, user_id))
            case Declare(title=title):
                await ack()
                notice = await open_declare_form(
                    ctx, trigger_id=command["trigger_id"], user_id=user_id, title=title,
                    channel_id=command.get("channel_id"), response_url=command.get("response_url"),
                )
                if notice and command.get("response_url"):
                    await ctx.slack.respond(command["response_url"], text=notice)
            case _:
                await ack()
                await incidents.incident_in_channel(ctx, command["channel_id"], subcommand.usage)
                raise UsageError(f"`{subcommand.usage}` is not available yet.")
