"""What every part of the update reminders reads: the cadence, the reminder state, the waiting prompt.

The arming (:mod:`bot.reminders.cadence`), the reminder job
(:mod:`bot.reminders.prompting`), the escalation matrix
(:mod:`bot.reminders.escalation`) and the buttons (:mod:`bot.reminders.prompts`)
all start from here, so none of them needs another's module.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.context import BotContext
from bot.slack import blocks
from bot.slack.gateway import SlackCallFailed
from storage import queries
from storage.models import Incident, ReminderState

log = logging.getLogger(__name__)

REMINDER = "reminder:"
ESCALATION = "escalation:"
EARLY_TOLERANCE = timedelta(seconds=1)
"""A job this close to its incident's due time counts as due (clocks and timers are not exact)."""
RETRY_AFTER_FAILURE = timedelta(minutes=1)

PromptOutcome = Literal["no_change", "snoozed", "updated", "superseded", "stopped"]


def cadence(ctx: BotContext, incident: Incident) -> timedelta:
    """How long after the last update, *No change* or prompt the next prompt is due."""
    return ctx.config.policy(incident.severity).update_every


def readable(duration: timedelta) -> timedelta:
    """A duration as people read it in a reminder: whole minutes once past a minute."""
    seconds = int(duration.total_seconds())
    return timedelta(seconds=seconds if seconds < 60 else seconds - seconds % 60)


async def with_state(
    session: AsyncSession, incident_id: int, *, open_only: bool = True
) -> tuple[Incident, ReminderState] | None:
    """An incident and its reminder state; None when either is gone, or (``open_only``) it is closed."""
    incident = await queries.get_incident(session=session, incident_id=incident_id)
    state = await queries.reminder_state(session=session, incident_id=incident_id)
    if incident is None or state is None or (open_only and not incident.is_open):
        return None
    return incident, state


async def close_prompt(
    ctx: BotContext, incident: Incident, ts: str, *, outcome: PromptOutcome, actor: str | None = None,
    next_due: datetime | None = None,
) -> None:
    """Replace a prompt's buttons by how it ended, so it cannot be answered again."""
    if incident.channel_id is None:
        return
    text = ctx.render.slack("reminder_closed", incident=incident, outcome=outcome, actor=actor, next_due=next_due)
    try:
        await ctx.slack.update_message(incident.channel_id, ts, text=text, blocks=blocks.message(text))
    except SlackCallFailed as exc:
        if exc.transient:
            raise  # the piece of work closing it is tried again
        log.info("could not close the update reminder %s of %s: %s", ts, incident.reference, exc)
