"""Keeping the pinned summary message and the channel topic true."""

from __future__ import annotations

from bot.consequences.kinds import Work
from bot.context import BotContext
from bot.errors import Busy
from bot.slack import messages
from storage import queries
from storage.models import WorkState


async def refresh_summary(ctx: BotContext, incident_id: int, *, topic: bool = True) -> None:
    """Rewrite the pinned summary (chat.update) and the topic from the incident as stored now.

    Called after every change others need to see. While the declare is still
    posting the summary, it waits (tries again shortly), since the summary being
    posted may have been written before this change; with no summary to come,
    it does nothing. ``topic=False`` leaves the topic alone for
    changes it does not show (reminder times): Slack posts a notice in the
    channel every time a topic is set.
    """
    async with ctx.summary_locks[incident_id]:  # rendered and sent in order, so the last one is current
        async with ctx.db.session() as session:
            incident = await queries.get_incident(session=session, incident_id=incident_id)
            posting = await queries.work_state(session=session, key=f"declare:{incident_id}:{Work.POST_SUMMARY.value}")
        if incident is not None and incident.summary_ts is None and posting == WorkState.PENDING:
            raise Busy("refreshing the summary")  # the summary being posted may predate this change
        if incident is None or incident.channel_id is None or incident.summary_ts is None:
            return
        text, blocks = await messages.summary(ctx, incident)
        await ctx.slack.update_message(incident.channel_id, incident.summary_ts, text=text, blocks=blocks)
        if topic and incident.topic_set:
            await ctx.slack.set_topic(incident.channel_id, messages.topic(ctx, incident))
