"""Resolving an incident, and reopening one that was resolved too early.

The resolution is decided by one conditional UPDATE (only an open incident
can be closed), so double clicks, Slack's retries and two people resolving
at once produce exactly one resolution. What follows (the resolution
messages, the summary, reminders stopping, the status draft, follow-ups and
the post-mortem) is recorded in the same transaction and performed by the
worker, each piece on its own: a Slack failure in one never stops the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.slack.blocks import View
from bot.errors import FormError, IncidentError
from bot.incidents.paging import end_page, page_oncall
from bot.incidents.records import incident_in_channel
from bot.integrations.tickets.config import keeps_incident_ticket
from bot.metrics import milestones
from bot.resolution import followups
from bot.slack import blocks
from bot.slack.ids import ResolveField
from bot.slack.modal_state import ModalState, StateValues
from storage import queries
from storage.models import Incident, Phase, Role

log = logging.getLogger(__name__)

RESOLVE_USAGE = "/incident resolve"
REOPEN_USAGE = "/incident reopen"
SUMMARY_MAX = 3000


@dataclass(frozen=True, slots=True)
class ResolveRequest:
    """What the resolve modal asked for, already validated."""

    incident_id: int
    summary: str
    root_cause: str
    customers_affected: bool
    resolved_by: str


def read_form(values: StateValues, *, user_id: str, metadata: dict[str, Any]) -> ResolveRequest:
    """Validate the resolve modal (pure); every problem is reported under its field."""
    state = ModalState(values)
    summary, root_cause = state.text(ResolveField.SUMMARY), state.text(ResolveField.ROOT_CAUSE)
    affected = state.yes_no(ResolveField.CUSTOMERS_AFFECTED)
    errors: dict[str, str] = {}
    if not summary:
        errors[ResolveField.SUMMARY] = "Say in a sentence or two what happened and how it was fixed."
    elif len(summary) > SUMMARY_MAX:
        errors[ResolveField.SUMMARY] = f"The summary is {len(summary)} characters; keep it to {SUMMARY_MAX}."
    if len(root_cause) > SUMMARY_MAX:
        errors[ResolveField.ROOT_CAUSE] = f"The root cause is {len(root_cause)} characters; keep it to {SUMMARY_MAX}."
    if affected is None:
        errors[ResolveField.CUSTOMERS_AFFECTED] = "Say whether customers were affected."
    incident_id = metadata.get("incident_id")
    if not isinstance(incident_id, int):
        errors[ResolveField.SUMMARY] = "This form lost track of its incident; close it and run `/incident resolve` again."
    if errors:
        raise FormError(errors)
    assert isinstance(incident_id, int) and affected is not None
    return ResolveRequest(incident_id=incident_id, summary=summary, root_cause=root_cause,
                          customers_affected=affected, resolved_by=user_id)


async def resolve_form(ctx: BotContext, *, channel_id: str) -> View:
    """The resolve modal for the incident of this channel; refused if it is already resolved."""
    incident = await incident_in_channel(ctx, channel_id, RESOLVE_USAGE)
    if not incident.is_open:
        raise IncidentError(_already_resolved(incident))
    return blocks.resolve_modal(
        intro=ctx.render.slack("resolve_intro", incident=incident),
        customer_impact=incident.customer_impact,
        metadata={"incident_id": incident.id},
    )


async def check_still_open(ctx: BotContext, request: ResolveRequest) -> None:
    """Before the modal closes: an incident resolved meanwhile is shown as a field error."""
    async with ctx.db.session() as session:
        incident = await queries.get_incident(session=session, incident_id=request.incident_id)
    if incident is None:
        raise FormError({ResolveField.SUMMARY: "This incident no longer exists."})
    if not incident.is_open:
        raise FormError({ResolveField.SUMMARY: _already_resolved(incident)})


async def resolve_incident(ctx: BotContext, request: ResolveRequest) -> Incident | None:
    """Resolve, recording with it everything that follows; None if it was already resolved."""
    now = ctx.clock.now()
    async with ctx.incident_locks[request.incident_id]:
        async with ctx.db.session() as session:
            incident = await queries.get_incident(session=session, incident_id=request.incident_id)
            if incident is None:
                return None
            old_phase = incident.phase
            closed = await queries.close_incident(
                session=session, incident_id=request.incident_id, at=now,
                seconds=milestones.since_declared(incident, now), by=request.resolved_by,
                summary=request.summary, root_cause=request.root_cause,
                customers_affected=request.customers_affected,
            )
            if not closed:
                return None
            await queries.record_check_in(session=session, incident_id=request.incident_id, at=now,
                                          cadence=ctx.config.policy(incident.severity).update_every)
            await queries.add_timeline(
                session=session, incident_id=request.incident_id, kind="resolved", actor=request.resolved_by,
                at=now, text=f"Resolved (was {old_phase.value}): {request.summary}",
                data={"from": old_phase.value, "root_cause": request.root_cause,
                      "customers_affected": request.customers_affected},
            )
            incident = await session.get(Incident, request.incident_id, populate_existing=True)
            assert incident is not None
            await _follow_resolution(ctx, session, incident, actor=request.resolved_by)
    return incident


async def _follow_resolution(ctx: BotContext, session: AsyncSession, incident: Incident, *, actor: str) -> None:
    """The resolution message, reminders stopping, the page ending, the summary, the resolved
    status draft, the follow-ups, the announcement and the post-mortem, recorded with the resolution."""
    assert incident.id is not None
    commander = (await queries.current_roles(session=session, incident_id=incident.id)).get(Role.IC)
    text = ctx.render.slack("resolved", incident=incident, commander=commander,
                            review_due=followups.review_due(ctx.config, incident),
                            archive_at=followups.archive_at(ctx.config, incident))
    await follow_with(ctx, session, Work.POST_IN_CHANNEL, incident_id=incident.id, payload={"text": text},
                      requested_by=actor)
    await follow_with(ctx, session, Work.STOP_REMINDERS, incident_id=incident.id)
    await end_page(ctx, session, incident, actor=actor)
    await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=incident.id)
    await follow_with(ctx, session, Work.PROPOSE_STATUS_DRAFT, incident_id=incident.id, requested_by=actor, payload={
        "phase": Phase.RESOLVED.value, "text": incident.resolution_summary, "actor": actor,
        "source_key": f"resolved:{incident.resolved_at}",
    })
    await follow_with(ctx, session, Work.PLAN_FOLLOWUPS, incident_id=incident.id)
    if not (incident.private or incident.drill):
        await _announce(ctx, session, incident, ctx.render.slack("resolved_announcement", incident=incident), actor)
    await follow_with(ctx, session, Work.PUBLISH_POSTMORTEM, incident_id=incident.id, requested_by=actor,
                      payload={"requested_by": actor})
    if keeps_incident_ticket(ctx.config.tickets, incident):
        await follow_with(ctx, session, Work.UPDATE_INCIDENT_TICKET, incident_id=incident.id, requested_by=actor)


async def reopen_incident(ctx: BotContext, *, channel_id: str, actor: str) -> Incident:
    """`/incident reopen`: back to investigating, reminders re-armed, the on-call paged again, follow-ups cancelled."""
    incident = await incident_in_channel(ctx, channel_id, REOPEN_USAGE)
    assert incident.id is not None
    if incident.is_open:
        raise IncidentError(f"{incident.reference} is not resolved, so there is nothing to reopen.")
    now = ctx.clock.now()
    async with ctx.incident_locks[incident.id]:
        async with ctx.db.session() as session:
            reopened = await queries.reopen_incident(
                session=session, incident_id=incident.id, at=now,
                next_update_due=now + ctx.config.policy(incident.severity).update_every,
            )
            if not reopened:
                raise IncidentError(f"{incident.reference} is not resolved, so there is nothing to reopen.")
            await queries.add_timeline(session=session, incident_id=incident.id, kind="reopened", actor=actor,
                                       at=now, text="Reopened: back to investigating")
            incident = await session.get(Incident, incident.id, populate_existing=True)
            assert incident is not None and incident.id is not None
            text = ctx.render.slack("reopened", incident=incident, actor=actor)
            await follow_with(ctx, session, Work.POST_IN_CHANNEL, incident_id=incident.id, payload={"text": text},
                              requested_by=actor)
            await follow_with(ctx, session, Work.RESTART_REMINDERS, incident_id=incident.id)
            await page_oncall(ctx, session, incident, cause="reopened", actor=actor)
            await follow_with(ctx, session, Work.CANCEL_FOLLOWUPS, incident_id=incident.id)
            await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=incident.id)
            await follow_with(ctx, session, Work.PROPOSE_STATUS_DRAFT, incident_id=incident.id, requested_by=actor,
                              payload={"phase": incident.phase.value, "text": "", "actor": actor})
            if not (incident.private or incident.drill):
                await _announce(ctx, session, incident,
                                ctx.render.slack("reopened_announcement", incident=incident), actor)
    return incident


def _already_resolved(incident: Incident) -> str:
    return (f"{incident.reference} is already resolved; nothing was changed. "
            "Run `/incident reopen` in its channel to reopen it.")


async def _announce(ctx: BotContext, session: AsyncSession, incident: Incident, text: str, actor: str) -> None:
    """Announcements are best effort: an unusable channel is logged on the timeline, never fatal."""
    await follow_with(ctx, session, Work.ANNOUNCE, incident_id=incident.id, requested_by=actor, payload={
        "text": text,
        "on_failure": {"kind": "announcement_failed",
                       "text": "Could not post in the announcements channel: {problem}"},
    })
