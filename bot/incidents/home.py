"""App Home: the open incidents a person may see, the roles they hold, counts by severity."""

from __future__ import annotations

from collections import Counter

from bot.context import BotContext
from bot.incidents.access import may_see
from bot.metrics.stats import home_metrics
from bot.slack import blocks
from bot.slack.messages import ROLE_LABELS
from storage import queries
from storage.models import Incident, Role
from storage.severity import Severity

HOME_INCIDENTS_MAX = 40
"""Listed on the Home tab; more are summarised (`/incident list` shows them all)."""


async def publish_home(ctx: BotContext, viewer: str) -> None:
    """Render the viewer's Home tab from the database as it is now and publish it."""
    visible: list[tuple[Incident, dict[Role, str]]] = []
    async with ctx.db.session() as session:
        for incident in await queries.open_incidents(session=session):
            assert incident.id is not None
            roles = await queries.current_roles(session=session, incident_id=incident.id)
            if may_see(incident, viewer, roles.values()):
                visible.append((incident, roles))
        mine = await queries.open_roles_of(session=session, user_id=viewer)
    counts = Counter(incident.severity for incident, _ in visible if not incident.drill)
    text = ctx.render.slack(
        "home",
        rows=[(incident, roles.get(Role.IC)) for incident, roles in visible[:HOME_INCIDENTS_MAX]],
        more=max(0, len(visible) - HOME_INCIDENTS_MAX),
        counts=[(severity, counts.get(severity, 0)) for severity in Severity],
        drills=sum(1 for incident, _ in visible if incident.drill),
        roles=mine,
        role_labels=ROLE_LABELS,
    )
    text += "\n\n" + await home_metrics(ctx, viewer)  # response metrics
    await ctx.slack.publish_home(viewer, blocks.home(text))
