"""Recording what the response metrics measure, as it happens.

Time to detect runs from when customers were first affected (if the declarer
said) to the detection (the declaration, or the alert that declared it). Time
to acknowledge runs from the declaration to the first response (a posted
update, a reminder-prompt button, a phase change or the resolution); time to
identify to the first phase at or past *identified*; cadence compliance
counts each check-in against the severity's ``update_every``. Keeping these
on the incident row lets the metrics aggregate without reading timelines.
"""

from __future__ import annotations

from datetime import datetime

from bot.context import BotContext
from storage import queries
from storage.models import Incident, Phase

_IDENTIFIED_OR_LATER = frozenset({Phase.IDENTIFIED, Phase.MONITORING, Phase.RESOLVED})


def since_declared(incident: Incident, at: datetime) -> int:
    """Whole seconds from the declaration to ``at`` (never negative, whatever the clocks did)."""
    return max(0, int((at - incident.declared_at).total_seconds()))


def detection_seconds(impact_started_at: datetime | None, detected_at: datetime) -> int | None:
    """Time to detect in whole seconds: from impact start to detection; None when the start is unknown.

    Never negative: an impact start given after an alert fired means the alert was early, not late.
    """
    if impact_started_at is None:
        return None
    return max(0, int((detected_at - impact_started_at).total_seconds()))


async def record_response(ctx: BotContext, incident_id: int, *, at: datetime, check_in: bool) -> None:
    """Someone answered for the incident; a check-in (an update or *No change*) also counts for cadence."""
    async with ctx.db.session() as session:
        incident = await queries.get_incident(session=session, incident_id=incident_id)
        if incident is None:
            return
        await queries.mark_acknowledged(session=session, incident_id=incident_id,
                                        seconds=since_declared(incident, at))
        if check_in:
            await queries.record_check_in(session=session, incident_id=incident_id, at=at,
                                          cadence=ctx.config.policy(incident.severity).update_every)


async def record_phase(ctx: BotContext, incident: Incident, *, at: datetime) -> None:
    """A phase change is a response; reaching *identified* (or skipping past it) ends time to identify."""
    assert incident.id is not None
    async with ctx.db.session() as session:
        await queries.mark_acknowledged(session=session, incident_id=incident.id, seconds=since_declared(incident, at))
        if incident.phase in _IDENTIFIED_OR_LATER:
            await queries.mark_identified(session=session, incident_id=incident.id,
                                          seconds=since_declared(incident, at))
