"""Declaring an incident: record it, and the channel it needs, in one transaction.

The incident row and the work of creating its channel are committed before the
declare modal is acknowledged, so an acknowledged declare is never lost. The
Slack steps (:mod:`bot.incidents.declare_steps`) follow through the worker:
the channel first, then everything that needs it, side by side.
"""

from __future__ import annotations

from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.incidents.paging import page_oncall
from bot.metrics import milestones
from bot.slack.blocks import View
from bot.slack import blocks, messages
from bot.slack.forms import DeclareRequest
from storage import queries
from storage.models import Incident, Role


async def declare_incident(ctx: BotContext, request: DeclareRequest) -> tuple[Incident, bool]:
    """Store the incident, its IC and the first timeline entry in one transaction, with what follows
    (the channel, a page when its severity pages, the link to the alert it was declared from).

    Returns the incident and whether it is new; a repeated submission of the
    same modal (double click, Slack retry) returns the first one.
    """
    commander = request.commander or (None if request.automatic else request.declared_by)
    async with ctx.db.session() as session:
        existing = await queries.incident_by_request_key(session=session, request_key=request.request_key)
        if existing is not None:
            return existing, False
        declared_at = ctx.clock.now()
        detected_at = request.detected_at or declared_at
        incident = Incident(
            request_key=request.request_key,
            declared_at=declared_at,
            detected_at=detected_at,
            impact_started_at=request.impact_started_at,
            ttd_seconds=milestones.detection_seconds(request.impact_started_at, detected_at),
            title=request.title,
            severity=request.severity,
            description=request.description,
            affected_services=request.affected_services,
            customer_impact=request.customer_impact,
            customer_facing=request.customer_impact and not request.drill and not request.private,
            private=request.private,
            drill=request.drill,
            declared_by=request.declared_by,
            responders=sorted(set(request.responders) - {commander}),
            origin_channel_id=request.origin_channel_id,
            origin_response_url=request.origin_response_url,
        )
        incident.next_update_due = incident.declared_at + ctx.config.policy(request.severity).update_every
        session.add(incident)
        await session.flush()
        assert incident.id is not None
        if commander is not None:
            await queries.assign_role(session=session, incident_id=incident.id, role=Role.IC,
                                      user_id=commander, assigned_by=request.declared_by, at=incident.declared_at)
        await queries.add_timeline(
            session=session, incident_id=incident.id, kind="declared", actor=request.declared_by,
            at=incident.declared_at,
            text=f"Declared as {request.severity.label}" + (" (drill)" if incident.drill else ""),
            data={"severity": incident.severity, "private": incident.private, "drill": incident.drill},
        )
        await follow_with(ctx, session, Work.CREATE_CHANNEL, incident_id=incident.id,
                          key=f"declare:{incident.id}:channel", requested_by=request.declared_by)
        if request.alert_id is not None:
            await queries.link_alert(session=session, alert_id=request.alert_id, incident_id=incident.id)
            await follow_with(ctx, session, Work.NOTE_ALERT, incident_id=incident.id,
                              payload={"alert_id": request.alert_id}, key=f"alert:{request.alert_id}:declared")
        await page_oncall(ctx, session, incident, cause=f"declared as {request.severity.label}",
                          actor=request.declared_by, key=f"declare:{incident.id}:page")
    return incident, True


def declare_form(
    ctx: BotContext, *, user_id: str, title: str, channel_id: str | None, response_url: str | None,
) -> tuple[View, str | None]:
    """The declare modal, and a notice for the user when the title had to be cut.

    The command's response_url travels in the modal's metadata so the outcome
    of the declare reaches the declarer even outside any channel the bot is in.
    """
    metadata = {"channel_id": channel_id, "response_url": response_url}
    notice = messages.declare_prefill_cut(ctx, len(title)) if len(title) > blocks.TITLE_MAX else None
    view = blocks.declare_modal(title=title, declarer=user_id, metadata=metadata, timezone=ctx.config.timezone)
    return view, notice
