"""FakePagerDuty: a local stand-in for PagerDuty's Events API v2, for tests.

A real aiohttp server on 127.0.0.1 taking ``POST /v2/enqueue`` as PagerDuty
documents it: a 32-character ``routing_key``, ``event_action`` trigger,
acknowledge or resolve, a trigger's ``payload`` with ``summary`` (up to 1024
characters), ``source`` and one of the four severities, a ``dedup_key`` of up
to 255. It answers 202 ``{"status": "success", "message": "Event processed",
"dedup_key": …}``, or 400 ``{"status": "invalid event", …, "errors": [...]}``.
Like PagerDuty, it folds a trigger into the open alert of the same
``dedup_key`` and opens a new one (a page) only when none is open; ``pages``
counts those. It records every request and can be told to answer the next
ones with 429 or 5xx, or slowly.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.http_stub import LocalServer

ROUTING_KEY = "R0UT1NGKEY0F32CHARACTERS00000000"
SEVERITIES = {"critical", "error", "warning", "info"}
ACTIONS = {"trigger", "acknowledge", "resolve"}


@dataclass
class Event:
    body: Any
    status: int


@dataclass
class Alert:
    dedup_key: str
    summary: str
    status: str = "triggered"
    triggers: list[dict[str, Any]] = field(default_factory=list)


class FakePagerDuty(LocalServer):
    """One PagerDuty service with one Events API v2 integration, served locally."""

    def __init__(self, *, routing_key: str = ROUTING_KEY) -> None:
        super().__init__()
        self.routing_key = routing_key
        self.events: list[Event] = []
        self.alerts: list[Alert] = []
        self._planned: list[int] = []
        self._latency = 0.0

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v2/enqueue", self._enqueue)

    @property
    def events_url(self) -> str:
        return f"{self.url}/v2/enqueue"

    def fail_next(self, times: int = 1, *, status: int = 503) -> None:
        """The next ``times`` events are answered with this status (429, 500, 503…) and not taken."""
        self._planned.extend([status] * times)

    def set_latency(self, seconds: float) -> None:
        """Answer only after ``seconds`` (the event is taken on arrival)."""
        self._latency = seconds

    @property
    def pages(self) -> int:
        """How many times someone was paged: alerts opened, not triggers folded into an open one."""
        return len(self.alerts)

    def accepted(self, action: str | None = None) -> list[dict[str, Any]]:
        """Events answered 202, oldest first (only those of ``action`` when given)."""
        return [e.body for e in self.events if e.status == 202 and (action is None or e.body["event_action"] == action)]

    def open_alert(self, dedup_key: str) -> Alert | None:
        return next((a for a in self.alerts if a.dedup_key == dedup_key and a.status != "resolved"), None)

    async def _enqueue(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
        except ValueError:
            return self._answer(None, 400, _invalid("Could not parse JSON"))
        if self._planned:
            status = self._planned.pop(0)
            return self._answer(body, status, {"status": "unavailable", "message": "planned failure"})
        errors = self._problems(body)
        if errors:
            return self._answer(body, 400, _invalid(*errors))
        self._apply(body)
        if self._latency:
            await asyncio.sleep(self._latency)
        return self._answer(body, 202, {"status": "success", "message": "Event processed",
                                        "dedup_key": body["dedup_key"]})

    def _problems(self, body: Any) -> list[str]:
        if not isinstance(body, dict):
            return ["Event object is not a JSON object"]
        errors = []
        if not isinstance(body.get("routing_key"), str) or len(body["routing_key"]) != 32:
            errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
        elif body["routing_key"] != self.routing_key:
            errors.append("Invalid routing key")
        if body.get("event_action") not in ACTIONS:
            errors.append("'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
        key = body.get("dedup_key")
        if not isinstance(key, str) or not 0 < len(key) <= 255:
            errors.append("'dedup_key' is missing or longer than 255 characters")
        if body.get("event_action") == "trigger":
            payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
            summary = payload.get("summary")
            if not isinstance(summary, str) or not 0 < len(summary) <= 1024:
                errors.append("'payload.summary' is missing or longer than 1024 characters")
            if not payload.get("source"):
                errors.append("'payload.source' is missing")
            if payload.get("severity") not in SEVERITIES:
                errors.append("'payload.severity' is invalid (must be one of: critical, error, warning, info)")
        return errors

    def _apply(self, body: dict[str, Any]) -> None:
        alert = self.open_alert(body["dedup_key"])
        if body["event_action"] == "trigger":
            if alert is None:
                alert = Alert(dedup_key=body["dedup_key"], summary=body["payload"]["summary"])
                self.alerts.append(alert)
            alert.triggers.append(body)
        elif alert is not None:
            alert.status = "acknowledged" if body["event_action"] == "acknowledge" else "resolved"

    def _answer(self, body: Any, status: int, data: dict[str, Any]) -> web.Response:
        self.events.append(Event(body, status))
        return web.json_response(data, status=status)


def _invalid(*errors: str) -> dict[str, Any]:
    return {"status": "invalid event", "message": "Event object is invalid", "errors": list(errors)}
