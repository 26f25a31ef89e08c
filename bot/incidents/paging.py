"""Which changes page the on-call, recorded with the change and sent by the worker through PagerDuty.

Declaring an incident of a paging severity, raising one to it, and reopening
one page; resolving ends the page. Nothing is paged when the incident came
from a PagerDuty incident: PagerDuty already paged someone for it. A failure
is told to the incident commander, who then knows to page by hand.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.context import BotContext
from storage import queries
from storage.models import AlertHandling, Incident, Role

PAGERDUTY_SOURCE = "pagerduty"


async def page_oncall(ctx: BotContext, session: AsyncSession, incident: Incident, *, cause: str,
                      actor: str, key: str | None = None) -> None:
    """Record a page for ``incident`` if it pages at its severity now; ``cause`` says why ("declared as SEV-1")."""
    pagerduty = ctx.config.pagerduty
    if pagerduty is None or not pagerduty.pages(incident):
        return
    assert incident.id is not None
    if await _from_pagerduty(session, incident.id):
        return
    await follow_with(ctx, session, Work.PAGE_ONCALL, incident_id=incident.id, payload={"cause": cause},
                      key=key, requested_by=await _commander(session, incident.id, actor))


async def end_page(ctx: BotContext, session: AsyncSession, incident: Incident, *, actor: str) -> None:
    """Record resolving the page, when this incident ever paged."""
    if ctx.config.pagerduty is None:
        return
    assert incident.id is not None
    if await queries.paging_work_recorded(session=session, incident_id=incident.id, kind=Work.PAGE_ONCALL):
        await follow_with(ctx, session, Work.RESOLVE_PAGE, incident_id=incident.id, payload={"cause": "resolved"},
                          requested_by=await _commander(session, incident.id, actor))


async def _from_pagerduty(session: AsyncSession, incident_id: int) -> bool:
    alerts = await queries.alerts_for_incident(session=session, incident_id=incident_id)
    return any(a.source == PAGERDUTY_SOURCE and a.handling != AlertHandling.PAGE for a in alerts)


async def _commander(session: AsyncSession, incident_id: int, actor: str) -> str:
    """Who hears about a page that failed: the incident commander, else whoever made the change."""
    return (await queries.current_roles(session=session, incident_id=incident_id)).get(Role.IC) or actor
