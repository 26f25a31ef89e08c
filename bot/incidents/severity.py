"""Changing an incident's severity."""

from __future__ import annotations

from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.errors import IncidentError
from bot.incidents.paging import page_oncall
from bot.incidents.records import row_for_update
from bot.incidents.severity_notice import is_escalation, should_announce
from bot.integrations.tickets.config import keeps_incident_ticket
from storage import queries
from storage.models import Incident
from storage.severity import Severity


async def change_severity(ctx: BotContext, incident: Incident, severity: Severity, *, actor: str) -> Incident:
    """Set a new severity and record what follows: the channel message, the update cadence,
    the summary, a page when an open incident got more severe (at a paging severity), and
    an announcement when an open public incident did.

    A resolved incident may still be re-classified; only open ones are announced publicly.
    """
    assert incident.id is not None
    incident_id = incident.id
    async with ctx.incident_locks[incident_id]:
        async with row_for_update(ctx, incident_id) as (session, current):
            old = current.severity
            if old == severity:
                raise IncidentError(f"{current.reference} is already {severity.label}; nothing was changed.")
            current.severity = severity
            session.add(current)
            await queries.add_timeline(
                session=session, incident_id=incident_id, kind="severity_changed", actor=actor, at=ctx.clock.now(),
                text=f"Severity changed from {Severity.of(old).label} to {severity.label}",
                data={"from": old, "to": severity},
            )
            text = ctx.render.slack("severity_changed", incident=current, old=old, actor=actor,
                                    escalated=is_escalation(old, severity))
            await follow_with(ctx, session, Work.POST_IN_CHANNEL, incident_id=incident_id, payload={"text": text},
                              requested_by=actor)
            await follow_with(ctx, session, Work.REPLAN_REMINDERS, incident_id=incident_id)
            await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=incident_id)
            if keeps_incident_ticket(ctx.config.tickets, current):
                await follow_with(ctx, session, Work.UPDATE_INCIDENT_TICKET, incident_id=incident_id,
                                  requested_by=actor)
            if is_escalation(old, severity) and current.is_open:
                await page_oncall(ctx, session, current, cause=f"raised to {severity.label}", actor=actor)
            if should_announce(current, old=old):
                announcement = ctx.render.slack("severity_escalated", incident=current, old=old, actor=actor)
                await follow_with(ctx, session, Work.ANNOUNCE, incident_id=incident_id, requested_by=actor, payload={
                    "text": announcement,
                    "on_success": {"kind": "escalation_announced",
                                   "text": f"Escalation to {severity.label} announced in the announcements channel"},
                    "on_failure": {"kind": "announcement_failed", "text": "Escalation could not be announced ({problem})"},
                })
    return current
