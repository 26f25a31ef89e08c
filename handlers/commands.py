"""The ``/incident`` slash command: parse, acknowledge, call the core, reply.

The intake has acknowledged the command before this runs (:mod:`bot.intake`),
so every answer, usage errors included, goes to the command's response_url.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import incidents
from bot.commands import Declare, Help, ListIncidents, parse
from bot.context import BotContext
from bot.declare import open_declare_form
from bot.errors import UsageError
from bot.gateway import Blocks
from bot import postmortem, resolve, stats  # issue 6
from bot.commands import OpenResolve, Postmortem, Reopen, SetPhase, Stats  # issue 6
from storage.models import Phase  # issue 6
from bot.action_items import add_action_item, complete_action_item  # issue 3
from bot.commands import AddAction, AddNote, AssignRole, CompleteAction, SetSeverity, ShowTimeline  # issue 3
from bot.phases import change_phase  # issue 3
from bot.roles import assign_role  # issue 3
from bot.severity import change_severity  # issue 3
from bot.timeline import add_note, timeline_reply  # issue 3
from storage.models import Incident  # issue 3
from bot import updates  # issue 4
from bot.commands import OpenUpdate  # issue 4


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.command("/incident")
    async def incident_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()

        async def reply(text: str, blocks: Blocks | None = None) -> None:
            await ctx.slack.respond(command["response_url"], text=text, blocks=blocks)

        try:
            subcommand, request = parse(command.get("text") or "")
        except UsageError as exc:
            await reply(incidents.help_reply(ctx, exc.message))
            return
        user_id = command["user_id"]

        async def in_channel() -> Incident:
            """The incident whose channel the command came from; refused anywhere else."""
            return await incidents.incident_in_channel(ctx, command["channel_id"], subcommand.usage)

        match request:
            case Help():
                await reply(incidents.help_reply(ctx))
            case ListIncidents():
                await reply(await incidents.list_reply(ctx, user_id))
            case Declare(title=title):
                notice = await open_declare_form(
                    ctx, trigger_id=command["trigger_id"], user_id=user_id, title=title,
                    channel_id=command.get("channel_id"), response_url=command.get("response_url"),
                )
                if notice:
                    await reply(notice)
            case Stats(days=days):
                await reply(await stats.stats_reply(ctx, days))
            case OpenResolve() | SetPhase(phase=Phase.RESOLVED):
                await resolve.open_resolve_form(ctx, trigger_id=command["trigger_id"], channel_id=command["channel_id"])
            case Reopen():
                await resolve.reopen_incident(ctx, channel_id=command["channel_id"], actor=user_id)
            case Postmortem():
                await reply(await postmortem.regenerate(ctx, channel_id=command["channel_id"], user_id=user_id))
            # -- working an incident (issue 3) --
            case SetPhase(phase=phase):
                await change_phase(ctx, await in_channel(), phase, actor=user_id)
            case SetSeverity(severity=severity):
                await change_severity(ctx, await in_channel(), severity, actor=user_id)
            case AssignRole(role=role, user_id=assignee):
                await assign_role(ctx, await in_channel(), role, assignee, actor=user_id)
            case AddNote(text=text):
                await add_note(ctx, await in_channel(), text, actor=user_id)
            case ShowTimeline(page=page):
                text, blocks = await timeline_reply(ctx, await in_channel(), page)
                await reply(text, blocks)
            case AddAction(text=text, owner=owner, due=due):
                await add_action_item(ctx, await in_channel(), text, owner=owner, due=due, actor=user_id)
            case CompleteAction(number=number):
                await complete_action_item(ctx, await in_channel(), number, actor=user_id)
            # -- status updates (issue 4) --
            case OpenUpdate():
                await updates.open_from_command(ctx, trigger_id=command["trigger_id"], channel_id=command["channel_id"])
            case _:
                await incidents.incident_in_channel(ctx, command["channel_id"], subcommand.usage)
                raise UsageError(f"`{subcommand.usage}` is not available yet.")
