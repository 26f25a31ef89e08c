"""Status updates: the update form, reading it, and what posting one changes.

The form opens from a reminder prompt, the pinned summary or ``/incident
update``, prefilled from the previous update so people only say what changed.
A submission is recorded in one transaction (the update, the customer-facing
flag, the reminder state, the timeline) before the modal closes; the channel
message, the next reminder, the phase change and the summary follow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.slack import blocks

from bot.consequences.kinds import Work
from bot.consequences.messages import post_once
from bot.consequences.record import follow_with

from bot.reminders import cadence
from bot.slack.blocks import ETA_MAX, UPDATE_TEXT_MAX
from bot.context import BotContext
from bot.slack.blocks import View
from bot.metrics import milestones
from bot.errors import FormError, IncidentError
from bot.slack.ids import UpdateField
from bot.slack.modal_state import ModalState, StateValues
from bot.status.eta import EtaPassed, parse_eta
from bot.incidents.records import incident_in_channel
from bot.incidents.phases import apply_phase_change
from bot.slack.posting import CHANNEL_UNUSABLE
from bot.errors import SlackCallFailed
from bot.reminders.prompts import responder_in_channel
from storage import queries
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import FollowUpWork, Incident, IncidentUpdate, Phase

log = logging.getLogger(__name__)

UPDATE_USAGE = "/incident update"
UPDATE_PHASES = (Phase.INVESTIGATING, Phase.IDENTIFIED, Phase.MONITORING)
"""Phases an update may set; resolving has its own form (summary, root cause)."""


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    """What the update modal asked for, already validated."""

    incident_id: int
    request_key: str
    posted_by: str
    phase: Phase
    what_changed: str
    next_steps: str
    eta: str
    eta_at: datetime | None
    customer_facing: bool


# -- reading the form -------------------------------------------------------------


def read_form(values: StateValues, *, user_id: str, view_id: str, metadata: dict[str, Any],
              now: datetime, tz: ZoneInfo) -> UpdateRequest:
    """Validate the update modal (pure); every problem is reported under its field at once."""
    state = ModalState(values)
    errors: dict[str, str] = {}
    phase_value = state.option(UpdateField.PHASE)
    phase = next((p for p in UPDATE_PHASES if p.value == phase_value), None)
    if phase is None:
        errors[UpdateField.PHASE] = "Pick the phase the incident is in (to resolve it, use /incident resolve)."
    what_changed, next_steps, eta = (state.text(UpdateField.WHAT_CHANGED), state.text(UpdateField.NEXT_STEPS),
                                     state.text(UpdateField.ETA))
    if not what_changed:
        errors[UpdateField.WHAT_CHANGED] = ("Say what changed since the last update. "
                                            "If nothing did, press No change on the reminder instead.")
    elif len(what_changed) > UPDATE_TEXT_MAX:
        errors[UpdateField.WHAT_CHANGED] = f"This is {len(what_changed)} characters; keep it to {UPDATE_TEXT_MAX}."
    if len(next_steps) > UPDATE_TEXT_MAX:
        errors[UpdateField.NEXT_STEPS] = f"This is {len(next_steps)} characters; keep it to {UPDATE_TEXT_MAX}."
    eta_at: datetime | None = None
    if len(eta) > ETA_MAX:
        errors[UpdateField.ETA] = f"Keep the ETA to {ETA_MAX} characters, e.g. “45m” or “14:30”."
    else:
        try:
            eta_at = parse_eta(eta, now=now, tz=tz)
        except EtaPassed as exc:
            errors[UpdateField.ETA] = str(exc)
    facing = state.yes_no(UpdateField.CUSTOMER_FACING)
    if facing is None:
        errors[UpdateField.CUSTOMER_FACING] = "Say whether customers can see this incident."
    incident_id = metadata.get("incident_id")
    if not isinstance(incident_id, int):
        errors[UpdateField.WHAT_CHANGED] = "This form lost track of its incident; close it and open it again."
    if errors:
        raise FormError(errors)
    assert phase is not None and isinstance(incident_id, int) and facing is not None
    return UpdateRequest(
        incident_id=incident_id, request_key=f"update:{view_id}", posted_by=user_id, phase=phase,
        what_changed=what_changed, next_steps=next_steps, eta=" ".join(eta.split()), eta_at=eta_at,
        customer_facing=facing,
    )


def read_submission(ctx: BotContext, values: StateValues, *, user_id: str, view_id: str,
                    metadata: dict[str, Any]) -> UpdateRequest:
    """:func:`read_form` at the current time, in the configured zone."""
    return read_form(values, user_id=user_id, view_id=view_id, metadata=metadata, now=ctx.clock.now(), tz=ctx.config.tz)


# -- opening the form ----------------------------------------------------------------


async def form_from_command(ctx: BotContext, *, channel_id: str) -> View:
    """The update modal for ``/incident update`` in an incident channel."""
    incident = await incident_in_channel(ctx, channel_id, UPDATE_USAGE)
    if not incident.is_open:
        raise IncidentError(f"{incident.reference} is resolved, so it needs no updates; nothing was changed. "
                            "Reopen it with `/incident reopen` if it is not over.")
    return await _form(ctx, incident)


async def form_from_button(ctx: BotContext, *, channel_id: str, user_id: str, incident_id: int | None,
                           from_prompt: bool) -> View:
    """The update modal for *Post update* on a reminder prompt or on the pinned summary, for members
    of the channel; pressing it on a prompt is a response for the metrics."""
    incident = await responder_in_channel(ctx, channel_id=channel_id, user_id=user_id, incident_id=incident_id)
    if from_prompt:
        assert incident.id is not None
        await milestones.record_response(ctx, incident.id, at=ctx.clock.now(), check_in=False)
    return await _form(ctx, incident)


async def _form(ctx: BotContext, incident: Incident) -> View:
    assert incident.id is not None
    async with ctx.db.session() as session:
        previous = await queries.latest_update(session=session, incident_id=incident.id)
    view = blocks.update_modal(
        intro=ctx.render.slack("update_intro", incident=incident, previous=previous),
        phases=[p.value for p in UPDATE_PHASES],
        phase=incident.phase.value,
        what_changed=previous.what_changed if previous else "",
        next_steps=previous.next_steps if previous else "",
        eta=_eta_prefill(ctx, previous),
        customer_facing=incident.customer_facing,
        metadata={"incident_id": incident.id},
    )
    return view


def _eta_prefill(ctx: BotContext, previous: IncidentUpdate | None) -> str:
    """The previous ETA as a local time that reads back the same, or its words; a passed ETA is dropped."""
    if previous is None:
        return ""
    if previous.eta_at is None:
        return previous.eta
    if previous.eta_at <= ctx.clock.now():
        return ""
    return previous.eta_at.astimezone(ctx.config.tz).strftime("%Y-%m-%d %H:%M")


# -- posting ---------------------------------------------------------------------------


class _AlreadyPosted(Exception):
    """The same modal was submitted before (a double click or Slack's retry): undo and ignore."""


async def record_update(ctx: BotContext, request: UpdateRequest) -> IncidentUpdate | None:
    """Store the update and everything it changes, or raise FormError; None for a repeated submission.

    Runs before the modal closes, so a problem the form could not see (the
    incident resolved meanwhile, a private incident marked customer-facing)
    is shown under its field and nothing is stored. The submission is claimed
    last, inside the same transaction, so a refused or failed one can be
    submitted again.
    """
    now = ctx.clock.now()
    try:
        async with ctx.incident_locks[request.incident_id], ctx.db.session() as session:
            if await queries.delivery_claimed(session=session, key=request.request_key):
                raise _AlreadyPosted
            incident = await queries.incident_for_update(session=session, incident_id=request.incident_id)
            state = await queries.reminder_state(session=session, incident_id=request.incident_id)
            if incident is None or state is None:
                raise FormError({UpdateField.WHAT_CHANGED: "This incident no longer exists."})
            _check(incident, request)
            previous = await queries.latest_update(session=session, incident_id=request.incident_id)
            if previous is not None and previous.what_changed == request.what_changed:
                raise FormError({UpdateField.WHAT_CHANGED: (
                    "This is what the last update said. Say what changed since then, "
                    "or press No change on the reminder instead.")})
            update = IncidentUpdate(
                incident_id=request.incident_id, phase=request.phase, what_changed=request.what_changed,
                next_steps=request.next_steps, eta=request.eta, eta_at=request.eta_at,
                customer_facing=request.customer_facing, posted_by=request.posted_by, posted_at=now,
            )
            session.add(update)
            answered = cadence.mark_updated(incident, state, at=now, every=cadence.cadence(ctx, incident))
            incident.customer_facing = request.customer_facing
            session.add_all([incident, state])
            await queries.add_timeline(
                session=session, incident_id=request.incident_id, kind="update_posted", actor=request.posted_by,
                at=now, text=f"Status update: {request.what_changed}",
                data={"phase": request.phase.value, "eta": request.eta, "customer_facing": request.customer_facing},
            )
            await session.flush()
            await _follow_update(ctx, session, incident, update, answered)
            if not await queries.claim_delivery(session=session, key=request.request_key):
                raise _AlreadyPosted
    except _AlreadyPosted:
        return None
    return update


def _check(incident: Incident, request: UpdateRequest) -> None:
    if not incident.is_open:
        raise FormError({UpdateField.WHAT_CHANGED: (
            f"{incident.reference} was resolved while this form was open, so the update was not posted. "
            "Reopen it with /incident reopen if it is not over.")})
    if request.customer_facing and (incident.private or incident.drill):
        kind = "private incident" if incident.private else "drill"
        raise FormError({UpdateField.CUSTOMER_FACING: (
            f"A {kind} is never customer-facing: nothing about it goes on the status page. Choose No.")})


async def _follow_update(ctx: BotContext, session: AsyncSession, incident: Incident, update: IncidentUpdate,
                         answered_prompt: str | None) -> None:
    """Record, with the update, everything it causes: the channel message, the next reminder,
    the answered prompt closed, the phase change, the metrics, the summary and the status draft."""
    assert incident.id is not None and update.id is not None and incident.next_update_due is not None
    actor = update.posted_by
    new_phase = update.phase if update.phase != incident.phase else None
    await follow_with(ctx, session, Work.POST_UPDATE, incident_id=incident.id, requested_by=actor,
                      payload={"update_id": update.id, "old_phase": incident.phase.value if new_phase else None,
                               "next_due": incident.next_update_due.isoformat()})
    await follow_with(ctx, session, Work.ARM_REMINDER, incident_id=incident.id,
                      payload={"at": incident.next_update_due.isoformat()})
    if answered_prompt is not None:
        await follow_with(ctx, session, Work.CLOSE_PROMPT, incident_id=incident.id,
                          payload={"ts": answered_prompt, "outcome": "updated", "actor": actor})
    if new_phase is not None:
        try:
            await apply_phase_change(ctx, session, incident, new_phase, actor=actor, via_update=True)
        except IncidentError as exc:
            log.info("the update's phase change of %s was not made: %s", incident.reference, exc.message)
    await follow_with(ctx, session, Work.RECORD_RESPONSE, incident_id=incident.id,
                      payload={"at": update.posted_at.isoformat(), "check_in": True})
    await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=incident.id, payload={"topic": False})
    if update.customer_facing:  # one status draft per update, even when it also changed the phase
        await follow_with(ctx, session, Work.PROPOSE_STATUS_DRAFT, incident_id=incident.id, requested_by=actor,
                          payload={"phase": update.phase.value, "text": update.what_changed, "actor": actor,
                                   "source_key": f"update:{update.id}"})


async def post_update_message(ctx: BotContext, work: FollowUpWork) -> None:
    """Post the update in the incident channel and remember where, for the post-mortem's links."""
    async with ctx.db.session() as session:
        update = await session.get(IncidentUpdate, work.payload["update_id"])
        incident = await queries.get_incident(session=session, incident_id=work.incident_id or 0)
    if update is None or incident is None or incident.channel_id is None:
        return
    old_phase = work.payload.get("old_phase")
    text = ctx.render.slack("update_posted", incident=incident, update=update,
                            old_phase=Phase(old_phase) if old_phase else None,
                            next_due=datetime.fromisoformat(str(work.payload["next_due"])))
    try:
        posted = await post_once(ctx, work, incident.channel_id, text)
    except SlackCallFailed as exc:
        if exc.error not in CHANNEL_UNUSABLE:
            raise
        log.warning("could not post the update of %s: %s", incident.reference, exc)
        return
    async with ctx.db.session() as session:
        update.message_ts = posted.ts
        session.add(update)
