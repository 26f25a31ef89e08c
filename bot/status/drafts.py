"""Status-page drafts: proposed from updates and phase changes, decided from Slack buttons.

A customer-facing incident gets a draft of its public status text for each
update and each phase change. The communications lead (or the incident
commander, or a configured approver) approves, edits or rejects it. Every
decision is one conditional UPDATE on a pending draft, so double clicks,
concurrent approvers and retried deliveries can never decide it twice;
approving hands it to :mod:`bot.status.publication`, which publishes it exactly once.
Private incidents and drills never get a draft.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from markupsafe import Markup

from bot.status import draft_messages

from bot.status import draft_wording
from bot.slack.blocks import DRAFT_TEXT_MAX, REJECT_REASON_MAX
from bot.config.render import slack_date
from bot.context import BotContext
from bot.slack.blocks import View
from bot.errors import FormError, IncidentError
from bot.slack.ids import DraftField
from bot.slack.modal_state import ModalState, StateValues, read_metadata
from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.status.statuspage_client import client_for
from storage import queries
from storage.models import DraftState, ExternalState, Incident, Phase, Role, StatusDraft

log = logging.getLogger(__name__)

TimeShown = Callable[[datetime], str]
"""How a refusal shows a time: to each reader in their zone, or in the configured zone, named."""

NOT_ALLOWED = (
    "Only the communications lead, the incident commander or a configured approver can decide "
    "status drafts. Nothing was changed."
)


def gets_public_drafts(incident: Incident) -> bool:
    """Customer-facing incidents do; private incidents and drills never, whatever else is set."""
    return incident.customer_facing and not incident.private and not incident.drill


async def propose_draft(
    ctx: BotContext, incident_id: int, *, phase: Phase, text: str, actor: str, source_key: str | None = None
) -> StatusDraft | None:
    """Draft the public status text for this phase, carrying ``text`` (the update's *What changed*).

    Returns None, changing nothing, for incidents that get no public drafts
    (and for phases other than *resolved* once the incident is resolved).
    ``source_key`` names what caused the draft (``update:42``): a repeated
    call with the same key returns the first draft instead of a second one.
    The draft message is posted in the incident channel; a Slack failure is
    raised, so the worker proposing it tries again (the key finds the draft).
    """
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        incident = await queries.get_incident(session=session, incident_id=incident_id)
        if incident is None:
            raise LookupError(f"incident {incident_id} does not exist")
        if not gets_public_drafts(incident) or (not incident.is_open and phase != Phase.RESOLVED):
            return None
        draft, created = await queries.add_draft(session=session, draft=StatusDraft(
            incident_id=incident_id, phase=phase, what_changed=text.strip(), created_by=actor, created_at=now,
            text=draft_wording.public_text(ctx, incident, phase, text, now=now), source_key=source_key,
        ))
        if created:
            await queries.add_timeline(session=session, incident_id=incident_id, kind="status_draft_proposed",
                                       actor=actor, at=now, text=f"Status page draft proposed ({phase.value})",
                                       data={"draft_id": draft.id})
    assert draft.id is not None
    await draft_messages.post_draft(ctx, draft.id)  # a retry posts what an earlier attempt could not
    return draft


async def may_decide(ctx: BotContext, incident: Incident, user_id: str) -> bool:
    """The comms lead, the IC, a listed approver, or a member of a listed user group."""
    assert incident.id is not None
    async with ctx.db.session() as session:
        roles = await queries.current_roles(session=session, incident_id=incident.id)
    if user_id in {roles.get(Role.COMMS), roles.get(Role.IC)} or user_id in ctx.config.approvers:
        return True
    for group in (a for a in ctx.config.approvers if a.startswith("S")):
        if user_id in await ctx.slack.usergroup_members(group):
            return True
    return False


async def _decidable(ctx: BotContext, draft_id: int, user_id: str, *,
                     in_form: bool = False) -> tuple[StatusDraft, Incident]:
    """The draft, if this person may decide it and it is still waiting for a decision.

    A refusal ``in_form`` is shown under a modal's field, which is plain text.
    """
    draft, incident = await draft_messages.load(ctx, draft_id)
    if not await may_decide(ctx, incident, user_id):
        raise IncidentError(NOT_ALLOWED)
    refuse_if_closed(draft, incident, when=_time_shown(ctx, in_form=in_form))
    return draft, incident


def _time_shown(ctx: BotContext, *, in_form: bool) -> TimeShown:
    """Messages show each reader a time in their own zone; a modal's plain text, the configured zone, named."""
    if in_form:
        return ctx.render.local_time
    return lambda moment: slack_date(moment, ctx.config.tz)


def refuse_if_closed(draft: StatusDraft, incident: Incident, *, when: TimeShown) -> None:
    """A decided draft, or a stale one of a resolved incident, cannot be decided (again)."""
    if draft.state != DraftState.PENDING:
        raise IncidentError(already_decided(draft, when))
    if not incident.is_open and draft.phase != Phase.RESOLVED:
        raise IncidentError(
            f"This {draft.phase.value} draft is out of date: {incident.reference} has been resolved, so "
            "only its resolved draft can still be published. Nothing was changed."
        )


def already_decided(draft: StatusDraft, when: TimeShown) -> Markup:
    """Says when the draft was decided, with ``when`` showing the time (the text holds no user input)."""
    decided = when(draft.decided_at) if draft.decided_at else "earlier"
    verb = {DraftState.REJECTED: "rejected", DraftState.SUPERSEDED: "replaced by a newer approved draft"}.get(
        draft.state, "approved")
    return Markup(f"This status draft was already {verb} ({decided}). Nothing was changed.")


async def approve_draft(ctx: BotContext, draft_id: int, *, actor: str) -> StatusDraft:
    """Approve a pending draft and publish it; older pending drafts of the incident are superseded.

    The decision is committed before anything is published: from then on
    the publication is follow-up work recorded with it, so it happens even if this process dies.
    """
    draft, incident = await _decidable(ctx, draft_id, actor)
    now = ctx.clock.now()
    external = ExternalState.PENDING if client_for(ctx.settings, ctx.config) else ExternalState.NONE
    async with ctx.db.session() as session:
        won = await queries.decide_draft(session=session, draft_id=draft_id, state=DraftState.APPROVED,
                                         actor=actor, at=now, external=external)
        if won:
            superseded = await queries.supersede_older_drafts(session=session, incident_id=draft.incident_id,
                                                              newer_than=draft_id, actor=actor, at=now)
            await queries.add_timeline(session=session, incident_id=draft.incident_id, kind="status_draft_approved",
                                       actor=actor, at=now, text=f"Status page draft approved ({draft.phase.value})",
                                       data={"draft_id": draft_id, "superseded": superseded})
            for changed in (draft_id, *superseded):
                await follow_with(ctx, session, Work.REFRESH_STATUS_DRAFT, incident_id=draft.incident_id,
                                  payload={"draft_id": changed})
            await follow_with(ctx, session, Work.PUBLISH_STATUS_DRAFT, incident_id=draft.incident_id,
                              payload={"draft_id": draft_id}, requested_by=actor, key=f"publish-draft:{draft_id}")
    if not won:
        draft, _ = await draft_messages.load(ctx, draft_id)
        raise IncidentError(already_decided(draft, _time_shown(ctx, in_form=False)))
    return draft


async def edit_form(ctx: BotContext, draft_id: int, *, user_id: str) -> View:
    """The *Edit* modal, for those who may decide the draft."""
    draft, incident = await _decidable(ctx, draft_id, user_id)
    return draft_wording.edit_modal(ctx, incident, draft)


async def reject_form(ctx: BotContext, draft_id: int, *, user_id: str) -> View:
    """The *Reject* modal, for those who may decide the draft."""
    draft, incident = await _decidable(ctx, draft_id, user_id)
    return draft_wording.reject_modal(ctx, incident, draft)


def read_edit_form(values: StateValues, private_metadata: str) -> tuple[int, str]:
    """The draft id and the new text; an empty or too long text is a field error."""
    text = ModalState(values).text(DraftField.TEXT)
    if not text:
        raise FormError({DraftField.TEXT: "The public text cannot be empty. To publish nothing, reject the draft."})
    if len(text) > DRAFT_TEXT_MAX:
        raise FormError({DraftField.TEXT: f"The text is {len(text)} characters; keep it to {DRAFT_TEXT_MAX}."})
    return _draft_id(private_metadata, DraftField.TEXT), text


def read_reject_form(values: StateValues, private_metadata: str) -> tuple[int, str]:
    """The draft id and the optional reason."""
    reason = ModalState(values).text(DraftField.REASON)
    if len(reason) > REJECT_REASON_MAX:
        raise FormError({DraftField.REASON: f"The reason is {len(reason)} characters; keep it to "
                                            f"{REJECT_REASON_MAX}."})
    return _draft_id(private_metadata, DraftField.REASON), reason


def _draft_id(private_metadata: str, field: str) -> int:
    """The draft a modal was opened for."""
    value = read_metadata(private_metadata).get("draft_id")
    if not isinstance(value, int) or isinstance(value, bool):
        raise FormError({field: "This form no longer matches a draft; close it and press the button again."})
    return value


async def save_edit(ctx: BotContext, draft_id: int, *, text: str, actor: str) -> None:
    """Replace a pending draft's text (it stays pending); refusals become field errors."""
    try:
        await _decidable(ctx, draft_id, actor, in_form=True)
    except IncidentError as exc:
        raise FormError({DraftField.TEXT: exc.message}) from None
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        saved = await queries.edit_draft_text(session=session, draft_id=draft_id, text=text, actor=actor, at=now)
        if saved:
            draft = await queries.get_draft(session=session, draft_id=draft_id)
            assert draft is not None
            await queries.add_timeline(session=session, incident_id=draft.incident_id, kind="status_draft_edited",
                                       actor=actor, at=now, text="Status page draft edited",
                                       data={"draft_id": draft_id})
            await follow_with(ctx, session, Work.REFRESH_STATUS_DRAFT, incident_id=draft.incident_id,
                              payload={"draft_id": draft_id})
    if not saved:
        draft, _ = await draft_messages.load(ctx, draft_id)
        refusal = already_decided(draft, ctx.render.local_time)
        raise FormError({DraftField.TEXT: f"{refusal} Your edit was not saved."})


async def reject_draft(ctx: BotContext, draft_id: int, *, reason: str, actor: str) -> None:
    """Reject a pending draft; nothing is published. Refusals become field errors."""
    try:
        draft, _ = await _decidable(ctx, draft_id, actor, in_form=True)
    except IncidentError as exc:
        raise FormError({DraftField.REASON: exc.message}) from None
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        won = await queries.decide_draft(session=session, draft_id=draft_id, state=DraftState.REJECTED,
                                         actor=actor, at=now, reason=reason)
        if won:
            await queries.add_timeline(session=session, incident_id=draft.incident_id, kind="status_draft_rejected",
                                       actor=actor, at=now, text="Status page draft rejected"
                                       + (f": {reason}" if reason else ""), data={"draft_id": draft_id})
            await follow_with(ctx, session, Work.REFRESH_STATUS_DRAFT, incident_id=draft.incident_id,
                              payload={"draft_id": draft_id})
    if not won:
        draft, _ = await draft_messages.load(ctx, draft_id)
        raise FormError({DraftField.REASON: already_decided(draft, ctx.render.local_time)})


async def retry_external(ctx: BotContext, draft_id: int, *, actor: str) -> None:
    """Send an incident's failed Statuspage updates again (the *Retry Statuspage* button)."""
    draft, incident = await draft_messages.load(ctx, draft_id)
    if not await may_decide(ctx, incident, actor):
        raise IncidentError(NOT_ALLOWED)
    if client_for(ctx.settings, ctx.config) is None:
        raise IncidentError("No Statuspage is configured any more, so there is nothing to retry.")
    async with ctx.db.session() as session:
        again = await queries.retry_failed_external(session=session, incident_id=draft.incident_id)
        if again:
            await follow_with(ctx, session, Work.SEND_TO_STATUSPAGE, incident_id=draft.incident_id, requested_by=actor)
    if not again:
        raise IncidentError("Statuspage already has every approved update of this incident. Nothing to retry.")
