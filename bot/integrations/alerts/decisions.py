"""The two buttons on an alert in the announcements channel: *Declare incident* and *Dismiss*.

*Declare incident* opens the real declare form, filled in from the alert;
its submission carries the alert, so however many people press the button
and submit, the alert makes one incident. *Dismiss* takes the buttons away
for everyone, once.
"""

from __future__ import annotations

from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.context import BotContext
from bot.errors import IncidentError
from bot.integrations.alerts import messages
from bot.slack import blocks
from bot.slack.blocks import View
from storage import queries
from storage.models import Alert
from storage.severity import Severity


async def declare_form(ctx: BotContext, *, alert_id: int, user_id: str, channel_id: str | None,
                       response_url: str | None) -> View:
    """The declare modal prefilled from the alert; refused when the alert was declared or dismissed already."""
    alert = await _undecided(ctx, alert_id)
    metadata = {"channel_id": channel_id, "response_url": response_url, "alert_id": alert_id,
                "detected_at": alert.started_at.isoformat()}
    return blocks.declare_modal(
        title=messages.incident_title(alert), declarer=user_id, metadata=metadata, timezone=ctx.config.timezone,
        severity=Severity.of(alert.severity) if alert.severity else None, description=messages.description(alert))


async def dismiss(ctx: BotContext, *, alert_id: int, user_id: str) -> None:
    """Dismiss the alert and take its buttons away; a second press changes nothing."""
    async with ctx.db.session() as session:
        if await queries.dismiss_alert(session=session, alert_id=alert_id, user_id=user_id, at=ctx.clock.now()):
            await follow_with(ctx, session, Work.REFRESH_ALERT, incident_id=None, payload={"alert_id": alert_id},
                              requested_by=user_id)
            return
    await _undecided(ctx, alert_id)


async def _undecided(ctx: BotContext, alert_id: int) -> Alert:
    """The alert, if nobody declared or dismissed it yet; else a refusal saying what became of it."""
    async with ctx.db.session() as session:
        alert = await queries.get_alert(session=session, alert_id=alert_id)
        incident = (await queries.get_incident(session=session, incident_id=alert.incident_id)
                    if alert is not None and alert.incident_id is not None else None)
    if alert is None:
        raise IncidentError("The bot has no record of this alert any more.")
    if incident is not None:
        where = f" (#{incident.channel_name})" if incident.channel_name else ""
        raise IncidentError(f"This alert was already declared as {incident.reference}{where}.")
    if alert.dismissed_by is not None:
        raise IncidentError("This alert was dismissed already; its message says by whom.")
    return alert

