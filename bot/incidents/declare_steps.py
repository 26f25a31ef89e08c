"""The Slack steps of a declare, each a piece of follow-up work the worker performs.

Creating the channel comes first; once it exists, its completion records
everything that needs it (invitations, the pinned summary, the topic, the
announcement, telling the declarer, the first reminder), and those run side by
side. Each step records its result on the incident as it completes and does
nothing when run again after success, so a retry, a crash or a second replica
never repeats one; a message whose answer was lost is looked for (by its
metadata) before being posted again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.config.settings import IncidentConfig
from bot.context import BotContext
from bot.incidents.records import load_incident
from bot.incidents.slug import channel_name
from bot.integrations.tickets.config import keeps_incident_ticket
from bot.reminders import cadence
from bot.slack import messages
from bot.errors import SlackCallFailed
from bot.slack.gateway import Posted
from bot.slack.posting import CHANNEL_UNUSABLE
from storage import queries
from storage.models import FollowUpWork, Incident

log = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 99
CLOCK_SKEW = timedelta(minutes=1)
"""How far Slack's clock (a channel's ``created``) may lag ours (the declaration) for a channel we made."""
AFTER_CHANNEL = (Work.INVITE_PEOPLE, Work.POST_SUMMARY, Work.SET_TOPIC, Work.ANNOUNCE_DECLARE,
                 Work.TELL_DECLARER, Work.ARM_FIRST_REMINDER)
"""What needs the channel, started together once it exists."""


def steps_after_channel(config: IncidentConfig, incident: Incident) -> tuple[Work, ...]:
    """What needs the channel, with the call link and the incident's ticket where they are configured."""
    steps = AFTER_CHANNEL
    if config.bridge_url is not None:
        steps += (Work.BOOKMARK_CALL_LINK,)
    if keeps_incident_ticket(config.tickets, incident):
        steps += (Work.OPEN_INCIDENT_TICKET,)
    return steps


async def create_channel(ctx: BotContext, work: FollowUpWork) -> None:
    """Create (or adopt) the channel, then record every step that needs it."""
    incident = await _incident(ctx, work)
    if incident.channel_id is None:
        await _create_channel(ctx, incident)
    async with ctx.db.session() as session:
        for kind in steps_after_channel(ctx.config, incident):
            await follow_with(ctx, session, kind, incident_id=incident.id, key=f"declare:{incident.id}:{kind.value}",
                              requested_by=work.requested_by)


async def invite_people(ctx: BotContext, work: FollowUpWork) -> None:
    incident = await _incident(ctx, work)
    if not incident.members_invited:
        await _invite(ctx, incident)


async def post_summary(ctx: BotContext, work: FollowUpWork) -> None:
    incident = await _incident(ctx, work)
    if incident.summary_ts is None or not incident.summary_pinned:
        await _post_summary(ctx, work, incident)


async def set_topic(ctx: BotContext, work: FollowUpWork) -> None:
    incident = await _incident(ctx, work)
    if not incident.topic_set:
        await _set_topic(ctx, incident)


async def announce(ctx: BotContext, work: FollowUpWork) -> None:
    incident = await _incident(ctx, work)
    if not incident.announced:
        await _announce(ctx, work, incident)


async def tell_declarer(ctx: BotContext, work: FollowUpWork) -> None:
    incident = await _incident(ctx, work)
    if not incident.declarer_told:
        await _tell_declarer(ctx, incident)


async def arm_reminders(ctx: BotContext, work: FollowUpWork) -> None:
    assert work.incident_id is not None
    await cadence.arm_new_incident(ctx, work.incident_id)


async def _incident(ctx: BotContext, work: FollowUpWork) -> Incident:
    assert work.incident_id is not None
    return await load_incident(ctx, work.incident_id)


async def _save(ctx: BotContext, incident: Incident, *, event: tuple[str, str] | None = None,
                at: datetime | None = None) -> None:
    """Persist a completed step (and its timeline entry) before moving on."""
    async with ctx.db.session() as session:
        session.add(incident)
        if event is not None:
            assert incident.id is not None
            await queries.add_timeline(session=session, incident_id=incident.id, kind=event[0],
                                       text=event[1], at=at)


async def _create_channel(ctx: BotContext, incident: Incident) -> None:
    """Create ``inc-YYYYMMDD-slug``, trying ``-2``, ``-3``… while names are taken.

    The name about to be tried is saved first. If Slack created the channel but
    the bot never learnt its id (a crash, or a timed-out call that was retried
    and then answered ``name_taken``), the channel is found by that name and
    adopted instead of creating a second one.
    """
    day = incident.declared_at.astimezone(ctx.config.tz).date()
    start = 1
    if incident.channel_name is not None:
        if await _adopt_orphan(ctx, incident, incident.channel_name):
            return
        start = _attempt_of(incident.channel_name)
    for attempt in range(start, MAX_NAME_ATTEMPTS + 1):
        name = channel_name(incident.title, day=day, prefix=ctx.config.channel_prefix,
                            suffix=None if attempt == 1 else attempt)
        incident.channel_name = name
        await _save(ctx, incident)
        try:
            incident.channel_id = await ctx.slack.create_channel(name, private=incident.private)
        except SlackCallFailed as exc:
            if exc.error == "name_taken":
                if await _adopt_orphan(ctx, incident, name):
                    return
                continue
            raise
        await _save(ctx, incident, event=("channel_created", f"Channel #{name} created"))
        return
    raise SlackCallFailed("conversations.create", "name_taken")


def _attempt_of(name: str) -> int:
    """Which attempt a saved name was (``…-3`` is the third), to resume from it."""
    head, _, tail = name.rpartition("-")
    return int(tail) if head and tail.isdigit() and 2 <= int(tail) <= MAX_NAME_ATTEMPTS else 1


async def _adopt_orphan(ctx: BotContext, incident: Incident, name: str) -> bool:
    """Take over the channel of that name if this declare itself created it; else it is someone else's.

    Only a channel the bot created after this incident was declared, and that
    no incident owns, can be one whose creation answer was lost. A channel of
    the same name the bot made earlier (for an incident in an older database,
    say) is never reused: the declare moves on to the next suffix.
    """
    found = await ctx.slack.find_channel(name)
    if found is None or found.get("is_archived"):
        return False
    identity = await ctx.slack.identity()
    if found.get("creator") != identity.get("user_id"):
        return False
    created = found.get("created")
    if not isinstance(created, int | float) or created < (incident.declared_at - CLOCK_SKEW).timestamp():
        return False
    async with ctx.db.session() as session:
        owner = await queries.incident_by_channel(session=session, channel_id=str(found["id"]))
    if owner is not None and owner.id != incident.id:
        return False
    incident.channel_id = str(found["id"])
    await _save(ctx, incident, event=("channel_created", f"Channel #{name} created"))
    return True


async def _invite(ctx: BotContext, incident: Incident) -> None:
    assert incident.channel_id is not None and incident.id is not None
    async with ctx.db.session() as session:
        roles = await queries.current_roles(session=session, incident_id=incident.id)
    people = {incident.declared_by, *roles.values(), *incident.responders}
    failed = await ctx.slack.invite(incident.channel_id, people)
    incident.members_invited = True
    invited = sorted(people - set(failed))
    text = "Invited " + ", ".join(f"<@{u}>" for u in invited)
    if failed:
        text += "; could not invite " + ", ".join(f"<@{u}> ({err})" for u, err in sorted(failed.items()))
    await _save(ctx, incident, event=("invited", text))


async def _post_summary(ctx: BotContext, work: FollowUpWork, incident: Incident) -> None:
    assert incident.channel_id is not None
    if incident.summary_ts is None:
        text, blocks = await messages.summary(ctx, incident)
        posted = await _post_once(ctx, work, incident, incident.channel_id, "summary", text, blocks)
        incident.summary_ts = posted.ts
        await _save(ctx, incident)
    await ctx.slack.pin(incident.channel_id, incident.summary_ts)
    incident.summary_pinned = True
    await _save(ctx, incident, event=("summary_pinned", "Summary posted and pinned"))


async def _set_topic(ctx: BotContext, incident: Incident) -> None:
    assert incident.channel_id is not None
    await ctx.slack.set_topic(incident.channel_id, messages.topic(ctx, incident))
    incident.topic_set = True
    await _save(ctx, incident)


async def _announce(ctx: BotContext, work: FollowUpWork, incident: Incident) -> None:
    """Announce in the announcements channel; never for private incidents or drills.

    A missing announcements channel is an operator's configuration problem:
    the incident goes on, the failure is logged on the timeline and told to
    the declarer, and the step is not retried forever.
    """
    if incident.private or incident.drill:
        incident.announced = True
        reason = "private incident" if incident.private else "drill"
        await _save(ctx, incident, event=("not_announced", f"Not announced publicly ({reason})"))
        return
    text, blocks = messages.announcement(ctx, incident)
    try:
        channel = await ctx.slack.resolve_channel(ctx.config.announcements_channel)
        posted = await _post_once(ctx, work, incident, channel, "announcement", text, blocks)
    except SlackCallFailed as exc:
        if exc.error not in CHANNEL_UNUSABLE:
            raise
        incident.announced = True
        problem = incident.setup_error = messages.announcement_problem(ctx, exc.error)
        await _save(ctx, incident, event=("announcement_failed", problem))
        if incident.origin_response_url:
            await _respond_quietly(ctx, incident.origin_response_url, f":warning: {problem}")
        return
    incident.announced = True
    incident.announcement_channel_id = posted.channel
    incident.announcement_ts = posted.ts
    await _save(ctx, incident, event=("announced", "Announced in the announcements channel"))


async def _post_once(
    ctx: BotContext, work: FollowUpWork, incident: Incident, channel: str, step: str, text: str, blocks: list[Any]
) -> Posted:
    """Post a declare message, unless an earlier, interrupted attempt already did.

    Each message carries metadata naming the incident and the step; when the
    declare is being resumed, the channel's recent history is searched for it
    first. A public channel the bot is not in is joined.
    """
    marker = {"event_type": "incident_declare_step", "event_payload": {"incident_id": incident.id, "step": step}}
    if work.attempts > 1:
        found = await ctx.slack.find_own_message(channel, marker)
        if found is not None:
            return Posted(channel=channel, ts=found)
    return await ctx.slack.post_message(channel, text=text, blocks=blocks, metadata=marker, join=True)


async def _tell_declarer(ctx: BotContext, incident: Incident) -> None:
    if incident.origin_response_url:
        await _respond_quietly(ctx, incident.origin_response_url, messages.declared(ctx, incident))
    incident.declarer_told = True
    await _save(ctx, incident)


async def _respond_quietly(ctx: BotContext, response_url: str, text: str) -> None:
    """Tell the declarer; a dead response_url (older than 30 min) must not stop the declare."""
    try:
        await ctx.slack.respond(response_url, text=text)
    except SlackCallFailed as exc:
        log.info("could not answer the declarer: %s", exc)


