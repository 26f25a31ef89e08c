"""The ``/incident`` slash command: parse, acknowledge, call the core, reply.

The intake has acknowledged the command before this runs (:mod:`bot.runtime.intake`),
so every answer, usage errors included, goes to the command's response_url.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.context import BotContext
from bot.errors import UsageError
from bot.incidents import records
from bot.incidents.declare import declare_form
from bot.incidents.phases import change_phase
from bot.incidents.roles import assign_role
from bot.incidents.severity import change_severity
from bot.metrics import stats
from bot.resolution import postmortem, resolve
from bot.slack.gateway import Blocks
from bot.slack.subcommands import (
    AddAction,
    AddNote,
    AssignRole,
    CompleteAction,
    Declare,
    Help,
    ListIncidents,
    OpenResolve,
    OpenUpdate,
    Postmortem,
    Reopen,
    SetPhase,
    SetSeverity,
    ShowTimeline,
    Stats,
    parse,
)
from bot.status import updates
from bot.timeline.action_items import add_action_item, complete_action_item
from bot.timeline.notes import add_note, timeline_reply
from storage.models import Incident, Phase


def register(app: AsyncApp, ctx: BotContext) -> None:
    @app.command("/incident")
    async def incident_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack()

        async def reply(text: str, blocks: Blocks | None = None) -> None:
            await ctx.slack.respond(command["response_url"], text=text, blocks=blocks)

        try:
            subcommand, request = parse(command.get("text") or "")
        except UsageError as exc:
            await reply(records.help_reply(ctx, exc.message))
            return
        user_id = command["user_id"]

        async def in_channel() -> Incident:
            """The incident whose channel the command came from; refused anywhere else."""
            return await records.incident_in_channel(ctx, command["channel_id"], subcommand.usage)

        match request:
            case Help():
                await reply(records.help_reply(ctx))
            case ListIncidents():
                await reply(await records.list_reply(ctx, user_id))
            case Declare(title=title):
                view, notice = declare_form(ctx, user_id=user_id, title=title,
                                            channel_id=command.get("channel_id"),
                                            response_url=command.get("response_url"))
                await ctx.slack.open_view(command["trigger_id"], view)
                if notice:
                    await reply(notice)
            case Stats(days=days):
                await reply(await stats.stats_reply(ctx, days, user_id))
            case OpenResolve() | SetPhase(phase=Phase.RESOLVED):
                view = await resolve.resolve_form(ctx, channel_id=command["channel_id"])
                await ctx.slack.open_view(command["trigger_id"], view)
            case Reopen():
                await resolve.reopen_incident(ctx, channel_id=command["channel_id"], actor=user_id)
            case Postmortem():
                await reply(await postmortem.regenerate(ctx, channel_id=command["channel_id"], user_id=user_id))
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
            case OpenUpdate():
                view = await updates.form_from_command(ctx, channel_id=command["channel_id"])
                await ctx.slack.open_view(command["trigger_id"], view)
