"""Block, action and callback ids shared by the code that builds views and the listeners.

Keeping them in one enum module means a renamed id can never leave a
listener matching nothing.
"""

from enum import StrEnum


class Callback(StrEnum):
    """callback_id of modals and shortcuts."""

    DECLARE = "incident_declare"
    ADD_TO_TIMELINE = "add_to_timeline"
    DRAFT_EDIT = "status_draft_edit"  # status drafts
    DRAFT_REJECT = "status_draft_reject"
    RESOLVE = "incident_resolve_form"
    UPDATE = "incident_update_form"  # status updates


class DeclareField(StrEnum):
    """block_id (and action_id) of each declare-modal input."""

    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    SERVICES = "affected_services"
    CUSTOMER_IMPACT = "customer_impact"
    PRIVATE = "private"
    DRILL = "drill"
    COMMANDER = "commander"
    RESPONDERS = "responders"
    IMPACT_DAY = "impact_started_day"
    IMPACT_TIME = "impact_started_time"


class ResolveField(StrEnum):
    """block_id (and action_id) of each resolve-modal input."""

    SUMMARY = "resolve_summary"
    ROOT_CAUSE = "resolve_root_cause"
    CUSTOMERS_AFFECTED = "resolve_customers_affected"


class UpdateField(StrEnum):
    """block_id (and action_id) of each update-modal input."""

    PHASE = "update_phase"
    WHAT_CHANGED = "update_what_changed"
    NEXT_STEPS = "update_next_steps"
    ETA = "update_eta"
    CUSTOMER_FACING = "update_customer_facing"


class DraftField(StrEnum):
    """block_id (and action_id) of the status-draft modals' inputs."""

    TEXT = "draft_text"
    REASON = "draft_reject_reason"


class Action(StrEnum):
    """action_id of buttons on bot messages."""

    POST_UPDATE = "incident_post_update"
    RESOLVE = "incident_resolve"
    DRAFT_APPROVE = "status_draft_approve"  # status drafts
    DRAFT_EDIT = "status_draft_edit"
    DRAFT_REJECT = "status_draft_reject"
    DRAFT_RETRY_EXTERNAL = "status_draft_retry_external"
    REMINDER_POST_UPDATE = "reminder_post_update"  # update reminder prompts
    REMINDER_NO_CHANGE = "reminder_no_change"
    REMINDER_SNOOZE = "reminder_snooze"
    ALERT_DECLARE = "alert_declare"  # an alert in the announcements channel
    ALERT_DISMISS = "alert_dismiss"
