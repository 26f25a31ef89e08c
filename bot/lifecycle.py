"""What follows a change to an incident, in one place.

Features that react to changes (the summary, reminders, status drafts,
post-mortems) are wired here, so the code that makes a change never has to
know who else cares, and no feature calls another feature's flow directly.
"""

from __future__ import annotations

from bot.context import BotContext
from bot.summary import refresh_summary
from storage.models import Incident, Phase


async def after_phase_change(ctx: BotContext, incident: Incident, *, old: Phase, actor: str) -> None:
    assert incident.id is not None
    await refresh_summary(ctx, incident.id)


async def after_severity_change(ctx: BotContext, incident: Incident, *, old: int, actor: str) -> None:
    assert incident.id is not None
    await refresh_summary(ctx, incident.id)


async def after_roles_change(ctx: BotContext, incident: Incident, *, actor: str) -> None:
    assert incident.id is not None
    await refresh_summary(ctx, incident.id)
