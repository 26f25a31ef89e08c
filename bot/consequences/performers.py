"""How each kind of follow-up work is done: one table from kind to the function that does it.

Each function takes the context and the claimed piece of work, reads what it
needs from the database (the change is committed by then), and is safe to run
again: a retried piece finds what an earlier attempt already did.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.consequences import messages
from bot.consequences.kinds import Work
from bot.context import BotContext
from bot.incidents import declare_steps, roles
from bot.incidents.records import load_incident
from bot.incidents.summary import refresh_summary
from bot.integrations import bridge
from bot.integrations.alerts import performers as alerts
from bot.integrations.confluence import publish as confluence
from bot.integrations.pagerduty import paging
from bot.integrations.tickets import work as tickets
from bot.metrics import milestones
from bot.reminders import cadence, escalation
from bot.resolution import followups, postmortem
from bot.status import draft_messages, drafts, publication, updates
from storage.models import FollowUpWork, Phase

Performer = Callable[[BotContext, FollowUpWork], Awaitable[None]]


def _incident_id(work: FollowUpWork) -> int:
    assert work.incident_id is not None
    return work.incident_id


async def _refresh_summary(ctx: BotContext, work: FollowUpWork) -> None:
    await refresh_summary(ctx, _incident_id(work), topic=bool(work.payload.get("topic", True)))


async def _propose_draft(ctx: BotContext, work: FollowUpWork) -> None:
    payload = work.payload
    await drafts.propose_draft(ctx, _incident_id(work), phase=Phase(payload["phase"]), text=str(payload["text"]),
                               actor=str(payload["actor"]), source_key=payload.get("source_key") or f"work:{work.id}")


async def _refresh_draft(ctx: BotContext, work: FollowUpWork) -> None:
    await draft_messages.refresh_draft(ctx, int(work.payload["draft_id"]))


async def _publish_draft(ctx: BotContext, work: FollowUpWork) -> None:
    await publication.publish_draft(ctx, int(work.payload["draft_id"]))


async def _send_to_statuspage(ctx: BotContext, work: FollowUpWork) -> None:
    await publication.sync_external(ctx, _incident_id(work))


async def _replan(ctx: BotContext, work: FollowUpWork) -> None:
    await cadence.replan(ctx, _incident_id(work))


async def _arm(ctx: BotContext, work: FollowUpWork) -> None:
    await cadence.arm(ctx, _incident_id(work), datetime.fromisoformat(str(work.payload["at"])))


async def _close_prompt(ctx: BotContext, work: FollowUpWork) -> None:
    payload = work.payload
    incident = await load_incident(ctx, _incident_id(work))
    next_due = payload.get("next_due")
    await cadence.close_prompt(ctx, incident, str(payload["ts"]), outcome=payload["outcome"],
                               actor=payload.get("actor"),
                               next_due=datetime.fromisoformat(next_due) if next_due else None)


async def _stop_reminders(ctx: BotContext, work: FollowUpWork) -> None:
    await cadence.disarm_reminders(ctx, _incident_id(work))


async def _restart_reminders(ctx: BotContext, work: FollowUpWork) -> None:
    await cadence.rearm_reopened(ctx, _incident_id(work))


async def _record_response(ctx: BotContext, work: FollowUpWork) -> None:
    await milestones.record_response(ctx, _incident_id(work), at=datetime.fromisoformat(str(work.payload["at"])),
                                     check_in=bool(work.payload["check_in"]))


async def _record_phase(ctx: BotContext, work: FollowUpWork) -> None:
    incident = await load_incident(ctx, _incident_id(work))
    incident.phase = Phase(work.payload["phase"])
    await milestones.record_phase(ctx, incident, at=datetime.fromisoformat(str(work.payload["at"])))


async def _plan_followups(ctx: BotContext, work: FollowUpWork) -> None:
    incident = await load_incident(ctx, _incident_id(work))
    if not incident.is_open:
        await followups.plan_followups(ctx, incident)


async def _cancel_followups(ctx: BotContext, work: FollowUpWork) -> None:
    await followups.cancel_followups(ctx, _incident_id(work))


async def _publish_postmortem(ctx: BotContext, work: FollowUpWork) -> None:
    await postmortem.publish(ctx, _incident_id(work), requested_by=str(work.payload["requested_by"]))


async def _post_update(ctx: BotContext, work: FollowUpWork) -> None:
    await updates.post_update_message(ctx, work)


PERFORMERS: dict[str, Performer] = {
    Work.CREATE_CHANNEL: declare_steps.create_channel,
    Work.INVITE_PEOPLE: declare_steps.invite_people,
    Work.POST_SUMMARY: declare_steps.post_summary,
    Work.SET_TOPIC: declare_steps.set_topic,
    Work.ANNOUNCE_DECLARE: declare_steps.announce,
    Work.TELL_DECLARER: declare_steps.tell_declarer,
    Work.ARM_FIRST_REMINDER: declare_steps.arm_reminders,
    Work.POST_IN_CHANNEL: messages.post_in_channel,
    Work.POST_UPDATE: _post_update,
    Work.ANNOUNCE_ROLE: roles.announce_role,
    Work.ANNOUNCE: messages.announce,
    Work.REFRESH_SUMMARY: _refresh_summary,
    Work.PROPOSE_STATUS_DRAFT: _propose_draft,
    Work.REFRESH_STATUS_DRAFT: _refresh_draft,
    Work.PUBLISH_STATUS_DRAFT: _publish_draft,
    Work.SEND_TO_STATUSPAGE: _send_to_statuspage,
    Work.REPLAN_REMINDERS: _replan,
    Work.ARM_REMINDER: _arm,
    Work.CLOSE_PROMPT: _close_prompt,
    Work.STOP_REMINDERS: _stop_reminders,
    Work.RESTART_REMINDERS: _restart_reminders,
    Work.RECORD_RESPONSE: _record_response,
    Work.RECORD_PHASE: _record_phase,
    Work.PLAN_FOLLOWUPS: _plan_followups,
    Work.CANCEL_FOLLOWUPS: _cancel_followups,
    Work.PUBLISH_POSTMORTEM: _publish_postmortem,
    Work.REMIND_REVIEW: followups.send_review_reminder,
    Work.ARCHIVE_CHANNEL: followups.archive_channel,
    Work.CALL_IN: escalation.call_in,
    Work.PAGE_ONCALL: paging.page_oncall,
    Work.RESOLVE_PAGE: paging.resolve_page,
    Work.DECLARE_FROM_ALERT: alerts.declare_from_alert,
    Work.ANNOUNCE_ALERT: alerts.announce_alert,
    Work.REFRESH_ALERT: alerts.refresh_alert_message,
    Work.NOTE_ALERT: alerts.note_declared,
    Work.OPEN_TICKET: tickets.open_ticket,
    Work.CLOSE_TICKET: tickets.close_ticket,
    Work.OPEN_INCIDENT_TICKET: tickets.open_incident_ticket,
    Work.UPDATE_INCIDENT_TICKET: tickets.update_incident_ticket,
    Work.PUBLISH_POSTMORTEM_PAGE: confluence.publish_postmortem_page,
    Work.BOOKMARK_CALL_LINK: bridge.bookmark_call_link,
}
