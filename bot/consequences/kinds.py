"""The kinds of work that can follow a change, named as a responder would describe them.

Domain code records work by kind (:func:`bot.consequences.record.follow_with`);
:mod:`bot.consequences.performers` says how each kind is done. Kinds are stored in
the database, so a name, once used, keeps its meaning.
"""

from __future__ import annotations

from enum import StrEnum


class Work(StrEnum):
    """One kind of follow-up work."""

    # declaring: the channel first; what needs it follows once it exists
    CREATE_CHANNEL = "declare.create_channel"
    INVITE_PEOPLE = "declare.invite_people"
    POST_SUMMARY = "declare.post_summary"
    SET_TOPIC = "declare.set_topic"
    ANNOUNCE_DECLARE = "declare.announce"
    TELL_DECLARER = "declare.tell_declarer"
    ARM_FIRST_REMINDER = "declare.arm_reminders"
    # keeping people informed
    POST_IN_CHANNEL = "channel.post"
    POST_UPDATE = "channel.post_update"
    ANNOUNCE_ROLE = "channel.announce_role"
    ANNOUNCE = "announcements.post"
    REFRESH_SUMMARY = "summary.refresh"
    PROPOSE_STATUS_DRAFT = "status.propose_draft"
    REFRESH_STATUS_DRAFT = "status.refresh_draft"
    PUBLISH_STATUS_DRAFT = "status.publish_draft"
    SEND_TO_STATUSPAGE = "status.send_to_statuspage"
    # timers and metrics
    REPLAN_REMINDERS = "reminders.replan"
    ARM_REMINDER = "reminders.arm"
    CLOSE_PROMPT = "reminders.close_prompt"
    STOP_REMINDERS = "reminders.stop"
    RESTART_REMINDERS = "reminders.restart"
    RECORD_RESPONSE = "metrics.response"
    RECORD_PHASE = "metrics.phase"
    CALL_IN = "escalation.call_in"
    # after resolution
    PLAN_FOLLOWUPS = "resolution.plan_followups"
    CANCEL_FOLLOWUPS = "resolution.cancel_followups"
    PUBLISH_POSTMORTEM = "resolution.postmortem"
    REMIND_REVIEW = "resolution.remind_review"
    ARCHIVE_CHANNEL = "resolution.archive_channel"
    # trackers, Confluence and the call link
    OPEN_TICKET = "tickets.open"
    CLOSE_TICKET = "tickets.close"
    OPEN_INCIDENT_TICKET = "tickets.open_incident"
    UPDATE_INCIDENT_TICKET = "tickets.update_incident"
    PUBLISH_POSTMORTEM_PAGE = "confluence.publish_postmortem"
    BOOKMARK_CALL_LINK = "declare.bookmark_call_link"
    # paging the on-call, and alerts from monitoring
    PAGE_ONCALL = "pagerduty.trigger"
    RESOLVE_PAGE = "pagerduty.resolve"
    DECLARE_FROM_ALERT = "alerts.declare"
    ANNOUNCE_ALERT = "alerts.announce"
    REFRESH_ALERT = "alerts.refresh_message"
    NOTE_ALERT = "alerts.note_declared"


DESCRIPTIONS: dict[Work, str] = {
    Work.CREATE_CHANNEL: "Creating the incident channel",
    Work.INVITE_PEOPLE: "Inviting the responders",
    Work.POST_SUMMARY: "Posting and pinning the summary",
    Work.SET_TOPIC: "Setting the channel topic",
    Work.ANNOUNCE_DECLARE: "Announcing the incident",
    Work.TELL_DECLARER: "Telling the declarer",
    Work.ARM_FIRST_REMINDER: "Arming the update reminders",
    Work.POST_IN_CHANNEL: "Posting in the incident channel",
    Work.POST_UPDATE: "Posting the status update",
    Work.ANNOUNCE_ROLE: "Announcing the new role holder",
    Work.ANNOUNCE: "Posting in the announcements channel",
    Work.REFRESH_SUMMARY: "Refreshing the pinned summary",
    Work.PROPOSE_STATUS_DRAFT: "Drafting the status-page update",
    Work.REFRESH_STATUS_DRAFT: "Showing the draft's decision",
    Work.PUBLISH_STATUS_DRAFT: "Publishing the approved status update",
    Work.SEND_TO_STATUSPAGE: "Sending the status update to Statuspage",
    Work.REPLAN_REMINDERS: "Re-planning the update reminders",
    Work.ARM_REMINDER: "Re-arming the update reminder",
    Work.CLOSE_PROMPT: "Closing the answered reminder",
    Work.STOP_REMINDERS: "Stopping the update reminders",
    Work.RESTART_REMINDERS: "Restarting the update reminders",
    Work.RECORD_RESPONSE: "Recording the response for the metrics",
    Work.RECORD_PHASE: "Recording the phase for the metrics",
    Work.CALL_IN: "Calling people in as the escalation policy says",
    Work.PLAN_FOLLOWUPS: "Planning the post-mortem review and archiving",
    Work.CANCEL_FOLLOWUPS: "Cancelling the post-mortem review and archiving",
    Work.PUBLISH_POSTMORTEM: "Publishing the post-mortem",
    Work.REMIND_REVIEW: "Reminding the IC of the post-mortem review",
    Work.ARCHIVE_CHANNEL: "Archiving the incident channel",
    Work.OPEN_TICKET: "Opening the action item's ticket",
    Work.CLOSE_TICKET: "Closing the action item's ticket",
    Work.OPEN_INCIDENT_TICKET: "Opening the incident's ticket",
    Work.UPDATE_INCIDENT_TICKET: "Updating the incident's ticket",
    Work.PUBLISH_POSTMORTEM_PAGE: "Publishing the post-mortem to Confluence",
    Work.BOOKMARK_CALL_LINK: "Bookmarking the call link",
    Work.PAGE_ONCALL: "Paging the on-call through PagerDuty",
    Work.RESOLVE_PAGE: "Resolving the page in PagerDuty",
    Work.DECLARE_FROM_ALERT: "Declaring an incident from the alert",
    Work.ANNOUNCE_ALERT: "Posting the alert in the announcements channel",
    Work.REFRESH_ALERT: "Updating the alert's message",
    Work.NOTE_ALERT: "Noting the alert the incident was declared from",
}


def describe(kind: str) -> str:
    """What the work was, for the timeline and the person told it failed."""
    try:
        return DESCRIPTIONS[Work(kind)]
    except ValueError:
        return kind


KEEP_TRYING = frozenset({Work.CREATE_CHANNEL, Work.INVITE_PEOPLE, Work.POST_SUMMARY, Work.SET_TOPIC})
"""Work a declare cannot do without: when Slack refuses it (a missing scope, a revoked token),
the person is told and the bot keeps trying with backoff, so the declare completes once an
operator fixes the cause."""
