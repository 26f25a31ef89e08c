"""Moving an incident between phases, checked against one table of allowed transitions."""

from __future__ import annotations

from bot.consequences import follow
from bot.context import BotContext
from bot.errors import IncidentError
from bot.incidents.records import row_for_update
from bot.slack.posting import tell_channel
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
    """Set a new phase (never *resolved*: that is the resolve form's job), announce it, log it.

    Decided on the row-locked incident and recorded with its timeline entry
    in one transaction; the announcement follows in the channel, then
    whatever else reacts to phase changes (summary, drafts, metrics).
    ``via_update`` says a posted status update made the change.
    """
    assert incident.id is not None
    incident_id = incident.id
    async with ctx.incident_locks[incident_id]:
        async with row_for_update(ctx, incident_id) as (session, current):
            old = current.phase
            check_transition(current, phase)
            if phase is Phase.RESOLVED:
                raise IncidentError(RESOLVE_THROUGH_FORM)
            current.phase = phase
            session.add(current)
            await queries.add_timeline(
                session=session, incident_id=incident_id, kind="phase_changed", actor=actor,
                text=f"Status changed from {old.value} to {phase.value}",
                data={"from": old.value, "to": phase.value},
            )
        await tell_channel(ctx, current, ctx.render.slack("phase_changed", incident=current, old=old, actor=actor))
    await follow.after_phase_change(ctx, current, old=old, actor=actor, via_update=via_update)
    return current
