"""Atlassian Statuspage's REST API, as far as publishing our status updates needs it.

Used only when the operator configures a ``[statuspage]`` table. One of our
incidents is one Statuspage incident: created by its first approved update,
patched by the later ones. Network failures, 429s and 5xx answers are retried
with exponential backoff (honouring ``Retry-After``); other 4xx answers are
the operator's problem (a wrong key or page id) and fail at once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any

import aiohttp

from bot.config.settings import ConfigError, IncidentConfig, Settings, StatuspageConfig
from storage.severity import Severity

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = 60.0
REQUEST_TIMEOUT = 10.0

# How an open incident of each severity shows on the affected components.
COMPONENT_STATUS = {Severity.SEV1: "major_outage", Severity.SEV2: "partial_outage",
                    Severity.SEV3: "degraded_performance", Severity.SEV4: "degraded_performance"}
IMPACT = {Severity.SEV1: "critical", Severity.SEV2: "major", Severity.SEV3: "minor", Severity.SEV4: "none"}
STATUSES = ("investigating", "identified", "monitoring", "resolved")


class StatuspageError(Exception):
    """Statuspage refused a request or stayed unreachable through every retry."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class StatuspageUpdate:
    """One approved update, in Statuspage's terms."""

    name: str
    status: str
    body: str
    severity: int


def check_configured(settings: Settings, config: IncidentConfig) -> None:
    """Refuse to start with a ``[statuspage]`` table but no API key to use it."""
    if config.statuspage is not None and settings.statuspage_api_key is None:
        raise ConfigError(
            "statuspage: the [statuspage] table is set but STATUSPAGE_API_KEY is not; "
            "set it to a Statuspage API key, or remove the table"
        )


def client_for(settings: Settings, config: IncidentConfig) -> StatuspageClient | None:
    """The configured client, or None when no external status page is configured."""
    if config.statuspage is None or settings.statuspage_api_key is None:
        return None
    return StatuspageClient(config.statuspage, api_key=settings.statuspage_api_key.get_secret_value())


class StatuspageClient:
    """Creates and updates incidents on one Statuspage page; use as ``async with``."""

    def __init__(self, config: StatuspageConfig, *, api_key: str, timeout: float = REQUEST_TIMEOUT) -> None:
        self.config = config
        self._api_key = api_key
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> StatuspageClient:
        self._session = aiohttp.ClientSession(
            headers={"Authorization": f"OAuth {self._api_key}", "Accept": "application/json"},
            timeout=aiohttp.ClientTimeout(total=self._timeout),
        )
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- the operations the publisher uses ---------------------------------
    async def create_incident(self, update: StatuspageUpdate) -> str:
        """Open a Statuspage incident with this first update; returns its id."""
        body = {"incident": {"name": update.name, "impact_override": IMPACT[update.severity],
                             "deliver_notifications": True, **self._status_fields(update)}}
        data = await self._request("POST", "/incidents", body)
        return str(data["id"])

    async def update_incident(self, incident_id: str, update: StatuspageUpdate) -> None:
        """Post a further update (status, text, component states) on an existing incident."""
        await self._request("PATCH", f"/incidents/{incident_id}", {"incident": self._status_fields(update)})

    async def find_unresolved(self, name: str) -> str | None:
        """The id of an unresolved incident with this name (to adopt a create whose answer was lost)."""
        data = await self._request("GET", "/incidents/unresolved")
        for incident in data if isinstance(data, list) else []:
            if incident.get("name") == name:
                return str(incident["id"])
        return None

    async def latest_body(self, incident_id: str) -> str | None:
        """The text of the incident's newest update (to skip one already sent before a crash)."""
        data = await self._request("GET", f"/incidents/{incident_id}")
        updates = (data.get("incident_updates") or []) if isinstance(data, dict) else []
        if not updates:
            return None
        newest = max(updates, key=lambda u: str(u.get("created_at", "")))
        return str(newest.get("body", ""))

    def longest_call(self) -> timedelta:
        """How long one call may take with every retry, so a lease can outlast it."""
        delay, total = self.config.retry_delay.total_seconds(), self._timeout * self.config.attempts
        for _ in range(self.config.attempts - 1):
            total += min(delay, MAX_RETRY_DELAY)
            delay *= 2
        return timedelta(seconds=total)

    # -- plumbing ------------------------------------------------------------
    def _status_fields(self, update: StatuspageUpdate) -> dict[str, Any]:
        if update.status not in STATUSES:
            raise ValueError(f"{update.status!r} is not a Statuspage incident status")
        state = "operational" if update.status == "resolved" else COMPONENT_STATUS[update.severity]
        fields: dict[str, Any] = {"status": update.status, "body": update.body}
        if self.config.component_ids:
            fields["component_ids"] = list(self.config.component_ids)
            fields["components"] = {component: state for component in self.config.component_ids}
        return fields

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One API call, retried with exponential backoff while the failure may pass."""
        assert self._session is not None, "use StatuspageClient as an async context manager"
        url = f"{self.config.api_url}/pages/{self.config.page_id}{path}"
        delay = self.config.retry_delay.total_seconds()
        for attempt in range(1, self.config.attempts + 1):
            try:
                return await self._once(method, url, body)
            except StatuspageError as exc:
                if not exc.retryable or attempt == self.config.attempts:
                    raise
                wait = min(max(delay, exc.retry_after), MAX_RETRY_DELAY)
                log.info("Statuspage %s %s failed (%s); retry %d in %.1fs", method, path, exc, attempt, wait)
                await asyncio.sleep(wait)
                delay *= 2
        raise AssertionError("unreachable: the loop returns or raises")

    async def _once(self, method: str, url: str, body: dict[str, Any] | None) -> Any:
        assert self._session is not None
        try:
            async with self._session.request(method, url, json=body) as response:
                if response.status < 300:
                    return await response.json(content_type=None)
                text = (await response.text())[:300]
                raise StatuspageError(f"HTTP {response.status}: {text}",
                                      retryable=response.status == 429 or response.status >= 500,
                                      retry_after=_retry_after(response.headers.get("Retry-After")))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise StatuspageError(f"unreachable ({type(exc).__name__})", retryable=True) from exc


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value)) if value else 0.0
    except ValueError:
        return 0.0
