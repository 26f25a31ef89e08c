"""FakeStatuspage: a local stand-in for Atlassian Statuspage's REST API (v1), for tests.

A real aiohttp server on 127.0.0.1 serving the incident endpoints the bot
uses, with Statuspage's authentication (``Authorization: OAuth <key>``),
its ``{"incident": {...}}`` request bodies and the status values it accepts.
It keeps the incidents it was given, records every call, and can be told to
fail the next calls (5xx, 429 with Retry-After) to exercise retries.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.http_stub import LocalServer

INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
COMPONENT_STATUSES = {"operational", "under_maintenance", "degraded_performance", "partial_outage", "major_outage"}
IMPACTS = {"none", "minor", "major", "critical"}


@dataclass
class Call:
    method: str
    path: str
    body: Any
    status: int


@dataclass
class Planned:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


class FakeStatuspage(LocalServer):
    """One Statuspage page with known components, served locally."""

    def __init__(self, *, api_key: str = "sp-test-key", page_id: str = "pg0test00001",
                 components: tuple[str, ...] = ("cmp0checkout", "cmp0payments")) -> None:
        super().__init__()
        self.api_key = api_key
        self.page_id = page_id
        self.components = {c: "operational" for c in components}
        self.incidents: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self._planned: list[Planned] = []
        self._ids = itertools.count(1)

    def routes(self, app: web.Application) -> None:
        base = "/v1/pages/{page_id}/incidents"
        app.router.add_post(base, self._create)
        app.router.add_get(base + "/unresolved", self._unresolved)
        app.router.add_get(base + "/{incident_id}", self._get)
        app.router.add_patch(base + "/{incident_id}", self._update)

    @property
    def api_url(self) -> str:
        return f"{self.url}/v1"

    def fail_next(self, times: int = 1, *, status: int = 503, retry_after: int | None = None) -> None:
        """The next ``times`` requests answer this status (and Retry-After, for 429s)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self._planned.extend(Planned(status, headers) for _ in range(times))

    def writes(self) -> list[Call]:
        """Accepted creates and updates, oldest first."""
        return [c for c in self.calls if c.method in {"POST", "PATCH"} and c.status < 300]

    # -- handlers ------------------------------------------------------------
    async def _create(self, request: web.Request) -> web.Response:
        refusal, body = await self._check(request)
        if refusal is not None:
            return refusal
        incident = body["incident"]
        if not incident.get("name"):
            return self._answer(request, body, 422, {"error": "name can't be blank"})
        problem = self._fields_problem(incident)
        if problem:
            return self._answer(request, body, 422, {"error": problem})
        incident_id = f"inc{next(self._ids):09d}"
        stored = {"id": incident_id, "page_id": self.page_id, "name": incident["name"],
                  "status": incident.get("status", "investigating"), "impact": incident.get("impact_override", "none"),
                  "created_at": _now(), "incident_updates": []}
        self.incidents[incident_id] = stored
        self._apply(stored, incident)
        return self._answer(request, body, 201, stored)

    async def _update(self, request: web.Request) -> web.Response:
        refusal, body = await self._check(request)
        if refusal is not None:
            return refusal
        stored = self.incidents.get(request.match_info["incident_id"])
        if stored is None:
            return self._answer(request, body, 404, {"error": "Record not found"})
        problem = self._fields_problem(body["incident"])
        if problem:
            return self._answer(request, body, 422, {"error": problem})
        self._apply(stored, body["incident"])
        return self._answer(request, body, 200, stored)

    async def _get(self, request: web.Request) -> web.Response:
        refusal, _ = await self._check(request, with_body=False)
        if refusal is not None:
            return refusal
        stored = self.incidents.get(request.match_info["incident_id"])
        if stored is None:
            return self._answer(request, None, 404, {"error": "Record not found"})
        return self._answer(request, None, 200, stored)

    async def _unresolved(self, request: web.Request) -> web.Response:
        refusal, _ = await self._check(request, with_body=False)
        if refusal is not None:
            return refusal
        open_ones = [i for i in self.incidents.values() if i["status"] not in {"resolved", "postmortem"}]
        return self._answer(request, None, 200, open_ones)

    # -- helpers -------------------------------------------------------------
    async def _check(self, request: web.Request, *, with_body: bool = True) -> tuple[web.Response | None, Any]:
        """Planned faults, authentication, the page, and the body's shape, as Statuspage checks them."""
        body: Any = None
        if with_body:
            try:
                body = json.loads(await request.text() or "null")
            except ValueError:
                return self._answer(request, None, 400, {"error": "invalid JSON"}), None
        if self._planned:
            planned = self._planned.pop(0)
            return self._answer(request, body, planned.status, {"error": "planned failure"}, planned.headers), body
        if request.headers.get("Authorization") != f"OAuth {self.api_key}":
            return self._answer(request, body, 401, {"error": "Could not authenticate"}), body
        if request.match_info["page_id"] != self.page_id:
            return self._answer(request, body, 404, {"error": "Page not found"}), body
        if with_body and not (isinstance(body, dict) and isinstance(body.get("incident"), dict)):
            return self._answer(request, body, 400, {"error": "incident is missing"}), body
        return None, body

    def _fields_problem(self, incident: dict[str, Any]) -> str | None:
        if "status" in incident and incident["status"] not in INCIDENT_STATUSES:
            return f"status {incident['status']!r} is not included in the list"
        if "impact_override" in incident and incident["impact_override"] not in IMPACTS:
            return f"impact_override {incident['impact_override']!r} is not included in the list"
        for component, state in (incident.get("components") or {}).items():
            if component not in self.components:
                return f"component {component} not found"
            if state not in COMPONENT_STATUSES:
                return f"component status {state!r} is not included in the list"
        for component in incident.get("component_ids") or []:
            if component not in self.components:
                return f"component {component} not found"
        return None

    def _apply(self, stored: dict[str, Any], incident: dict[str, Any]) -> None:
        """A create or update adds an incident update and moves the components."""
        stored["status"] = incident.get("status", stored["status"])
        self.components.update(incident.get("components") or {})
        stored["incident_updates"].append({
            "id": f"upd{len(stored['incident_updates']) + 1:09d}", "status": stored["status"],
            "body": incident.get("body", ""), "created_at": _now(),
            "affected_components": [{"code": code, "new_status": state}
                                    for code, state in (incident.get("components") or {}).items()],
        })

    def _answer(self, request: web.Request, body: Any, status: int, data: Any,
                headers: dict[str, str] | None = None) -> web.Response:
        self.calls.append(Call(request.method, request.path, body, status))
        return web.json_response(data, status=status, headers=headers)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
