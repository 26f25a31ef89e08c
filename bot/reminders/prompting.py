"""The reminder job: prompt the IC when an update is due, then arm the next prompt.

``reminder:<id>`` is armed at the incident's ``next_update_due``. When it runs
and the update is due, the prompt round is first claimed in the database
(:func:`storage.queries.claim_prompt_round`), so two replicas running the job
at once never both post; the prompt is posted, tagged with its round; then
the round is recorded and the next prompt armed a cadence later. A round
claimed by a worker that died before recording it is taken over once the
claim lapses, adopting the prompt if Slack already has it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.context import BotContext
from bot.incidents.summary import refresh_summary
from bot.reminders.escalation import escalate_missed
from bot.reminders.state import (
    EARLY_TOLERANCE,
    REMINDER,
    RETRY_AFTER_FAILURE,
    cadence,
    close_prompt,
    readable,
    with_state,
)
from bot.runtime.scheduler import after_job, job_context, schedule
from bot.slack import blocks
from bot.slack.gateway import SlackCallFailed
from storage import queries
from storage.models import Incident, Role

log = logging.getLogger(__name__)

CLAIM_LAPSES = RETRY_AFTER_FAILURE
"""After this long, a prompt round claimed but never recorded is taken to be abandoned (its worker died)."""


async def arm(ctx: BotContext, incident_id: int, at: datetime) -> None:
    """(Re)arm the incident's reminder job; the caller has stored ``at`` as next_update_due."""
    schedule(ctx, f"{REMINDER}{incident_id}", remind, at, incident_id)


@dataclass(frozen=True, slots=True)
class _Prompted:
    """A prompt just posted and recorded (the next one already armed), and what still follows it."""

    incident: Incident
    roles: dict[Role, str]
    previous: str | None
    missed: int
    escalate: bool
    at: datetime


async def remind(incident_id: int) -> None:
    """Job: prompt in the incident channel if the update is due, then arm the next prompt."""
    ctx = job_context()
    try:
        prompted = await _prompt(ctx, incident_id)
    except Exception:
        # A reminder job that dies before re-arming would silence the incident until
        # the next alignment with the database; whatever went wrong, try again shortly.
        log.exception("update reminder for incident %s failed; trying again shortly", incident_id)
        await arm(ctx, incident_id, ctx.clock.now() + RETRY_AFTER_FAILURE)
        return
    if prompted is None:
        return
    incident = prompted.incident
    after_job(_tidy_up(ctx, incident, prompted.previous), name=f"reminder-tidy-up-{incident_id}")
    if prompted.escalate:
        await escalate_missed(ctx, incident, prompted.roles, missed=prompted.missed, now=prompted.at)


async def _prompt(ctx: BotContext, incident_id: int) -> _Prompted | None:
    """Post the prompt if it is due, record it and arm the next one; None when nothing was posted."""
    async with ctx.incident_locks[incident_id]:
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            if (found := await with_state(session, incident_id)) is None:
                return None
            incident, state = found
            roles = await queries.current_roles(session=session, incident_id=incident_id)
        due = incident.next_update_due
        if due is not None and due > now + EARLY_TOLERANCE:
            await arm(ctx, incident_id, due)
            return None
        prompt_round, abandoned = state.prompt_rounds, state.posting
        async with ctx.db.session() as session:
            claimed = await queries.claim_prompt_round(session=session, incident_id=incident_id,
                                                       prompt_round=prompt_round, at=now,
                                                       lapsed_before=now - CLAIM_LAPSES)
        if not claimed:
            # Another worker is posting this round: look again once its claim would have lapsed.
            log.info("the update reminder of incident %s is being posted elsewhere", incident_id)
            await arm(ctx, incident_id, now + CLAIM_LAPSES)
            return None
        every = cadence(ctx, incident)
        marker = {"event_type": "incident_update_prompt",
                  "event_payload": {"incident_id": incident_id, "round": prompt_round}}
        posted = None
        if abandoned and incident.channel_id is not None:
            # The worker that claimed this round before stopped between posting and
            # recording (a crash, a leader that died): adopt its prompt rather than post a second.
            posted = await ctx.slack.find_own_message(incident.channel_id, marker)
        if posted is None:
            posted = await _post_prompt(ctx, incident, ic=roles.get(Role.IC), missed=state.unanswered, every=every,
                                        now=now, metadata=marker)
        escalate_now = posted is not None and state.unanswered >= ctx.config.escalate_after \
            and state.escalated_at is None
        async with ctx.db.session() as session:
            stored = await with_state(session, incident_id, open_only=False)
            assert stored is not None
            current, recorded = stored
            current.next_update_due = now + every
            session.add(current)
            recorded.posting = False
            if posted is not None:
                recorded.prompt_ts, recorded.prompted_at, recorded.counted_from = posted, now, now
                recorded.prompt_rounds = prompt_round + 1
                recorded.unanswered += 1
                recorded.escalated_at = now if escalate_now else recorded.escalated_at
            session.add(recorded)
        await arm(ctx, incident_id, now + every)
    if posted is None:
        return None
    return _Prompted(incident=incident, roles=roles, previous=state.prompt_ts, missed=state.unanswered,
                     escalate=escalate_now, at=now)


async def _tidy_up(ctx: BotContext, incident: Incident, previous: str | None) -> None:
    """After a prompt: the one before loses its buttons, the summary shows the new due time.

    Both are chat.update calls, which Slack rate-limits far harder than new
    messages, so they run beside the reminder jobs rather than inside them.
    """
    assert incident.id is not None
    if previous is not None:
        await close_prompt(ctx, incident, previous, outcome="superseded")
    await refresh_summary(ctx, incident.id, topic=False)


async def _post_prompt(
    ctx: BotContext, incident: Incident, *, ic: str | None, missed: int, every: timedelta, now: datetime,
    metadata: dict[str, Any],
) -> str | None:
    """Post the prompt; returns its ts, or None when there is no channel yet or Slack refused."""
    if incident.channel_id is None:
        return None
    assert incident.id is not None
    last = incident.last_update_at or incident.declared_at
    text = ctx.render.slack("reminder_prompt", incident=incident, ic=ic, last_update_at=incident.last_update_at,
                            since=readable(now - last), cadence=every, missed=missed)
    try:
        posted = await ctx.slack.post_message(incident.channel_id, text=text, metadata=metadata,
                                              blocks=blocks.reminder_prompt(text, incident_id=incident.id))
    except SlackCallFailed as exc:
        log.warning("could not post the update reminder for %s: %s", incident.reference, exc)
        return None
    return posted.ts
