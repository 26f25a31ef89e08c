"""What status drafts say: the public text, the texts to copy, and their Slack messages.

Wording lives in ``templates/status/`` (public and copy-ready texts, plain
text) and ``templates/slack/draft*.j2`` (the messages around them); this
module only gathers the facts the templates need and arranges the result.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.config.durations import format_duration
from bot.context import BotContext
from bot.slack import blocks
from bot.slack.mrkdwn import truncate
from storage.models import Incident, Phase, StatusDraft
from storage.severity import Severity

if TYPE_CHECKING:
    from bot.slack.blocks import Block, View

PHASE_LABELS = {
    Phase.INVESTIGATING: "Investigating",
    Phase.IDENTIFIED: "Identified",
    Phase.MONITORING: "Monitoring",
    Phase.RESOLVED: "Resolved",
}
NO_SERVICE_NAMED = "some of our services"


def facts(ctx: BotContext, incident: Incident, phase: Phase, what_changed: str, *, now: datetime) -> dict[str, Any]:
    """Everything a status or copy template may use, already formatted for people."""
    policy = ctx.config.policy(incident.severity)
    due = incident.next_update_due
    next_update = due if due is not None and due > now else now + policy.update_every
    ended = incident.resolved_at or now
    return {
        "incident": incident,
        "title": incident.title,
        "severity": Severity.of(incident.severity).label,
        "affected": incident.affected_services.strip() or NO_SERVICE_NAMED,
        "what_changed": what_changed.strip(),
        "phase": phase.value,
        "phase_label": PHASE_LABELS[phase],
        "next_update_at": ctx.render.local_time(next_update),
        "cadence": spoken(policy.update_every),
        "started_at": ctx.render.local_time(incident.declared_at),
        "ended_at": ctx.render.local_time(ended),
        "duration": format_duration(_to_minutes(ended - incident.declared_at)),
        "now": ctx.render.local_time(now),
    }


def public_text(ctx: BotContext, incident: Incident, phase: Phase, what_changed: str, *, now: datetime) -> str:
    """The draft's public text from the phase's template, within the draft length limit.

    A long *What changed* is shortened rather than the template's own
    sentences, so the promise of the next update is never cut off.
    """
    text = ctx.render.status(phase.value, **facts(ctx, incident, phase, what_changed, now=now))
    overflow = len(text) - blocks.DRAFT_TEXT_MAX
    if overflow <= 0:
        return text
    shorter = truncate(what_changed.strip(), max(len(what_changed.strip()) - overflow, 1))
    return ctx.render.status(phase.value, **facts(ctx, incident, phase, shorter, now=now))[: blocks.DRAFT_TEXT_MAX]


def copy_reply(
    ctx: BotContext, incident: Incident, draft: StatusDraft, what_changed: str, *, first: bool, now: datetime
) -> tuple[str, list[Block]]:
    """The internal Slack update, and the customer e-mail when one is due (first and resolved)."""
    values = facts(ctx, incident, draft.phase, what_changed, now=now)
    email_kind = "resolution" if draft.phase == Phase.RESOLVED else "initial" if first else None
    email = ctx.render.status("email_resolved" if email_kind == "resolution" else "email_initial", **values) \
        if email_kind else None
    body = ctx.render.slack("draft_copy", incident=incident, phase_label=values["phase_label"],
                            internal=ctx.render.status("internal_update", **values),
                            email=email, email_kind=email_kind)
    return body, blocks.message(body)


def draft_message(
    ctx: BotContext, incident: Incident, draft: StatusDraft, reviewer: str | None
) -> tuple[str, list[Block]]:
    """The draft as posted in the incident channel, with buttons while it is pending."""
    assert draft.id is not None
    open_for_decision = draft.state == "pending"
    values = {"incident": incident, "draft": draft, "reviewer": reviewer, "open_for_decision": open_for_decision,
              "phase_label": PHASE_LABELS[draft.phase]}
    return (
        ctx.render.slack("draft_fallback", **values),
        blocks.draft_message(body=ctx.render.slack("draft", **values),
                             context=ctx.render.slack("draft_context", **values),
                             draft_id=draft.id, open_for_decision=open_for_decision),
    )


def status_post(ctx: BotContext, incident: Incident, draft: StatusDraft) -> tuple[str, list[Block]]:
    """The approved update as posted in the status channel."""
    body = ctx.render.slack("status_post", incident=incident, draft=draft, phase_label=PHASE_LABELS[draft.phase])
    return body, blocks.message(body)


def problem(
    ctx: BotContext, incident: Incident, draft: StatusDraft, reviewer: str | None, *, destination: str, error: str
) -> tuple[str, list[Block]]:
    """A publication failure, told to the comms lead (with a retry button for Statuspage)."""
    assert draft.id is not None
    body = ctx.render.slack("draft_problem", incident=incident, reviewer=reviewer, destination=destination,
                            error=error, phase_label=PHASE_LABELS[draft.phase])
    return body, blocks.draft_problem(body=body, draft_id=draft.id, offer_retry=destination == "Statuspage")


def edit_modal(ctx: BotContext, incident: Incident, draft: StatusDraft) -> View:
    assert draft.id is not None
    intro = ctx.render.slack("draft_edit_intro", incident=incident, phase_label=PHASE_LABELS[draft.phase])
    return blocks.draft_edit_modal(draft_id=draft.id, text=draft.text, intro=intro)


def reject_modal(ctx: BotContext, incident: Incident, draft: StatusDraft) -> View:
    assert draft.id is not None
    intro = ctx.render.slack("draft_reject_intro", incident=incident, draft=draft,
                             phase_label=PHASE_LABELS[draft.phase])
    return blocks.draft_reject_modal(draft_id=draft.id, intro=intro)


def spoken(duration: timedelta) -> str:
    """A cadence as customers read it: "30 minutes", "1 hour", "2 hours"."""
    minutes = max(1, round(duration.total_seconds() / 60))
    if minutes % 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    return f"{hours} hour{'s' if hours != 1 else ''}"


def _to_minutes(duration: timedelta) -> timedelta:
    return timedelta(minutes=max(1, round(duration.total_seconds() / 60)))
