"""Response metrics: per incident (TTD, TTA, TTI, TTR) and across incidents (MTTD, MTTA, MTTI, MTTR, SLA, cadence).

The database does the aggregation (:func:`storage.queries.response_metrics`);
this module turns sums into means and ratios and decides nothing else, so
`/incident stats`, App Home, the report and `/metrics` all show the same numbers.
Drills are never part of a metric: they are counted apart. What people see
in Slack counts a private incident only for its members.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.config.settings import IncidentConfig
from bot.context import BotContext
from bot.incidents.access import may_see
from storage import queries
from storage.db import Database
from storage.models import Incident
from storage.severity import Severity

HOME_DAYS = 30


@dataclass(frozen=True, slots=True)
class Compliance:
    """How many incidents met a target, and how many missed it (undecided ones are in neither)."""

    met: int
    missed: int

    @property
    def decided(self) -> int:
        return self.met + self.missed

    @property
    def ratio(self) -> float | None:
        """Share met, or None when nothing was decided yet."""
        return self.met / self.decided if self.decided else None


@dataclass(frozen=True, slots=True)
class Cadence:
    """Check-ins (updates, *No change*, the resolution) and how many came later than the cadence."""

    check_ins: int
    late: int
    late_total: timedelta
    late_max: timedelta

    @property
    def late_mean(self) -> timedelta | None:
        """How late a late check-in was, on average."""
        return self.late_total / self.late if self.late else None


@dataclass(frozen=True, slots=True)
class Metrics:
    """The metrics of one group of incidents (one severity, or all of them)."""

    declared: int
    open: int
    resolved: int
    mttd: timedelta | None
    mtta: timedelta | None
    mtti: timedelta | None
    mttr: timedelta | None
    respond: Compliance
    resolve: Compliance
    cadence: Cadence


@dataclass(frozen=True, slots=True)
class SeverityMetrics:
    """Metrics of one severity, with the targets they are measured against."""

    severity: Severity
    respond_within: timedelta
    resolve_within: timedelta
    update_every: timedelta
    metrics: Metrics


@dataclass(frozen=True, slots=True)
class Report:
    """Metrics over a window: per severity, all together, and the drills left out."""

    since: datetime
    until: datetime
    by_severity: Sequence[SeverityMetrics]
    total: Metrics
    drills: int

    @property
    def days(self) -> int:
        return round((self.until - self.since) / timedelta(days=1))

    @property
    def empty(self) -> bool:
        return self.total.declared == 0


@dataclass(frozen=True, slots=True)
class IncidentMetrics:
    """One incident's response times against its severity's targets."""

    ttd: timedelta | None
    tta: timedelta | None
    tti: timedelta | None
    ttr: timedelta | None
    respond_within: timedelta
    resolve_within: timedelta
    update_every: timedelta
    cadence: Cadence

    @property
    def respond_met(self) -> bool | None:
        return None if self.tta is None else self.tta <= self.respond_within

    @property
    def resolve_met(self) -> bool | None:
        return None if self.ttr is None else self.ttr <= self.resolve_within


def _mean(total_seconds: float, count: int) -> timedelta | None:
    return timedelta(seconds=round(total_seconds / count)) if count else None


def _combine(rows: Iterable[queries.MetricsRow]) -> Metrics:
    """Add rows up (sums and counts), then take means: exact for any grouping."""
    names = [f.name for f in fields(queries.MetricsRow) if f.name not in ("severity", "drill")]
    totals = dict.fromkeys(names, 0.0)
    late_max = 0
    for row in rows:
        for name in names:
            totals[name] += getattr(row, name)
        late_max = max(late_max, row.late_seconds_max)

    def whole(name: str) -> int:
        return int(totals[name])

    return Metrics(
        declared=whole("declared"),
        open=whole("open"),
        resolved=whole("resolved"),
        mttd=_mean(totals["ttd_seconds"], whole("detected")),
        mtta=_mean(totals["tta_seconds"], whole("acknowledged")),
        mtti=_mean(totals["tti_seconds"], whole("identified")),
        mttr=_mean(totals["ttr_seconds"], whole("resolved")),
        respond=Compliance(whole("respond_met"), whole("respond_missed")),
        resolve=Compliance(whole("resolve_met"), whole("resolve_missed")),
        cadence=Cadence(whole("check_ins"), whole("late_check_ins"),
                        timedelta(seconds=whole("late_seconds_total")), timedelta(seconds=late_max)),
    )


async def compute_report(ctx: BotContext, *, days: int, viewer: str | None = None) -> Report:
    """Metrics of the incidents declared in the last ``days`` days.

    With a ``viewer``, a private incident counts only if they are one of its
    members, as it is listed only to them; without one (operators' ``/metrics``),
    every incident counts.
    """
    return await report_from(ctx.db, ctx.config, days=days, until=ctx.clock.now(), viewer=viewer)


async def report_from(db: Database, config: IncidentConfig, *, until: datetime, days: int | None = None,
                      since: datetime | None = None, viewer: str | None = None) -> Report:
    """Metrics of the incidents declared from ``since`` (or ``days`` before ``until``) to ``until``, usually now.

    Needs only the database and the policy, so the ``report`` command runs without Slack.
    """
    start = since if since is not None else until - timedelta(days=days or 30)
    policies = {severity: config.policy(severity) for severity in Severity}
    async with db.session() as session:
        hidden = await _hidden_from(session, viewer, since=start, until=until) if viewer is not None else set()
        rows = await queries.response_metrics(
            session=session, since=start, until=until,
            respond_within={s: p.respond_within for s, p in policies.items()},
            resolve_within={s: p.resolve_within for s, p in policies.items()}, hidden=hidden,
        )
    real = [row for row in rows if not row.drill]
    return Report(
        since=start,
        until=until,
        by_severity=[
            SeverityMetrics(severity=s, respond_within=p.respond_within, resolve_within=p.resolve_within,
                            update_every=p.update_every, metrics=_combine(r for r in real if r.severity == s))
            for s, p in policies.items()
        ],
        total=_combine(real),
        drills=sum(row.declared for row in rows if row.drill),
    )


def incident_metrics(config: IncidentConfig, incident: Incident) -> IncidentMetrics:
    """TTA, TTI and TTR of one incident (None while not reached) against its severity's targets."""
    policy = config.policy(incident.severity)

    def seconds(value: int | None) -> timedelta | None:
        return None if value is None else timedelta(seconds=value)

    return IncidentMetrics(
        ttd=seconds(incident.ttd_seconds),
        tta=seconds(incident.tta_seconds),
        tti=seconds(incident.tti_seconds),
        ttr=seconds(incident.ttr_seconds),
        respond_within=policy.respond_within,
        resolve_within=policy.resolve_within,
        update_every=policy.update_every,
        cadence=Cadence(incident.check_ins, incident.late_check_ins,
                        timedelta(seconds=incident.late_seconds_total),
                        timedelta(seconds=incident.late_seconds_max)),
    )


async def stats_reply(ctx: BotContext, days: int, viewer: str) -> str:
    """The ephemeral answer to `/incident stats [days]`, counting what ``viewer`` may see."""
    report = await compute_report(ctx, days=days, viewer=viewer)
    return ctx.render.slack("stats", report=report)


async def home_metrics(ctx: BotContext, viewer: str) -> str:
    """The metrics section of ``viewer``'s App Home: the last 30 days, all severities together."""
    return ctx.render.slack("home_metrics", report=await compute_report(ctx, days=HOME_DAYS, viewer=viewer))


async def _hidden_from(session: AsyncSession, viewer: str, *, since: datetime, until: datetime) -> set[int]:
    """The private incidents of the window that ``viewer`` is no member of."""
    private = await queries.private_incidents_declared(session=session, since=since, until=until)
    return {incident.id for incident, holders in private
            if incident.id is not None and not may_see(incident, viewer, holders)}
