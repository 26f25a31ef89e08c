"""What follows a change to an incident, in one place.

Features that react to changes (the summary, reminders, status drafts,
post-mortems) are wired here, so the code that makes a change never has to
know who else cares, and no feature calls another feature's flow directly.
"""

from __future__ import annotations

from datetime import datetime

from bot.status import drafts

from bot.resolution import followups

from bot.metrics import milestones

from bot.reminders import cadence
from bot.context import BotContext
from bot.incidents.severity_notice import announce_escalation
from bot.incidents.summary import refresh_summary
from storage.models import Incident, IncidentUpdate, Phase, utcnow


async def after_phase_change(
    ctx: BotContext, incident: Incident, *, old: Phase, actor: str, via_update: bool = False
) -> None:
    """The phase changed. ``via_update=True`` when an update made the change: that update's
    own status draft (from :func:`after_update`) covers it, so none is drafted here.
    """
    assert incident.id is not None
    await milestones.record_phase(ctx, incident, at=utcnow())
    await refresh_summary(ctx, incident.id)
    if not via_update:
        await drafts.propose_draft(ctx, incident.id, phase=incident.phase, text="", actor=actor)


async def after_severity_change(ctx: BotContext, incident: Incident, *, old: int, actor: str) -> None:
    assert incident.id is not None
    await cadence.replan(ctx, incident.id)
    await refresh_summary(ctx, incident.id)
    await announce_escalation(ctx, incident, old=old, actor=actor)


async def after_roles_change(ctx: BotContext, incident: Incident, *, actor: str) -> None:
    assert incident.id is not None
    await refresh_summary(ctx, incident.id)


async def after_action_items_change(ctx: BotContext, incident: Incident, *, actor: str) -> None:
    """An action item was added or closed: the summary lists them."""
    assert incident.id is not None
    await refresh_summary(ctx, incident.id)


# -- resolve, reopen and responses ------------------------------------


async def after_response(ctx: BotContext, incident_id: int, *, at: datetime, check_in: bool) -> None:
    """Someone answered for an open incident: call this for every posted update (``check_in``),
    *No change* (``check_in``) and other reminder-prompt button (not a check-in).

    It feeds time to acknowledge and update-cadence compliance.
    """
    await milestones.record_response(ctx, incident_id, at=at, check_in=check_in)


async def after_resolve(ctx: BotContext, incident: Incident, *, actor: str) -> None:
    """The incident was resolved (``incident`` as stored after the resolution)."""
    assert incident.id is not None
    await cadence.disarm_reminders(ctx, incident.id)
    await refresh_summary(ctx, incident.id)
    await drafts.propose_draft(ctx, incident.id, phase=Phase.RESOLVED, text=incident.resolution_summary,
                               actor=actor, source_key=f"resolved:{incident.resolved_at}")
    await followups.plan_followups(ctx, incident)


async def after_reopen(ctx: BotContext, incident: Incident, *, actor: str) -> None:
    """A resolved incident was reopened (``incident`` as stored after reopening)."""
    assert incident.id is not None
    await cadence.rearm_reopened(ctx, incident.id)
    await followups.cancel_followups(ctx, incident.id)
    await refresh_summary(ctx, incident.id)
    await drafts.propose_draft(ctx, incident.id, phase=incident.phase, text="", actor=actor)


# -- update reminders and status updates --------------------------------


async def after_update(ctx: BotContext, incident: Incident, update: IncidentUpdate) -> None:
    """A status update was posted (``incident`` as stored after it; the reminder is already re-armed)."""
    assert incident.id is not None
    await refresh_summary(ctx, incident.id, topic=False)
    if update.customer_facing:  # one status draft per update, even when it also changed the phase
        await drafts.propose_draft(ctx, incident.id, phase=update.phase, text=update.what_changed,
                                   actor=update.posted_by, source_key=f"update:{update.id}")
