"""Resolving an incident, and reopening one that was resolved too early.

The resolution is decided by one conditional UPDATE (only an open incident
can be closed), so double clicks, Slack's retries and two people resolving
at once produce exactly one resolution. What follows (the resolution
messages, the summary, reminders stopping, the status draft, follow-ups and
the post-mortem) runs after the record is committed; a Slack failure in one
of those steps is logged on the timeline and does not stop the others.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.slack import blocks

from bot.resolution import followups

from bot.consequences import follow

from bot.metrics import milestones

from bot.resolution import postmortem
from bot.context import BotContext
from bot.errors import FormError, IncidentError
from bot.slack.gateway import SlackCallFailed
from bot.slack.ids import ResolveField
from bot.incidents.records import incident_in_channel
from bot.slack.posting import tell_announcements, tell_channel
from storage import queries
from storage.models import Incident, Role, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

RESOLVE_USAGE = "/incident resolve"
REOPEN_USAGE = "/incident reopen"
SUMMARY_MAX = 3000

StateValues = dict[str, dict[str, dict[str, Any]]]


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

    def element(field: str) -> dict[str, Any]:
        return values.get(field, {}).get(field, {})

    summary = (element(ResolveField.SUMMARY).get("value") or "").strip()
    root_cause = (element(ResolveField.ROOT_CAUSE).get("value") or "").strip()
    affected = (element(ResolveField.CUSTOMERS_AFFECTED).get("selected_option") or {}).get("value")
    errors: dict[str, str] = {}
    if not summary:
        errors[ResolveField.SUMMARY] = "Say in a sentence or two what happened and how it was fixed."
    elif len(summary) > SUMMARY_MAX:
        errors[ResolveField.SUMMARY] = f"The summary is {len(summary)} characters; keep it to {SUMMARY_MAX}."
    if len(root_cause) > SUMMARY_MAX:
        errors[ResolveField.ROOT_CAUSE] = f"The root cause is {len(root_cause)} characters; keep it to {SUMMARY_MAX}."
    if affected not in ("yes", "no"):
        errors[ResolveField.CUSTOMERS_AFFECTED] = "Say whether customers were affected."
    incident_id = metadata.get("incident_id")
    if not isinstance(incident_id, int):
        errors[ResolveField.SUMMARY] = "This form lost track of its incident; close it and run `/incident resolve` again."
    if errors:
        raise FormError(errors)
    assert isinstance(incident_id, int)
    return ResolveRequest(incident_id=incident_id, summary=summary, root_cause=root_cause,
                          customers_affected=affected == "yes", resolved_by=user_id)


async def open_resolve_form(ctx: BotContext, *, trigger_id: str, channel_id: str) -> None:
    """Open the resolve modal for the incident of this channel; refuse if it is already resolved."""
    incident = await incident_in_channel(ctx, channel_id, RESOLVE_USAGE)
    if not incident.is_open:
        raise IncidentError(_already_resolved(incident))
    view = blocks.resolve_modal(
        intro=ctx.render.slack("resolve_intro", incident=incident),
        customer_impact=incident.customer_impact,
        metadata={"incident_id": incident.id},
    )
    await ctx.slack.open_view(trigger_id, view)


async def check_still_open(ctx: BotContext, request: ResolveRequest) -> None:
    """Before the modal closes: an incident resolved meanwhile is shown as a field error."""
    async with ctx.db.session() as session:
        incident = await queries.get_incident(session=session, incident_id=request.incident_id)
    if incident is None:
        raise FormError({ResolveField.SUMMARY: "This incident no longer exists."})
    if not incident.is_open:
        raise FormError({ResolveField.SUMMARY: _already_resolved(incident)})


async def resolve_incident(ctx: BotContext, request: ResolveRequest) -> Incident | None:
    """Resolve, then tell everyone and produce the post-mortem; None if it was already resolved."""
    now = utcnow()
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
        incident = await _load(ctx, request.incident_id)
    await _resolved_steps(ctx, incident, actor=request.resolved_by)
    return incident


async def _resolved_steps(ctx: BotContext, incident: Incident, *, actor: str) -> None:
    assert incident.id is not None
    async with ctx.db.session() as session:
        commander = (await queries.current_roles(session=session, incident_id=incident.id)).get(Role.IC)
    text = ctx.render.slack("resolved", incident=incident, commander=commander,
                            review_due=followups.review_due(ctx.config, incident),
                            archive_at=followups.archive_at(ctx.config, incident))
    await _step(ctx, incident, "resolution_post", tell_channel(ctx, incident, text))
    await _step(ctx, incident, "after_resolve", follow.after_resolve(ctx, incident, actor=actor))
    if not (incident.private or incident.drill):
        await _announce(ctx, incident, ctx.render.slack("resolved_announcement", incident=incident))
    await _step(ctx, incident, "postmortem", postmortem.publish(ctx, incident.id, requested_by=actor))


async def reopen_incident(ctx: BotContext, *, channel_id: str, actor: str) -> Incident:
    """`/incident reopen`: back to investigating, reminders re-armed, follow-ups cancelled."""
    incident = await incident_in_channel(ctx, channel_id, REOPEN_USAGE)
    assert incident.id is not None
    if incident.is_open:
        raise IncidentError(f"{incident.reference} is not resolved, so there is nothing to reopen.")
    now = utcnow()
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
        incident = await _load(ctx, incident.id)
    await _step(ctx, incident, "reopen_post",
                tell_channel(ctx, incident, ctx.render.slack("reopened", incident=incident, actor=actor)))
    await _step(ctx, incident, "after_reopen", follow.after_reopen(ctx, incident, actor=actor))
    if not (incident.private or incident.drill):
        await _announce(ctx, incident, ctx.render.slack("reopened_announcement", incident=incident))
    return incident


def _already_resolved(incident: Incident) -> str:
    return (f"{incident.reference} is already resolved; nothing was changed. "
            "Run `/incident reopen` in its channel to reopen it.")


async def _load(ctx: BotContext, incident_id: int) -> Incident:
    async with ctx.db.session() as session:
        incident = await queries.get_incident(session=session, incident_id=incident_id)
    assert incident is not None
    return incident


async def _announce(ctx: BotContext, incident: Incident, text: str) -> None:
    """Announcements are best effort: an unusable channel is logged, never fatal."""
    assert incident.id is not None
    problem = await _step(ctx, incident, "announcement", tell_announcements(ctx, text))
    if problem:
        async with ctx.db.session() as session:
            await queries.add_timeline(session=session, incident_id=incident.id, kind="announcement_failed",
                                       text=f"Could not post in the announcements channel: {problem}")


async def _step(ctx: BotContext, incident: Incident, name: str, action: Awaitable[T]) -> T | None:
    """Run one Slack step; a failure is logged on the timeline and the next step still runs."""
    assert incident.id is not None
    try:
        return await action
    except SlackCallFailed as exc:
        log.warning("%s of incident %s failed: %s", name, incident.id, exc)
        async with ctx.db.session() as session:
            await queries.add_timeline(session=session, incident_id=incident.id, kind="step_failed",
                                       text=f"{name} failed: {exc.method} {exc.error}")
        return None
