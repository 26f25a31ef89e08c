"""How an alert reads: in the announcements channel, in the incident channel, and in the declare form."""

from __future__ import annotations

from typing import Any

from bot.context import BotContext
from bot.integrations.alerts.events import sender
from bot.slack import blocks
from bot.slack.mrkdwn import truncate
from storage.models import Alert, AlertHandling, Incident


def announcement(ctx: BotContext, alert: Alert, incident: Incident | None) -> tuple[str, list[Any]]:
    """The alert with *Declare incident* and *Dismiss*, or with what became of it once someone decided."""
    assert alert.id is not None
    body = ctx.render.slack("alert", alert=alert, sender=sender(alert.source), incident=incident)
    undecided = incident is None and alert.dismissed_at is None
    return body, blocks.alert_announcement(body, alert_id=alert.id, undecided=undecided)


def declared_note(ctx: BotContext, alert: Alert) -> str:
    """The incident channel's note of the alert it was declared from."""
    return ctx.render.slack("alert_declared", alert=alert, sender=sender(alert.source),
                            automatic=alert.handling == AlertHandling.AUTO)


def incident_title(alert: Alert) -> str:
    """The alert's title as an incident title (Slack's declare form takes 80 characters)."""
    return truncate(" ".join(alert.title.split()), blocks.TITLE_MAX)


def description(alert: Alert) -> str:
    """The declare form's *Description*: what the alert says, and where to look (plain text)."""
    lines = [f"From the {sender(alert.source)} alert, firing since {alert.started_at:%Y-%m-%d %H:%M} UTC."]
    if alert.details:
        lines += ["", alert.details]
    if alert.links:
        lines += ["", *(f"{text}: {url}" for text, url in alert.links)]
    return truncate("\n".join(lines), blocks.DESCRIPTION_MAX)
