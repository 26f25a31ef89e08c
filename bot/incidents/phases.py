"""Moving an incident between phases, checked against one table of allowed transitions."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.errors import IncidentError
from bot.incidents.records import row_for_update
from storage import queries
from storage.models import Incident, Phase

TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.INVESTIGATING: frozenset({Phase.IDENTIFIED, Phase.MONITORING, Phase.RESOLVED}),
    Phase.IDENTIFIED: frozenset({Phase.INVESTIGATING, Phase.MONITORING, Phase.RESOLVED}),
    Phase.MONITORING: frozenset({Phase.INVESTIGATING, Phase.IDENTIFIED, Phase.RESOLVED}),
    Phase.RESOLVED: frozenset(),
}
"""Where each phase may go next. Going back is allowed (a fix that did not hold sends
monitoring back to investigating); a resolved incident moves only by being reopened."""

_WHY_NOT: dict[Phase, str] = {
    Phase.RESOLVED: "{ref} is resolved; reopen it with `/incident reopen` before changing its status.",
}
_WHY_NOT_DEFAULT = "{ref} cannot go from {old} to {new}."

RESOLVE_THROUGH_FORM = (
    "Resolving records a summary and the root cause, so it has its own form: use `/incident resolve`. "
    "Nothing was changed."
)


def check_transition(incident: Incident, new: Phase) -> None:
    """Refuse a phase change the table does not allow, saying why and what to do instead."""
    old = incident.phase
    if new == old:
        raise IncidentError(f"{incident.reference} is already {old.value}; nothing was changed.")
    if new not in TRANSITIONS[old]:
        template = _WHY_NOT.get(old, _WHY_NOT_DEFAULT)
        raise IncidentError(template.format(ref=incident.reference, old=old.value, new=new.value))


async def change_phase(
    ctx: BotContext, incident: Incident, phase: Phase, *, actor: str, via_update: bool = False
) -> Incident:
    """Set a new phase (never *resolved*: that is the resolve form's job) and record what follows.

    Decided on the row-locked incident; the change, its timeline entry and the
    work that follows it (the channel message, the summary, the status draft,
    the metrics) commit together. ``via_update`` says a posted status update made
    the change: that update's own status draft covers it, so none is drafted here.
    """
    assert incident.id is not None
    async with ctx.incident_locks[incident.id]:
        async with row_for_update(ctx, incident.id) as (session, current):
            await apply_phase_change(ctx, session, current, phase, actor=actor, via_update=via_update)
    return current


async def apply_phase_change(
    ctx: BotContext, session: AsyncSession, current: Incident, phase: Phase, *, actor: str, via_update: bool
) -> None:
    """The phase change inside the caller's transaction, with the work that must follow it."""
    assert current.id is not None
    old = current.phase
    check_transition(current, phase)
    if phase is Phase.RESOLVED:
        raise IncidentError(RESOLVE_THROUGH_FORM)
    now = ctx.clock.now()
    current.phase = phase
    session.add(current)
    await queries.add_timeline(
        session=session, incident_id=current.id, kind="phase_changed", actor=actor, at=now,
        text=f"Status changed from {old.value} to {phase.value}",
        data={"from": old.value, "to": phase.value},
    )
    text = ctx.render.slack("phase_changed", incident=current, old=old, actor=actor)
    await follow_with(ctx, session, Work.POST_IN_CHANNEL, incident_id=current.id, payload={"text": text},
                      requested_by=actor)
    await follow_with(ctx, session, Work.RECORD_PHASE, incident_id=current.id,
                      payload={"phase": phase.value, "at": now.isoformat()})
    await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=current.id)
    if not via_update:
        await follow_with(ctx, session, Work.PROPOSE_STATUS_DRAFT, incident_id=current.id, requested_by=actor,
                          payload={"phase": phase.value, "text": "", "actor": actor})
