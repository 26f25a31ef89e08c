"""The reminder job: prompt the IC when an update is due, then arm the next prompt.

``reminder:<id>`` is armed at the incident's ``next_update_due``. When it runs
and the update is due, the prompt round is first claimed in the database
(:func:`storage.queries.claim_prompt_round`), so two replicas running the job
at once never both post; the prompt is posted, tagged with its round; then
the round is recorded, once whoever records it, together with what follows
it (the previous prompt closed, the summary refreshed, and after too many
missed prompts the escalation), and the next prompt armed a cadence later.
A round claimed but not recorded is adopted when Slack already has its prompt
(its worker died after posting), and otherwise taken over once the claim
lapses (its worker died before posting, or is still posting).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.durations import format_duration
from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.reminders.escalation import record_missed_escalation
from bot.reminders.state import (
    EARLY_TOLERANCE,
    REMINDER,
    RETRY_AFTER_FAILURE,
    cadence,
    readable,
    with_state,
)
from bot.runtime.scheduler import job_context, schedule
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


async def remind(incident_id: int) -> None:
    """Job: prompt in the incident channel if the update is due, then arm the next prompt."""
    ctx = job_context()
    try:
        await _prompt(ctx, incident_id)
    except Exception:
        # A reminder job that dies before re-arming would silence the incident until
        # the next alignment with the database; whatever went wrong, try again shortly.
        log.exception("update reminder for incident %s failed; trying again shortly", incident_id)
        await arm(ctx, incident_id, ctx.clock.now() + RETRY_AFTER_FAILURE)


async def _prompt(ctx: BotContext, incident_id: int) -> None:
    """Post the prompt if it is due, record it with what follows it, and arm the next one."""
    async with ctx.incident_locks[incident_id]:
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            if (found := await with_state(session, incident_id)) is None:
                return
            incident, state = found
            roles = await queries.current_roles(session=session, incident_id=incident_id)
        due = incident.next_update_due
        if due is not None and due > now + EARLY_TOLERANCE:
            await arm(ctx, incident_id, due)
            return
        every = cadence(ctx, incident)
        prompt_round, missed = state.prompt_rounds, state.unanswered
        marker = {"event_type": "incident_update_prompt",
                  "event_payload": {"incident_id": incident_id, "round": prompt_round}}
        posted = None
        if state.posting and incident.channel_id is not None:
            # A worker claimed this round and has not recorded it: if it posted and then
            # died (a crash, a leader that lost its lock), adopt its prompt rather than post a second.
            posted = await ctx.slack.find_own_message(incident.channel_id, marker)
        if posted is None:
            async with ctx.db.session() as session:
                claimed = await queries.claim_prompt_round(session=session, incident_id=incident_id,
                                                           prompt_round=prompt_round, at=now,
                                                           lapsed_before=now - CLAIM_LAPSES)
            if not claimed:
                # Another worker is posting this round: look again once its claim would have lapsed.
                log.info("the update reminder of incident %s is being posted elsewhere", incident_id)
                await arm(ctx, incident_id, now + CLAIM_LAPSES)
                return
            posted = await _post_prompt(ctx, incident, ic=roles.get(Role.IC), missed=missed, every=every,
                                        now=now, metadata=marker)
        escalate_now = posted is not None and missed >= ctx.config.escalate_after and state.escalated_at is None
        async with ctx.db.session() as session:
            recorded = await queries.record_prompt(session=session, incident_id=incident_id,
                                                   prompt_round=prompt_round, ts=posted, at=now,
                                                   escalated=escalate_now)
            # Not recorded: the worker presumed dead was only slow, and recorded the round itself.
            if recorded:
                stored = await queries.get_incident(session=session, incident_id=incident_id)
                assert stored is not None
                stored.next_update_due = now + every
                session.add(stored)
            if recorded and posted is not None:
                await _record_what_follows(ctx, session, incident, previous=state.prompt_ts)
                if escalate_now:
                    await record_missed_escalation(ctx, session, incident, roles, missed=missed, now=now)
        await arm(ctx, incident_id, now + every)


async def _record_what_follows(
    ctx: BotContext, session: AsyncSession, incident: Incident, *, previous: str | None
) -> None:
    """After a prompt: the one before loses its buttons, the summary shows the new due time.

    Both are chat.update calls, which Slack rate-limits far harder than new
    messages: they are recorded as follow-up work with the prompt, so a Slack
    hiccup delays them and never loses them, and the next due job is not held up.
    """
    assert incident.id is not None
    if previous is not None:
        await follow_with(ctx, session, Work.CLOSE_PROMPT, incident_id=incident.id,
                          payload={"ts": previous, "outcome": "superseded"})
    await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=incident.id, payload={"topic": False})


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
                                              blocks=blocks.reminder_prompt(text, incident_id=incident.id,
                                                                                 snooze=format_duration(ctx.config.snooze)))
    except SlackCallFailed as exc:
        log.warning("could not post the update reminder for %s: %s", incident.reference, exc)
        return None
    return posted.ts
