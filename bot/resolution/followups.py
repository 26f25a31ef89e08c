"""What follows a resolution: the post-mortem review reminder to the IC and the optional channel archive.

Both are one-shot scheduler jobs whose functions are module-level and take
the incident id only. The truth lives on the incident (``resolved_at``,
``review_reminded_at``, ``archived_at``): each follow-up is claimed by a
conditional UPDATE before it acts, so it happens at most once whichever
replica or retry runs it, and :func:`reconcile_followups` arms the jobs from
that truth when this process becomes the leader and re-aligns them every few
seconds, so they survive restarts. Reopening cancels both.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.config.settings import IncidentConfig
from bot.context import BotContext
from bot.errors import SlackCallFailed
from bot.resolution.postmortem import filename_for
from bot.runtime.scheduler import (
    ScheduledJob,
    job_context,
    schedule,
    scheduled,
    unschedule,
)
from bot.slack import blocks
from storage import queries
from storage.models import Incident, Role
from storage.severity import Severity

log = logging.getLogger(__name__)

REVIEW = "postmortem-review:"
ARCHIVE = "archive-channel:"


def review_due(config: IncidentConfig, incident: Incident) -> datetime | None:
    """When the post-mortem review should have happened by (None: no review expected for this severity)."""
    within = config.policy(incident.severity).postmortem_within
    if within is None or incident.resolved_at is None:
        return None
    return incident.resolved_at + within


def archive_at(config: IncidentConfig, incident: Incident) -> datetime | None:
    """When the channel is archived (None: never, the default)."""
    if config.archive_after is None or incident.resolved_at is None:
        return None
    return incident.resolved_at + config.archive_after


async def plan_followups(ctx: BotContext, incident: Incident) -> None:
    """Arm the review reminder and the archive of a just-resolved incident, as the config asks."""
    assert incident.id is not None
    due = review_due(ctx.config, incident)
    if due is not None and incident.review_reminded_at is None:
        schedule(ctx, f"{REVIEW}{incident.id}", postmortem_review_job, due, incident.id)
    archive = archive_at(ctx.config, incident)
    if archive is not None and incident.archived_at is None and incident.channel_id is not None:
        schedule(ctx, f"{ARCHIVE}{incident.id}", archive_channel_job, archive, incident.id)


async def cancel_followups(ctx: BotContext, incident_id: int) -> None:
    """A reopened incident: no review reminder nor archive until it is resolved again."""
    unschedule(ctx, f"{REVIEW}{incident_id}")
    unschedule(ctx, f"{ARCHIVE}{incident_id}")
    async with ctx.db.session() as session:
        await queries.reset_review_reminder(session=session, incident_id=incident_id)


async def reconcile_followups(ctx: BotContext) -> None:
    """Arm the follow-ups resolved incidents are still owed, and drop the others' jobs.

    Runs when this process becomes the leader, on an empty job store, and
    again every few seconds to pick up what other replicas recorded. The jobs
    are listed before the incidents are read, so a job armed meanwhile for a
    new resolution is never taken for a stale one.
    """
    existing = {**scheduled(ctx, REVIEW), **scheduled(ctx, ARCHIVE)}
    reviewed = [s for s in Severity if ctx.config.policy(s).postmortem_within is not None]
    async with ctx.db.session() as session:
        owed = await queries.pending_followups(session=session, review_severities=reviewed,
                                               archive=ctx.config.archive_after is not None)
    wanted: dict[str, tuple[datetime, int]] = {}
    for incident in owed:
        assert incident.id is not None
        due = review_due(ctx.config, incident)
        if due is not None and incident.review_reminded_at is None:
            wanted[f"{REVIEW}{incident.id}"] = (due, incident.id)
        archive = archive_at(ctx.config, incident)
        if archive is not None and incident.archived_at is None and incident.channel_id is not None:
            wanted[f"{ARCHIVE}{incident.id}"] = (archive, incident.id)
    armed = 0
    for job_id, (at, incident_id) in wanted.items():
        if _differs(existing.pop(job_id, None), at, incident_id):
            job = postmortem_review_job if job_id.startswith(REVIEW) else archive_channel_job
            schedule(ctx, job_id, job, at, incident_id)
            armed += 1
    for job_id in existing:
        unschedule(ctx, job_id)
    log.log(logging.INFO if armed or existing else logging.DEBUG,
            "follow-ups reconciled: %d owed, %d armed, %d stale removed", len(wanted), armed, len(existing))


def _differs(job: ScheduledJob | None, at: datetime, incident_id: int) -> bool:
    return job is None or job.args != (incident_id,) or abs(job.run_at - at) >= timedelta(seconds=1)


async def postmortem_review_job(incident_id: int) -> None:
    """Job: remind the IC of the post-mortem review."""
    await send_review_reminder(job_context(), incident_id)


async def archive_channel_job(incident_id: int) -> None:
    """Job: archive the resolved incident's channel."""
    await archive_channel(job_context(), incident_id)


async def send_review_reminder(ctx: BotContext, incident_id: int) -> None:
    """Mention the IC in the incident channel (a direct message once the channel is archived), once."""
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        if not await queries.claim_review_reminder(session=session, incident_id=incident_id, at=now):
            return
        incident = await queries.get_incident(session=session, incident_id=incident_id)
        assert incident is not None
        commander = (await queries.current_roles(session=session, incident_id=incident_id)).get(Role.IC)
        items = await queries.action_items(session=session, incident_id=incident_id)
    text = ctx.render.slack("postmortem_review_reminder", incident=incident, commander=commander,
                            due=review_due(ctx.config, incident), filename=filename_for(ctx, incident),
                            open_items=sum(1 for item in items if not item.is_done))
    in_channel = incident.channel_id is not None and incident.archived_at is None
    where = incident.channel_id if in_channel else commander
    try:
        if where is None:
            raise SlackCallFailed("chat.postMessage", "no_channel_and_no_commander")
        await ctx.slack.post_message(where, text=text, blocks=blocks.message(text))
        outcome = "Post-mortem review reminder sent" + ("" if in_channel else " to the IC directly")
    except SlackCallFailed as exc:
        log.warning("review reminder for incident %s failed: %s", incident_id, exc)
        outcome = f"Post-mortem review reminder could not be sent ({exc.error})"
    async with ctx.db.session() as session:
        await queries.add_timeline(session=session, incident_id=incident_id, kind="postmortem_reminder",
                                   text=outcome, at=now)


async def archive_channel(ctx: BotContext, incident_id: int) -> None:
    """Say why, then archive the channel of a still-resolved incident, once."""
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        if not await queries.claim_archive(session=session, incident_id=incident_id, at=now):
            return
        incident = await queries.get_incident(session=session, incident_id=incident_id)
    assert incident is not None and incident.channel_id is not None
    text = ctx.render.slack("channel_archiving", incident=incident, after=ctx.config.archive_after)
    try:
        await ctx.slack.post_message(incident.channel_id, text=text, blocks=blocks.message(text))
        await ctx.slack.archive(incident.channel_id)
        outcome = "Channel archived"
    except SlackCallFailed as exc:
        if exc.error == "already_archived":
            outcome = "Channel was already archived"
        else:
            log.warning("archiving the channel of incident %s failed: %s", incident_id, exc)
            outcome = f"Channel could not be archived ({exc.error})"
    async with ctx.db.session() as session:
        await queries.add_timeline(session=session, incident_id=incident_id, kind="channel_archived",
                                   text=outcome, at=now)
