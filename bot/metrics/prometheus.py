"""Prometheus metrics, in a registry of our own so tests can build several bots."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.context import BotContext
from bot.metrics.stats import Report, compute_report
from storage import queries
from storage.severity import Severity

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
        self.scheduler_leader = Gauge("incident_bot_scheduler_leader",
                                      "1 on the replica that runs the reminder scheduler", registry=self.registry)
        self.in_progress = Gauge("incident_bot_slack_requests_in_progress",
                                 "Slack requests this replica has acknowledged and not yet finished",
                                 registry=self.registry)
        self.response = ResponseGauges(self.registry)

    async def render(self, ctx: BotContext, *, in_progress: int) -> bytes:
        self.in_progress.set(in_progress)
        up = await ctx.db.ping()
        self.database_up.set(1 if up else 0)
        self.scheduler_leader.set(1 if ctx.scheduler_leader else 0)
        if up:
            async with ctx.db.session() as session:
                counts = await queries.count_open_by_severity(session=session)
            for severity in Severity:
                self.open_incidents.labels(severity=severity.label).set(counts.get(severity, 0))
            self.response.update(await compute_report(ctx, days=METRICS_WINDOW_DAYS))
        return generate_latest(self.registry)


# -- response metrics -------------------------------------------------

METRICS_WINDOW_DAYS = 30


class ResponseGauges:
    """MTTA/MTTI/MTTR, SLA compliance and cadence over the last 30 days, per severity (drills apart).

    Gauges are cleared before each scrape's values are set, so a severity
    with nothing to measure has no sample rather than a stale one.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        window = f"incidents declared in the last {METRICS_WINDOW_DAYS} days, drills excluded"
        by_severity = ["severity"]
        self.declared = Gauge("incident_bot_incidents_declared", f"Incidents: {window}", by_severity,
                              registry=registry)
        self.drills = Gauge("incident_bot_drills_declared",
                            f"Drills declared in the last {METRICS_WINDOW_DAYS} days", registry=registry)
        self.mtta = Gauge("incident_bot_mtta_seconds", f"Mean time to acknowledge: {window}", by_severity,
                          registry=registry)
        self.mtti = Gauge("incident_bot_mtti_seconds", f"Mean time to identify: {window}", by_severity,
                          registry=registry)
        self.mttr = Gauge("incident_bot_mttr_seconds", f"Mean time to resolve: {window}", by_severity,
                          registry=registry)
        self.sla = Gauge("incident_bot_sla_compliance_ratio",
                         f"Share of decided incidents meeting the respond/resolve target: {window}",
                         ["severity", "target"], registry=registry)
        self.updates = Gauge("incident_bot_updates", f"Updates, No change answers and resolutions: {window}",
                             by_severity, registry=registry)
        self.late_updates = Gauge("incident_bot_late_updates", f"Of those, later than the cadence: {window}",
                                  by_severity, registry=registry)
        self.late_max = Gauge("incident_bot_update_lateness_max_seconds",
                              f"Worst lateness of an update against the cadence: {window}", by_severity,
                              registry=registry)

    def update(self, report: Report) -> None:
        for gauge in (self.declared, self.mtta, self.mtti, self.mttr, self.sla, self.updates,
                      self.late_updates, self.late_max):
            gauge.clear()
        self.drills.set(report.drills)
        for entry in report.by_severity:
            severity, metrics = entry.severity.label, entry.metrics
            self.declared.labels(severity=severity).set(metrics.declared)
            self.updates.labels(severity=severity).set(metrics.cadence.check_ins)
            self.late_updates.labels(severity=severity).set(metrics.cadence.late)
            self.late_max.labels(severity=severity).set(metrics.cadence.late_max.total_seconds())
            for gauge, value in ((self.mtta, metrics.mtta), (self.mtti, metrics.mtti), (self.mttr, metrics.mttr)):
                if value is not None:
                    gauge.labels(severity=severity).set(value.total_seconds())
            for target, compliance in (("respond", metrics.respond), ("resolve", metrics.resolve)):
                if compliance.ratio is not None:
                    self.sla.labels(severity=severity, target=target).set(compliance.ratio)
