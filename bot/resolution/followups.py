"""What follows a resolution: the post-mortem review reminder to the IC and the optional channel archive.

Both are one-shot scheduler jobs whose functions are module-level and take
the incident id only. The truth lives on the incident (``resolved_at``,
``review_reminded_at``, ``archived_at``): a job claims its follow-up by a
conditional UPDATE and, in the same transaction, records the Slack work as
follow-up work, so it is decided once whichever replica runs the job and
done by the worker (retried through Slack's hiccups). :func:`reconcile_followups`
arms the jobs from that truth when this process becomes the leader and
re-aligns them every few seconds, so they survive restarts. Reopening cancels both.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.config.settings import IncidentConfig
from bot.consequences.kinds import Work
from bot.consequences.messages import post_where_usable
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.errors import SlackCallFailed
from bot.incidents.records import load_incident
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
from storage.models import FollowUpWork, Incident, Role
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
    """Job: decide the post-mortem review reminder (once per resolution) and record it as follow-up work."""
    ctx = job_context()
    async with ctx.db.session() as session:
        if await queries.claim_review_reminder(session=session, incident_id=incident_id, at=ctx.clock.now()):
            await follow_with(ctx, session, Work.REMIND_REVIEW, incident_id=incident_id)


async def archive_channel_job(incident_id: int) -> None:
    """Job: decide the archiving of the resolved incident's channel (once) and record it as follow-up work."""
    ctx = job_context()
    async with ctx.db.session() as session:
        if await queries.claim_archive(session=session, incident_id=incident_id, at=ctx.clock.now()):
            await follow_with(ctx, session, Work.ARCHIVE_CHANNEL, incident_id=incident_id)


async def send_review_reminder(ctx: BotContext, work: FollowUpWork) -> None:
    """Mention the IC in the incident channel, or write to them directly when it cannot take it (archived).

    The channel post is made once however often the piece is tried. A direct
    message cannot be looked for before a retry (that needs the ``im:history``
    scope), so in the rare case its answer is lost the IC may read it twice.
    """
    assert work.incident_id is not None
    incident = await load_incident(ctx, work.incident_id)
    async with ctx.db.session(write=False) as session:
        commander = (await queries.current_roles(session=session, incident_id=incident.id)).get(Role.IC)
        items = await queries.action_items(session=session, incident_id=incident.id)
    text = ctx.render.slack("postmortem_review_reminder", incident=incident, commander=commander,
                            due=review_due(ctx.config, incident), filename=filename_for(ctx, incident),
                            open_items=sum(1 for item in items if not item.is_done))
    outcome = None
    if incident.channel_id is not None and await post_where_usable(ctx, work, incident.channel_id, text):
        outcome = "Post-mortem review reminder sent"
    if outcome is None and commander is not None:
        await ctx.slack.post_message(commander, text=text, blocks=blocks.message(text))
        outcome = "Post-mortem review reminder sent to the IC directly"
    async with ctx.db.session() as session:
        await queries.add_timeline(
            session=session, incident_id=incident.id, kind="postmortem_reminder", at=ctx.clock.now(),
            text=outcome or ("Post-mortem review reminder could not be sent: "
                             "the channel cannot take it and no IC is set"))


async def archive_channel(ctx: BotContext, work: FollowUpWork) -> None:
    """Say why, then archive the channel of a still-resolved incident.

    Safe to run again: the explanation is posted once, and a channel already
    archived counts as done. A reopened incident keeps its channel.
    """
    assert work.incident_id is not None
    incident = await load_incident(ctx, work.incident_id)
    if incident.is_open or incident.channel_id is None:
        log.info("not archiving the channel of %s: it is open again", incident.reference)
        return
    text = ctx.render.slack("channel_archiving", incident=incident, after=ctx.config.archive_after)
    await post_where_usable(ctx, work, incident.channel_id, text)
    try:
        await ctx.slack.archive(incident.channel_id)
        outcome = "Channel archived"
    except SlackCallFailed as exc:
        if exc.transient:
            raise
        outcome = ("Channel was already archived" if exc.error == "already_archived"
                   else f"Channel could not be archived ({exc.error})")
        log.log(logging.INFO if exc.error == "already_archived" else logging.WARNING,
                "archiving the channel of %s: %s", incident.reference, exc)
    async with ctx.db.session() as session:
        await queries.add_timeline(session=session, incident_id=incident.id, kind="channel_archived",
                                   text=outcome, at=ctx.clock.now())
