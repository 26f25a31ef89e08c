"""The bot's own public status page: ``/status`` (HTML), ``/status.json`` and an Atom feed.

Everything shown comes from approved drafts only, read by one query that
leaves out private incidents and drills. What the public sees of an
incident (its phase, whether it is resolved) is what its latest approved
update says, not the internal state: a phase nobody approved for the public
is not announced by the page either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.context import BotContext
from bot.status.draft_wording import PHASE_LABELS
from storage import queries
from storage.models import Phase
from storage.severity import Severity

RECENTLY = timedelta(days=7)
IMPACT_LABELS = {Severity.SEV1: "Critical", Severity.SEV2: "Major", Severity.SEV3: "Moderate",
                 Severity.SEV4: "Minor"}
CACHE = "public, max-age=15"
# The page has no scripts and no outside resources; forbid both, so escaped text stays inert.
HTML_SECURITY = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True, slots=True)
class PublicUpdate:
    """One approved update as the public sees it."""

    id: int
    text: str
    phase: Phase
    published_at: datetime

    @property
    def phase_label(self) -> str:
        return PHASE_LABELS[self.phase]


@dataclass(frozen=True, slots=True)
class PublicIncident:
    """An incident as its approved updates describe it; updates newest first."""

    id: int
    title: str
    severity: int
    started_at: datetime
    updates: list[PublicUpdate] = field(default_factory=list)

    @property
    def phase(self) -> Phase:
        return self.updates[0].phase

    @property
    def phase_label(self) -> str:
        return PHASE_LABELS[self.phase]

    @property
    def impact_label(self) -> str:
        return IMPACT_LABELS[self.severity]

    @property
    def resolved_at(self) -> datetime | None:
        """When the public was told it is resolved (None while it is not)."""
        return self.updates[0].published_at if self.phase == Phase.RESOLVED else None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True, slots=True)
class StatusView:
    """Everything the three public representations show."""

    incidents: list[PublicIncident]
    generated_at: datetime

    @property
    def open_incidents(self) -> list[PublicIncident]:
        return [i for i in self.incidents if i.is_open]

    @property
    def resolved_incidents(self) -> list[PublicIncident]:
        return [i for i in self.incidents if not i.is_open]

    @property
    def updated_at(self) -> datetime:
        """The newest publication shown, so the feed only changes when the content does."""
        moments = [u.published_at for i in self.incidents for u in i.updates]
        return max(moments, default=self.generated_at)


async def public_status(ctx: BotContext, *, now: datetime | None = None) -> StatusView:
    """Open and recently resolved public incidents with their approved updates."""
    now = now or ctx.clock.now()
    since = now - RECENTLY
    async with ctx.db.session() as session:
        rows = await queries.public_drafts(session=session, resolved_since=since)
    incidents: dict[int, PublicIncident] = {}
    for incident, draft in rows:
        assert incident.id is not None and draft.id is not None and draft.published_at is not None
        public = incidents.setdefault(incident.id, PublicIncident(
            id=incident.id, title=incident.title, severity=incident.severity, started_at=incident.declared_at,
        ))
        public.updates.append(PublicUpdate(id=draft.id, text=draft.text, phase=draft.phase,
                                           published_at=draft.published_at))
    shown = [i for i in incidents.values() if i.resolved_at is None or i.resolved_at >= since]
    shown.sort(key=lambda i: (not i.is_open, -i.updates[0].published_at.timestamp()))
    return StatusView(incidents=shown, generated_at=now)


def iso(moment: datetime | None) -> str | None:
    """ISO-8601 in UTC with a Z, as /status.json and the feed promise."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def as_json(view: StatusView) -> dict[str, Any]:
    return {"incidents": [
        {
            "title": incident.title,
            "severity": Severity.of(incident.severity).label,
            "phase": incident.phase.value,
            "started_at": iso(incident.started_at),
            "resolved_at": iso(incident.resolved_at),
            "updates": [{"text": u.text, "phase": u.phase.value, "published_at": iso(u.published_at)}
                        for u in incident.updates],
        }
        for incident in view.incidents
    ]}


def render_html(ctx: BotContext, view: StatusView, *, feed_url: str, json_url: str) -> str:
    return ctx.render.html("status.html", view=view, feed_url=feed_url, json_url=json_url)


def render_atom(ctx: BotContext, view: StatusView, *, page_url: str, self_url: str) -> str:
    entries = sorted(((i, u) for i in view.incidents for u in i.updates),
                     key=lambda pair: pair[1].published_at, reverse=True)
    return ctx.render.html("status.atom", view=view, entries=entries, page_url=page_url, self_url=self_url,
                           iso=iso)


def routes(ctx: BotContext) -> list[Route]:
    """``GET /status``, ``/status.json`` and ``/status/feed.atom``."""

    async def page(request: Request) -> Response:
        html = render_html(ctx, await public_status(ctx), feed_url=str(request.url_for("status_feed")),
                           json_url=str(request.url_for("status_json")))
        return HTMLResponse(html, headers={"Cache-Control": CACHE, **HTML_SECURITY})

    async def json(_: Request) -> Response:
        return JSONResponse(as_json(await public_status(ctx)), headers={"Cache-Control": CACHE})

    async def feed(request: Request) -> Response:
        atom = render_atom(ctx, await public_status(ctx), page_url=str(request.url_for("status_page")),
                           self_url=str(request.url))
        return Response(atom, media_type="application/atom+xml; charset=utf-8", headers={"Cache-Control": CACHE})

    return [
        Route("/status", page, methods=["GET"], name="status_page"),
        Route("/status.json", json, methods=["GET"], name="status_json"),
        Route("/status/feed.atom", feed, methods=["GET"], name="status_feed"),
    ]
