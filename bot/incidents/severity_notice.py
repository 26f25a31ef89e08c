"""Telling the whole organisation when an incident gets more severe.

Escalations matter beyond the incident channel (more people may be needed,
stakeholders expect to hear); de-escalations do not, and private incidents
and drills are never announced publicly.
"""

from __future__ import annotations

from bot.context import BotContext
from bot.slack.posting import tell_announcements
from storage import queries
from storage.models import Incident


def is_escalation(old: int, new: int) -> bool:
    """SEV-1 is the most severe, so a smaller number is an escalation."""
    return new < old


def should_announce(incident: Incident, *, old: int) -> bool:
    return (is_escalation(old, incident.severity) and incident.is_open
            and not incident.private and not incident.drill)


async def announce_escalation(ctx: BotContext, incident: Incident, *, old: int, actor: str) -> None:
    """Post an escalation in the announcements channel and log whether it got there."""
    if not should_announce(incident, old=old):
        return
    assert incident.id is not None
    text = ctx.render.slack("severity_escalated", incident=incident, old=old, actor=actor)
    problem = await tell_announcements(ctx, text)
    async with ctx.db.session() as session:
        if problem is None:
            await queries.add_timeline(session=session, incident_id=incident.id, kind="escalation_announced",
                                       text=f"Escalation to SEV-{incident.severity} announced in the announcements channel")
        else:
            await queries.add_timeline(session=session, incident_id=incident.id, kind="announcement_failed",
                                       text=f"Escalation could not be announced ({problem})")
