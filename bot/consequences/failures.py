"""Telling people that follow-up work failed: on the incident's timeline, and to whoever asked."""

from __future__ import annotations

import logging

from bot.consequences.kinds import describe
from bot.context import BotContext
from bot.errors import ServiceCallFailed
from storage import queries
from storage.models import FollowUpWork

log = logging.getLogger(__name__)


async def report_failure(ctx: BotContext, work: FollowUpWork, error: ServiceCallFailed | str,
                         *, keep_trying: bool = False) -> None:
    """Write the failure on the timeline and tell the person who asked, as best we can.

    The person hears it privately in the incident channel; when there is no
    channel yet (a declare whose channel could not be created), through the
    declare command's response URL. Telling is best effort: a failure here is
    only logged, since the timeline already holds it.
    """
    if work.incident_id is None:
        log.warning("%s failed: %s", describe(work.kind), error)
        return
    reason = error.reason if isinstance(error, ServiceCallFailed) else error
    code = error.error if isinstance(error, ServiceCallFailed) else ""
    async with ctx.db.session() as session:
        await queries.add_timeline(session=session, incident_id=work.incident_id, kind="work_failed",
                                   at=ctx.clock.now(), text=f"{describe(work.kind)} failed: {reason}",
                                   data={"work": work.kind, "work_id": work.id})
        incident = await queries.get_incident(session=session, incident_id=work.incident_id)
    if incident is None:
        return
    text = ctx.render.slack("work_failed", what=describe(work.kind), incident=incident, reason=reason,
                            error=code, keep_trying=keep_trying)
    person = work.requested_by
    try:
        if person and incident.channel_id:
            await ctx.slack.post_ephemeral(incident.channel_id, person, text=text)
        elif incident.origin_response_url and person in (None, incident.declared_by):
            await ctx.slack.respond(incident.origin_response_url, text=text)
    except ServiceCallFailed as exc:
        log.info("could not tell %s that %s failed: %s", person, describe(work.kind), exc)
