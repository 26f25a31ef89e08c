"""Changing an incident's severity."""

from __future__ import annotations

from bot.consequences import follow
from bot.context import BotContext
from bot.errors import IncidentError
from bot.incidents.records import row_for_update
from bot.incidents.severity_notice import is_escalation
from bot.slack.posting import tell_channel
from storage import queries
from storage.models import Incident


async def change_severity(ctx: BotContext, incident: Incident, severity: int, *, actor: str) -> Incident:
    """Set a new severity, announce it in the channel and log it.

    Everything else a severity change causes (the summary, the escalation
    announcement, the update cadence) hangs off
    :func:`bot.consequences.follow.after_severity_change`, the one place severity changes are reported.
    A resolved incident may still be re-classified; only open ones are announced publicly.
    """
    assert incident.id is not None
    incident_id = incident.id
    async with ctx.incident_locks[incident_id]:
        async with row_for_update(ctx, incident_id) as (session, current):
            old = current.severity
            if old == severity:
                raise IncidentError(f"{current.reference} is already SEV-{severity}; nothing was changed.")
            current.severity = severity
            session.add(current)
            await queries.add_timeline(
                session=session, incident_id=incident_id, kind="severity_changed", actor=actor,
                text=f"Severity changed from SEV-{old} to SEV-{severity}", data={"from": old, "to": severity},
            )
        text = ctx.render.slack("severity_changed", incident=current, old=old, actor=actor,
                                escalated=is_escalation(old, severity))
        await tell_channel(ctx, current, text)
    await follow.after_severity_change(ctx, current, old=old, actor=actor)
    return current
