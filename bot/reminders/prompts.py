"""Answering update reminders from their buttons: *No change* and *Snooze*.

Only the incident's people and members of its channel may answer, and only while the incident
is open. The one prompt waiting for an answer is closed by a conditional
update in the database, so a double click, or a press on an older prompt
after a newer one was posted, answers exactly once; every prompt the answer
touched loses its buttons and says how it was answered.
"""

from __future__ import annotations

from datetime import datetime


from markupsafe import Markup
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.render import slack_date
from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.errors import IncidentError
from bot.incidents.access import members
from bot.reminders import cadence
from bot.reminders.state import PromptOutcome
from storage import queries
from storage.models import Incident



async def responder_in_channel(ctx: BotContext, *, channel_id: str, user_id: str,
                               incident_id: int | None = None) -> Incident:
    """The open incident of this channel, if the person pressing is one of its people (declarer,
    responders, role holders: invited, perhaps not yet in the channel) or in its channel; else a
    clear refusal."""
    async with ctx.db.session() as session:
        incident = await queries.incident_by_channel(session=session, channel_id=channel_id)
    if incident is None or (incident_id is not None and incident.id != incident_id):
        raise IncidentError("This button belongs to no incident the bot knows; nothing was changed.")
    if not incident.is_open:
        assert incident.resolved_at is not None
        raise IncidentError(Markup(
            f"{incident.reference} was resolved {slack_date(incident.resolved_at, ctx.config.tz)}, so it needs "
            "no updates; nothing was changed. Reopen it with `/incident reopen` if it is not over."
        ))
    async with ctx.db.session(write=False) as session:
        holders = (await queries.current_roles(session=session, incident_id=incident.id or 0)).values()
    if user_id not in members(incident, holders) and user_id not in await ctx.slack.members(channel_id):
        raise IncidentError(
            f"Only members of {incident.reference}'s channel can answer for it. Join the channel first; "
            "nothing was changed."
        )
    return incident


async def no_change(
    ctx: BotContext, *, channel_id: str, user_id: str, incident_id: int | None, pressed_ts: str
) -> None:
    """Nothing new to report: logged, and the next prompt is a full cadence from now."""
    incident = await responder_in_channel(ctx, channel_id=channel_id, user_id=user_id, incident_id=incident_id)
    await _answer(ctx, incident, user_id=user_id, pressed_ts=pressed_ts, snoozed=False)


async def snooze(
    ctx: BotContext, *, channel_id: str, user_id: str, incident_id: int | None, pressed_ts: str
) -> None:
    """Ask again in 15 minutes."""
    incident = await responder_in_channel(ctx, channel_id=channel_id, user_id=user_id, incident_id=incident_id)
    await _answer(ctx, incident, user_id=user_id, pressed_ts=pressed_ts, snoozed=True)


async def _answer(ctx: BotContext, incident: Incident, *, user_id: str, pressed_ts: str, snoozed: bool) -> None:
    assert incident.id is not None
    incident_id = incident.id
    now = ctx.clock.now()
    next_due = now + (ctx.config.snooze if snoozed else cadence.cadence(ctx, incident))
    async with ctx.incident_locks[incident_id]:
        async with ctx.db.session() as session:
            state = await queries.reminder_state(session=session, incident_id=incident_id)
            waiting = state.prompt_ts if state is not None else None
            won = waiting is not None and await queries.answer_prompt(
                session=session, incident_id=incident_id, prompt_ts=waiting, counted_from=None if snoozed else now,
            )
            current = await queries.get_incident(session=session, incident_id=incident_id)
            assert current is not None
            if won:
                current.next_update_due = next_due
                session.add(current)
                await queries.add_timeline(
                    session=session, incident_id=incident_id, actor=user_id, at=now,
                    kind="reminder_snoozed" if snoozed else "no_change",
                    text=(f"Update reminder snoozed until {ctx.render.local_time(next_due)}" if snoozed
                          else "No change since the last update"),
                )
                assert waiting is not None
                await _follow_answer(ctx, session, incident_id, prompts=[waiting, pressed_ts], actor=user_id,
                                     at=now, next_due=next_due, snoozed=snoozed)
        if not won:
            due = slack_date(current.next_update_due, ctx.config.tz) if current.next_update_due else "not set"
            raise IncidentError(Markup(
                f"The update reminder for {incident.reference} was already answered; the next update is due "
                f"{due}. Nothing was changed."
            ))


async def _follow_answer(ctx: BotContext, session: AsyncSession, incident_id: int, *, prompts: list[str],
                         actor: str, at: datetime, next_due: datetime, snoozed: bool) -> None:
    """Record, with the answer, what follows it: the next reminder, the answered prompts closed
    (the waiting one and the one pressed, if older), the summary and the response metrics."""
    await follow_with(ctx, session, Work.ARM_REMINDER, incident_id=incident_id, payload={"at": next_due.isoformat()})
    outcome: PromptOutcome = "snoozed" if snoozed else "no_change"
    for ts in dict.fromkeys(prompts):
        await follow_with(ctx, session, Work.CLOSE_PROMPT, incident_id=incident_id, payload={
            "ts": ts, "outcome": outcome, "actor": actor, "next_due": next_due.isoformat()})
    await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=incident_id, payload={"topic": False})
    await follow_with(ctx, session, Work.RECORD_RESPONSE, incident_id=incident_id,
                      payload={"at": at.isoformat(), "check_in": not snoozed})
