"""Declaring an incident: record it first, then walk the Slack steps.

The incident row is committed before the slash-command modal is acknowledged,
so an acknowledged declare is never lost. Each Slack step then records its
result as it completes (channel id, invites, summary ts, pin, topic,
announcement, the declarer told), so :func:`finish_declare` can be run again
at any time, after a crash or a Slack outage, and only does what is missing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from bot.slack import blocks

from bot.slack import messages

from bot.reminders import cadence
from bot.context import BotContext
from bot.slack.forms import DeclareRequest
from bot.slack.gateway import Posted, SlackCallFailed
from bot.incidents.records import load_incident
from bot.incidents.slug import channel_name
from storage import queries
from storage.models import Incident, Role, utcnow

log = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 99
LEASE = timedelta(seconds=6)
RETRY_FIRST = timedelta(seconds=5)
RETRY_MAX = timedelta(minutes=10)


async def declare_incident(ctx: BotContext, request: DeclareRequest) -> tuple[Incident, bool]:
    """Store the incident, its IC and the first timeline entry in one transaction.

    Returns the incident and whether it is new; a repeated submission of the
    same modal (double click, Slack retry) returns the first one.
    """
    commander = request.commander or request.declared_by
    async with ctx.db.session() as session:
        existing = await queries.incident_by_request_key(session=session, request_key=request.request_key)
        if existing is not None:
            return existing, False
        incident = Incident(
            request_key=request.request_key,
            title=request.title,
            severity=request.severity,
            description=request.description,
            affected_services=request.affected_services,
            customer_impact=request.customer_impact,
            customer_facing=request.customer_impact and not request.drill and not request.private,
            private=request.private,
            drill=request.drill,
            declared_by=request.declared_by,
            responders=sorted(set(request.responders) - {commander}),
            origin_channel_id=request.origin_channel_id,
            origin_response_url=request.origin_response_url,
        )
        incident.next_update_due = incident.declared_at + ctx.config.policy(request.severity).update_every
        session.add(incident)
        await session.flush()
        assert incident.id is not None
        await queries.assign_role(session=session, incident_id=incident.id, role=Role.IC,
                                  user_id=commander, assigned_by=request.declared_by)
        await queries.add_timeline(
            session=session, incident_id=incident.id, kind="declared", actor=request.declared_by,
            at=incident.declared_at,
            text=f"Declared as SEV-{incident.severity}" + (" (drill)" if incident.drill else ""),
            data={"severity": incident.severity, "private": incident.private, "drill": incident.drill},
        )
    return incident, True


async def finish_declare(ctx: BotContext, incident_id: int) -> None:
    """Perform whichever declare steps have not completed yet, in order of importance.

    Only one worker (in any replica) runs a declare at a time: it holds a
    short lease on the incident, renewed while it works, which a crashed
    worker loses within ``LEASE`` seconds. A Slack failure that outlasts the
    gateway's retries stops the sequence, is recorded, is told to the
    declarer once, and is retried later with backoff by the reconciler.
    The update reminders are armed after every run, whatever its outcome (a
    prompt falling due before the channel exists simply waits a cadence).
    """
    async with ctx.incident_locks[incident_id]:
        if not await _claim(ctx, incident_id):
            return
        renewal = asyncio.get_running_loop().create_task(_keep_lease(ctx, incident_id))
        try:
            await _run_steps(ctx, await load_incident(ctx, incident_id))
        finally:
            renewal.cancel()
            await _release(ctx, incident_id)
    await cadence.arm_new_incident(ctx, incident_id)


async def _run_steps(ctx: BotContext, incident: Incident) -> None:
    incident.setup_attempts += 1
    await _save(ctx, incident)
    try:
        if incident.channel_id is None:
            await _create_channel(ctx, incident)
        if not incident.members_invited:
            await _invite(ctx, incident)
        if incident.summary_ts is None or not incident.summary_pinned:
            await _post_summary(ctx, incident)
        if not incident.topic_set:
            await _set_topic(ctx, incident)
        if not incident.announced:
            await _announce(ctx, incident)
    except SlackCallFailed as exc:
        log.warning("declare of %s stopped: %s", incident.reference, exc)
        await _record_failure(ctx, incident, exc)
        return
    if not incident.declarer_told:
        await _tell_declarer(ctx, incident)


async def resume_unfinished_declares(ctx: BotContext) -> int:
    """Finish every declare a crash or an outage left incomplete and that is due a retry."""
    async with ctx.db.session() as session:
        pending = await queries.unfinished_declares(session=session, now=utcnow())
    for incident_id in pending:
        await finish_declare(ctx, incident_id)
    return len(pending)


async def _claim(ctx: BotContext, incident_id: int) -> bool:
    async with ctx.db.session() as session:
        return await queries.claim_setup(session=session, incident_id=incident_id, owner=ctx.worker_id,
                                         until=utcnow() + LEASE)


async def _keep_lease(ctx: BotContext, incident_id: int) -> None:
    while True:
        await asyncio.sleep(LEASE.total_seconds() / 3)
        await _claim(ctx, incident_id)


async def _release(ctx: BotContext, incident_id: int) -> None:
    async with ctx.db.session() as session:
        await queries.release_setup(session=session, incident_id=incident_id, owner=ctx.worker_id)


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
    """Take over a channel of that name that this bot created and no incident owns."""
    found = await ctx.slack.find_channel(name)
    if found is None or found.get("is_archived"):
        return False
    identity = await ctx.slack.identity()
    if found.get("creator") != identity.get("user_id"):
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


async def _post_summary(ctx: BotContext, incident: Incident) -> None:
    assert incident.channel_id is not None
    if incident.summary_ts is None:
        text, blocks = await messages.summary(ctx, incident)
        posted = await _post_once(ctx, incident, incident.channel_id, "summary", text, blocks)
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


async def _announce(ctx: BotContext, incident: Incident) -> None:
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
        posted = await _post_once(ctx, incident, channel, "announcement", text, blocks)
    except SlackCallFailed as exc:
        if exc.error not in {"channel_not_found", "not_in_channel", "is_archived",
                             "method_not_supported_for_channel_type"}:
            raise
        incident.announced = True
        incident.setup_error = messages.announcement_problem(ctx, exc.error)
        await _save(ctx, incident, event=("announcement_failed", incident.setup_error))
        return
    incident.announced = True
    incident.announcement_channel_id = posted.channel
    incident.announcement_ts = posted.ts
    await _save(ctx, incident, event=("announced", "Announced in the announcements channel"))


async def _post_once(
    ctx: BotContext, incident: Incident, channel: str, step: str, text: str, blocks: list[Any]
) -> Posted:
    """Post a declare message, unless an earlier, interrupted attempt already did.

    Each message carries metadata naming the incident and the step; when the
    declare is being resumed, the channel's recent history is searched for it
    first. A public channel the bot is not in is joined.
    """
    marker = {"event_type": "incident_declare_step", "event_payload": {"incident_id": incident.id, "step": step}}
    if incident.setup_attempts > 1:
        found = await ctx.slack.find_own_message(channel, marker)
        if found is not None:
            return Posted(channel=channel, ts=found)
    return await ctx.slack.post_message(channel, text=text, blocks=blocks, metadata=marker, join=True)


async def _record_failure(ctx: BotContext, incident: Incident, exc: SlackCallFailed) -> None:
    """Record the failure and plan the next try; the declarer hears of each new problem once."""
    problem = f"{exc.method}: {exc.error}"
    is_new = problem != incident.setup_error
    incident.setup_error = problem
    backoff = min(RETRY_FIRST * 2 ** max(incident.setup_attempts - 1, 0), RETRY_MAX)
    incident.setup_retry_at = utcnow() + backoff
    await _save(ctx, incident, event=("declare_step_failed", problem) if is_new else None)
    if is_new and incident.origin_response_url:
        await _respond_quietly(ctx, incident.origin_response_url, messages.declare_failed(ctx, incident, exc))


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


__all__ = ["DeclareRequest", "declare_incident", "finish_declare", "resume_unfinished_declares"]


async def open_declare_form(
    ctx: BotContext, *, trigger_id: str, user_id: str, title: str, channel_id: str | None,
    response_url: str | None,
) -> str | None:
    """Open the declare modal; returns a notice for the user when the title had to be cut.

    The command's response_url travels in the modal's metadata so the outcome
    of the declare reaches the declarer even outside any channel the bot is in.
    """
    metadata = {"channel_id": channel_id, "response_url": response_url}
    await ctx.slack.open_view(trigger_id, blocks.declare_modal(title=title, declarer=user_id, metadata=metadata))
    return messages.declare_prefill_cut(ctx, len(title)) if len(title) > blocks.TITLE_MAX else None
