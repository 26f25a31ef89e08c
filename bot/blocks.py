"""Block Kit builders, with slack-sdk's models so limits are checked before sending.

Wording comes from templates (rendered by :mod:`bot.messages`); these
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
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.ids import Action, Callback, DeclareField
from bot.text import truncate

TITLE_MAX = 80
SECTION_MAX = 3000

SEVERITY_HINTS = {
    1: "Critical: outage or breach affecting all customers",
    2: "Major: significant degradation for many customers",
    3: "Moderate: limited impact for some customers",
    4: "Low: minor issue, no customer impact",
}


def _yes_no(action_id: str, *, initial: bool = False) -> RadioButtonsElement:
    options = [Option(value="yes", text="Yes"), Option(value="no", text="No")]
    return RadioButtonsElement(action_id=action_id, options=options, initial_option=options[0 if initial else 1])


def severity_option(severity: int) -> Option:
    return Option(value=str(severity), text=f"SEV-{severity}", description=SEVERITY_HINTS[severity])


def declare_modal(*, title: str, declarer: str, metadata: dict[str, Any]) -> View:
    """The declare form; ``metadata`` carries where it came from (channel, response_url)."""
    title_input = PlainTextInputElement(action_id=DeclareField.TITLE, max_length=TITLE_MAX,
                                        placeholder="e.g. Checkout API returning 500s")
    if title:
        title_input.initial_value = title[:TITLE_MAX]
    severity = StaticSelectElement(action_id=DeclareField.SEVERITY, placeholder="Pick a severity",
                                   options=[severity_option(n) for n in range(1, 5)])
    return View(
        type="modal",
        callback_id=Callback.DECLARE,
        title="Declare an incident",
        submit="Declare",
        close="Cancel",
        private_metadata=json.dumps(metadata),
        blocks=[
            InputBlock(block_id=DeclareField.TITLE, label="Title", element=title_input),
            InputBlock(block_id=DeclareField.SEVERITY, label="Severity", element=severity),
            InputBlock(block_id=DeclareField.DESCRIPTION, label="Description", optional=True,
                       element=PlainTextInputElement(action_id=DeclareField.DESCRIPTION, multiline=True,
                                                     max_length=3000)),
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
