"""One HTTP session for every outside service but Slack, and what their answers mean.

Trackers, Confluence and PagerDuty share one aiohttp session (and so its pool of
kept-alive connections), opened on first use and closed when the bot stops.
Each call is one attempt: the follow-up worker retries what may pass (no
answer, a timeout, 429, 5xx) with backoff, and reports what was refused.
Credentials go in headers only and never into a log line or an error.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from bot.errors import ServiceCallFailed

TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=20)
DETAIL_MAX = 300


class OutsideHttp:
    """The shared session, opened lazily so that a bot without integrations never opens one."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._lock = asyncio.Lock()

    async def session(self) -> aiohttp.ClientSession:
        async with self._lock:
            if self._session is None or self._session.closed:
                self._session = aiohttp.ClientSession(timeout=TIMEOUT)
            return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def may_pass(status: int) -> bool:
    """Answers worth trying again later: rate limits and the service's own failures."""
    return status == 429 or status >= 500


async def request_json(http: OutsideHttp, *, service: str, operation: str, method: str, url: str,
                       headers: dict[str, str], body: Any = None, params: dict[str, str] | None = None) -> Any:
    """One call whose answer is JSON (or empty); any other outcome is :class:`ServiceCallFailed`.

    ``operation`` reads as the object of "refused …" ("creating the ticket"), so
    that a refusal reads "Jira refused creating the ticket: …".
    """
    session = await http.session()
    try:
        async with session.request(method, url, json=body, params=params,
                                   headers={"Accept": "application/json", **headers}) as response:
            text = await response.text()
            if response.status < 300:
                return json.loads(text) if text.strip() else None
            raise ServiceCallFailed(service, operation, refusal_detail(response.status, text),
                                    transient=may_pass(response.status))
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ServiceCallFailed(service, operation, f"no answer ({type(exc).__name__})", transient=True) from exc
    except json.JSONDecodeError as exc:
        raise ServiceCallFailed(service, operation, "an answer that is not JSON", transient=True) from exc


def refusal_detail(status: int, text: str) -> str:
    """What the service said, shortened: Atlassian's ``errorMessages``/``errors``/``message`` or the status."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    words: list[str] = []
    if isinstance(data, dict):
        words += [str(m) for m in data.get("errorMessages") or []]
        errors = data.get("errors")
        if isinstance(errors, dict):
            words += [f"{field}: {message}" for field, message in errors.items()]
        elif isinstance(errors, list):  # PagerDuty's Events API
            words += [str(message) for message in errors]
        if isinstance(data.get("message"), str):
            words.append(data["message"])
    detail = "; ".join(words) or _STATUS_WORDS.get(status, "")
    detail = f"{detail} (HTTP {status})" if detail else f"HTTP {status}"
    return detail[:DETAIL_MAX]


_STATUS_WORDS = {
    401: "the credentials were not accepted",
    403: "the account may not do this",
    404: "not found",
    429: "too many requests",
}
