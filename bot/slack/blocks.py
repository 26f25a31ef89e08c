"""Block Kit builders, with slack-sdk's models so limits are checked before sending.

Wording comes from templates (rendered by :mod:`bot.slack.messages`); these
functions only arrange it. The labels of modal fields are part of the product
contract (SPEC §2) and are spelled here once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.slack.ids import Action, Callback, DeclareField, DraftField, ResolveField, UpdateField
from bot.slack.mrkdwn import truncate
from storage.severity import Severity

TITLE_MAX = 80
DESCRIPTION_MAX = 3000
SECTION_MAX = 3000

SEVERITY_HINTS = {
    Severity.SEV1: "Critical: outage or breach affecting all customers",
    Severity.SEV2: "Major: significant degradation for many customers",
    Severity.SEV3: "Moderate: limited impact for some customers",
    Severity.SEV4: "Low: minor issue, no customer impact",
}


def _yes_no(action_id: str, *, initial: bool = False) -> RadioButtonsElement:
    options = [Option(value="yes", text="Yes"), Option(value="no", text="No")]
    return RadioButtonsElement(action_id=action_id, options=options, initial_option=options[0 if initial else 1])


def severity_option(severity: Severity) -> Option:
    return Option(value=str(severity.value), text=severity.label, description=SEVERITY_HINTS[severity])


def declare_modal(*, title: str, declarer: str, metadata: dict[str, Any], timezone: str,
                  severity: Severity | None = None, description: str = "") -> View:
    """The declare form; ``metadata`` carries where it came from (channel, response_url, an alert).

    *Impact started* is a day and a time of day in the configured ``timezone``
    (the zone the post-mortem and the reports speak in), not the declarer's own.
    """
    title_input = PlainTextInputElement(action_id=DeclareField.TITLE, max_length=TITLE_MAX,
                                        placeholder="e.g. Checkout API returning 500s")
    if title:
        title_input.initial_value = title[:TITLE_MAX]
    severity_select = StaticSelectElement(action_id=DeclareField.SEVERITY, placeholder="Pick a severity",
                                          options=[severity_option(option) for option in Severity],
                                          initial_option=severity_option(severity) if severity else None)
    description_input = PlainTextInputElement(action_id=DeclareField.DESCRIPTION, multiline=True,
                                              max_length=DESCRIPTION_MAX,
                                              initial_value=truncate(description, DESCRIPTION_MAX) or None)
    return View(
        type="modal",
        callback_id=Callback.DECLARE,
        title="Declare an incident",
        submit="Declare",
        close="Cancel",
        private_metadata=json.dumps(metadata),
        blocks=[
            InputBlock(block_id=DeclareField.TITLE, label="Title", element=title_input),
            InputBlock(block_id=DeclareField.SEVERITY, label="Severity", element=severity_select),
            InputBlock(block_id=DeclareField.DESCRIPTION, label="Description", optional=True,
                       element=description_input),
            InputBlock(block_id=DeclareField.SERVICES, label="Affected services", optional=True,
                       element=PlainTextInputElement(action_id=DeclareField.SERVICES, max_length=500,
                                                     placeholder="e.g. checkout, payments")),
            InputBlock(block_id=DeclareField.CUSTOMER_IMPACT, label="Customer impact",
                       element=_yes_no(DeclareField.CUSTOMER_IMPACT)),
            InputBlock(block_id=DeclareField.PRIVATE, label="Private incident",
                       hint="A private channel, and no announcement.",
                       element=_yes_no(DeclareField.PRIVATE)),
            InputBlock(block_id=DeclareField.DRILL, label="Drill",
                       hint="A practice incident: never announced publicly, left out of metrics.",
                       element=_yes_no(DeclareField.DRILL)),
            InputBlock(block_id=DeclareField.COMMANDER, label="Incident commander",
                       element=UserSelectElement(action_id=DeclareField.COMMANDER, initial_user=declarer)),
            InputBlock(block_id=DeclareField.RESPONDERS, label="Responders", optional=True,
                       element=UserMultiSelectElement(action_id=DeclareField.RESPONDERS,
                                                      placeholder="Who else should join")),
            InputBlock(block_id=DeclareField.IMPACT_DAY, label="Impact started", optional=True,
                       hint="The day customers were first affected, if that was before now. Leave empty if unknown.",
                       element=DatePickerElement(action_id=DeclareField.IMPACT_DAY)),
            InputBlock(block_id=DeclareField.IMPACT_TIME, label=f"At what time ({timezone})", optional=True,
                       hint=f"When on that day impact started, in {timezone}; with no day picked, today.",
                       element=TimePickerElement(action_id=DeclareField.IMPACT_TIME, timezone=timezone)),
        ],
    )


def sections(mrkdwn: str) -> list[Block]:
    """Long mrkdwn as consecutive sections, each within Slack's 3,000-character limit."""
    chunks: list[str] = []
    current = ""
    for line in mrkdwn.splitlines(keepends=True):
        while len(line) > SECTION_MAX:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:SECTION_MAX])
            line = line[SECTION_MAX:]
        if len(current) + len(line) > SECTION_MAX:
            chunks.append(current)
            current = ""
        current += line
    if current.strip():
        chunks.append(current)
    return [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in chunks if chunk.strip()]


def summary(*, header: str, body: str, context: Sequence[str], open_incident: bool) -> list[Block]:
    """The pinned summary: title, facts, labels, and the buttons for the next step."""
    blocks: list[Block] = [HeaderBlock(text=truncate(header, 150)), *sections(body)]
    if context:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(c, 3000)) for c in context[:10]]))
    if open_incident:
        blocks.append(ActionsBlock(elements=[
            ButtonElement(action_id=Action.POST_UPDATE, text="Post update", style="primary"),
            ButtonElement(action_id=Action.RESOLVE, text="Resolve"),
        ]))
    return blocks


def message(body: str) -> list[Block]:
    """A plain message: just its text as sections."""
    return sections(body)


def alert_announcement(body: str, *, alert_id: int, undecided: bool) -> list[Block]:
    """An alert in the announcements channel, with *Declare incident* and *Dismiss* until someone decides."""
    blocks = sections(body)
    if undecided:
        value = str(alert_id)
        blocks.append(ActionsBlock(block_id="alert_actions", elements=[
            ButtonElement(action_id=Action.ALERT_DECLARE, text="Declare incident", style="primary", value=value),
            ButtonElement(action_id=Action.ALERT_DISMISS, text="Dismiss", value=value),
        ]))
    return blocks


# -- resolve ----------------------------------------------------------


def resolve_modal(*, intro: str, customer_impact: bool, metadata: dict[str, Any]) -> View:
    """The resolve form; ``metadata`` names the incident and where to answer the resolver."""
    return View(
        type="modal",
        callback_id=Callback.RESOLVE,
        title="Resolve incident",
        submit="Resolve",
        close="Cancel",
        private_metadata=json.dumps(metadata),
        blocks=[
            *sections(intro),
            InputBlock(block_id=ResolveField.SUMMARY, label="Summary",
                       hint="What happened and how it was fixed, for the resolution message and the post-mortem.",
                       element=PlainTextInputElement(action_id=ResolveField.SUMMARY, multiline=True,
                                                     max_length=3000)),
            InputBlock(block_id=ResolveField.ROOT_CAUSE, label="Root cause", optional=True,
                       hint="Leave empty if the post-mortem review will establish it.",
                       element=PlainTextInputElement(action_id=ResolveField.ROOT_CAUSE, multiline=True,
                                                     max_length=3000)),
            InputBlock(block_id=ResolveField.CUSTOMERS_AFFECTED, label="Customers affected",
                       element=_yes_no(ResolveField.CUSTOMERS_AFFECTED, initial=customer_impact)),
        ],
    )


# -- App Home ---------------------------------------------------------


def home(body: str) -> View:
    """The Home tab: the rendered overview as sections (a Home view holds at most 100 blocks)."""
    return View(type="home", blocks=sections(body)[:100])


# -- status drafts ----------------------------------------------------

DRAFT_TEXT_MAX = 2000
REJECT_REASON_MAX = 500


def draft_message(*, body: str, context: str, draft_id: int, open_for_decision: bool) -> list[Block]:
    """A status draft in the incident channel; the buttons go once it is decided."""
    blocks: list[Block] = [*sections(body)]
    if context.strip():
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=truncate(context, 3000))]))
    if open_for_decision:
        value = str(draft_id)
        blocks.append(ActionsBlock(block_id="status_draft_actions", elements=[
            ButtonElement(action_id=Action.DRAFT_APPROVE, text="Approve", style="primary", value=value),
            ButtonElement(action_id=Action.DRAFT_EDIT, text="Edit", value=value),
            ButtonElement(action_id=Action.DRAFT_REJECT, text="Reject", style="danger", value=value),
        ]))
    return blocks


def draft_problem(*, body: str, draft_id: int, offer_retry: bool) -> list[Block]:
    """A publication failure told to the comms lead, with a retry button where retrying can help."""
    blocks: list[Block] = [*sections(body)]
    if offer_retry:
        blocks.append(ActionsBlock(elements=[
            ButtonElement(action_id=Action.DRAFT_RETRY_EXTERNAL, text="Retry Statuspage", value=str(draft_id)),
        ]))
    return blocks


def draft_edit_modal(*, draft_id: int, text: str, intro: str) -> View:
    """Edit a pending draft's text; saving keeps it pending."""
    element = PlainTextInputElement(action_id=DraftField.TEXT, multiline=True, max_length=DRAFT_TEXT_MAX,
                                    initial_value=text[:DRAFT_TEXT_MAX])
    return View(
        type="modal",
        callback_id=Callback.DRAFT_EDIT,
        title="Edit status draft",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"draft_id": draft_id}),
        blocks=[
            *sections(intro),
            InputBlock(block_id=DraftField.TEXT, label="Public text", element=element,
                       hint=f"What customers will read, at most {DRAFT_TEXT_MAX} characters. Saving keeps the "
                            "draft waiting for approval."),
        ],
    )


def draft_reject_modal(*, draft_id: int, intro: str) -> View:
    """Reject a pending draft, with an optional reason kept on the message and the timeline."""
    return View(
        type="modal",
        callback_id=Callback.DRAFT_REJECT,
        title="Reject status draft",
        submit="Reject",
        close="Cancel",
        private_metadata=json.dumps({"draft_id": draft_id}),
        blocks=[
            *sections(intro),
            InputBlock(block_id=DraftField.REASON, label="Reason", optional=True,
                       element=PlainTextInputElement(action_id=DraftField.REASON, multiline=True,
                                                     max_length=REJECT_REASON_MAX)),
        ],
    )


# -- update reminders and the update modal -----------------------------

UPDATE_TEXT_MAX = 3000
ETA_MAX = 100


def reminder_prompt(body: str, *, incident_id: int, snooze: str) -> list[Block]:
    """An update reminder: the text, then the three ways to answer it (``snooze`` as people read it)."""
    value = str(incident_id)
    return [
        *sections(body),
        ActionsBlock(block_id="update_reminder", elements=[
            ButtonElement(action_id=Action.REMINDER_POST_UPDATE, text="Post update", style="primary", value=value),
            ButtonElement(action_id=Action.REMINDER_NO_CHANGE, text="No change", value=value),
            ButtonElement(action_id=Action.REMINDER_SNOOZE, text=f"Snooze {snooze}", value=value),
        ]),
    ]


def _text_input(action_id: str, value: str, *, multiline: bool, max_length: int,
                placeholder: str | None = None) -> PlainTextInputElement:
    element = PlainTextInputElement(action_id=action_id, multiline=multiline, max_length=max_length,
                                    placeholder=placeholder)
    if value:
        element.initial_value = value[:max_length]
    return element


def update_modal(
    *, intro: str, phases: Sequence[str], phase: str, what_changed: str, next_steps: str, eta: str,
    customer_facing: bool, metadata: dict[str, Any],
) -> View:
    """The status-update form, prefilled from the previous update; ``metadata`` names the incident."""
    options = [Option(value=p, text=p.capitalize()) for p in phases]
    initial = next((o for o in options if o.value == phase), None)
    return View(
        type="modal",
        callback_id=Callback.UPDATE,
        title="Post an update",
        submit="Post update",
        close="Cancel",
        private_metadata=json.dumps(metadata),
        blocks=[
            *sections(intro),
            InputBlock(block_id=UpdateField.PHASE, label="Phase",
                       hint="To resolve the incident, use /incident resolve.",
                       element=StaticSelectElement(action_id=UpdateField.PHASE, options=options,
                                                   initial_option=initial)),
            InputBlock(block_id=UpdateField.WHAT_CHANGED, label="What changed",
                       element=_text_input(UpdateField.WHAT_CHANGED, what_changed, multiline=True,
                                           max_length=UPDATE_TEXT_MAX)),
            InputBlock(block_id=UpdateField.NEXT_STEPS, label="Next steps", optional=True,
                       element=_text_input(UpdateField.NEXT_STEPS, next_steps, multiline=True,
                                           max_length=UPDATE_TEXT_MAX)),
            InputBlock(block_id=UpdateField.ETA, label="ETA", optional=True,
                       hint=('When you expect it fixed: "1 hour", "14:30", "tomorrow 9am", "EOD", or in words '
                             '("after the rollback"), kept as written.'),
                       element=_text_input(UpdateField.ETA, eta, multiline=False, max_length=ETA_MAX,
                                           placeholder="e.g. 45m")),
            InputBlock(block_id=UpdateField.CUSTOMER_FACING, label="Customer-facing",
                       hint="Customer-facing updates become status-page drafts for approval.",
                       element=_yes_no(UpdateField.CUSTOMER_FACING, initial=customer_facing)),
        ],
    )
