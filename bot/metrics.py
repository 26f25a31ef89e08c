"""Prometheus metrics, in a registry of our own so tests can build several bots."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.context import BotContext
from storage import queries

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """Gauges read from the database at scrape time, so every replica reports the same truth."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.open_incidents = Gauge(
            "incident_bot_open_incidents", "Open incidents (drills excluded) by severity",
            ["severity"], registry=self.registry,
        )
        self.database_up = Gauge("incident_bot_database_up", "1 when the database answers", registry=self.registry)

    async def render(self, ctx: BotContext) -> bytes:
        up = await ctx.db.ping()
        self.database_up.set(1 if up else 0)
        if up:
            async with ctx.db.session() as session:
                counts = await queries.count_open_by_severity(session=session)
            for severity in range(1, 5):
                self.open_incidents.labels(severity=f"SEV-{severity}").set(counts.get(severity, 0))
        return generate_latest(self.registry)
