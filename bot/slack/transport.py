"""How the gateway's Web API calls travel: what is retried, and what the core is told.

This is the gateway's other half (with :mod:`bot.slack.gateway`, the only code
that imports slack_sdk). slack-sdk's retry handlers do the retrying; the
subclasses here add two things. A 429 holds back every call to that method
(see :mod:`bot.slack.rate_limits`), not only the one that got it. And a call
that posts something new is not sent again when its connection broke after
the request went out: Slack may already have acted, so the gateway looks
before it posts again (:meth:`bot.slack.gateway.SlackGateway.post_message`).

Every failure slack-sdk or aiohttp can raise becomes one
:class:`~bot.errors.SlackCallFailed`, with Slack's error code or one of ours.
"""

from __future__ import annotations

import random
from contextvars import ContextVar
from urllib.parse import urlsplit

from aiohttp import (
    ClientConnectionError,
    ClientConnectorError,
    ClientError,
    ClientPayloadError,
    ClientResponseError,
    ConnectionTimeoutError,
)
from slack_sdk.errors import SlackApiError, SlackClientError, SlackRequestError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import (
    BackoffRetryIntervalCalculator,
)
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.errors import SlackCallFailed
from bot.slack.rate_limits import CallKey, RateLimitHolds

CONNECTION_FAILED = "connection_failed"
"""No connection to Slack could be made: the request never left."""
CONNECTION_LOST = "connection_lost"
"""The connection broke after the request left (or while its answer was read): Slack may have acted on it."""
TIMEOUT = "timeout"
"""Slack did not answer in time: it may still act on the request."""
HTTP_ERROR = "http_error"
"""An answer came back, but not Slack's JSON (a proxy's error page, an unreadable body)."""
INVALID_REQUEST = "invalid_request"
"""slack-sdk or aiohttp refused to send the request as built (a bug on our side)."""
CLIENT_ERROR = "client_error"
"""Any other failure inside slack-sdk."""

OUTCOME_UNKNOWN = frozenset({CONNECTION_LOST, TIMEOUT, HTTP_ERROR})
"""Failures after which the call may have taken effect on Slack's side (a proxy may answer for a busy Slack)."""

NOT_REPEATABLE = frozenset({"chat.postMessage", "files.completeUploadExternal", "bookmarks.add"})
"""Methods that would post a second message (or bookmark) if sent again after Slack acted on the first.

conversations.create is not here: Slack refuses a second channel of the same
name (``name_taken``) and the declare adopts the one it created.
"""

NEVER_SENT = (ClientConnectorError, ConnectionTimeoutError)
"""Connection failures that happen before any of the request leaves."""

TRANSPORT_ERRORS = (SlackClientError, ClientError, TimeoutError, OSError)
"""Everything a Web API call can raise besides our own bugs."""

RETRY_COUNT = 3
RATE_LIMIT_RETRY_COUNT = 10

call_in_flight: ContextVar[CallKey | None] = ContextVar("slack_call_in_flight", default=None)
"""The call the current task is making, so a 429 can be held against its channel."""


class ProportionalJitter(Jitter):
    """Adds up to as much again as the wait itself (slack-sdk's default adds up to a whole second).

    Retries of many calls that failed together spread out, and a short
    backoff (in tests) stays short.
    """

    def recalculate(self, duration: float) -> float:
        return duration * (1 + random.random())


def backoff_interval(backoff: float) -> BackoffRetryIntervalCalculator:
    """Waits of ``backoff``, then twice, four times as long…, each with :class:`ProportionalJitter`."""
    return BackoffRetryIntervalCalculator(backoff_factor=backoff, jitter=ProportionalJitter())


def slack_failure(method: str, exc: BaseException) -> SlackCallFailed:
    """The one error the core knows, for anything in :data:`TRANSPORT_ERRORS`."""
    if isinstance(exc, SlackApiError):
        answer = exc.response
        error = answer.get("error") if isinstance(answer, AsyncSlackResponse) else None
        return SlackCallFailed(method, str(error) if error else HTTP_ERROR)
    return SlackCallFailed(method, _transport_error(exc))


def _transport_error(exc: BaseException) -> str:
    if isinstance(exc, SlackRequestError):
        return INVALID_REQUEST
    if isinstance(exc, SlackClientError):
        return CLIENT_ERROR
    if isinstance(exc, NEVER_SENT):
        return CONNECTION_FAILED
    if isinstance(exc, TimeoutError):
        return TIMEOUT
    if isinstance(exc, ClientConnectionError | ClientPayloadError | OSError):
        return CONNECTION_LOST
    if isinstance(exc, ClientResponseError):
        return HTTP_ERROR
    return INVALID_REQUEST


def web_api_method(url: str) -> str | None:
    """``chat.postMessage`` for ``…/api/chat.postMessage``; None for other URLs (uploads, response_url)."""
    _, found, method = urlsplit(url).path.rpartition("/api/")
    return method if found and method else None


def _call_key(request: HttpRequest) -> CallKey | None:
    method = web_api_method(request.url)
    if method is None:
        return None
    current = call_in_flight.get()
    channel = current.channel if current is not None and current.method == method else None
    return CallKey.for_call(method, channel)


def _retry_after(response: HttpResponse) -> int:
    """Slack's Retry-After in whole seconds (1 when missing or unreadable)."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) else values
            return int(value) if str(value).isdigit() else 1
    return 1


class RateLimitHoldHandler(AsyncRateLimitErrorRetryHandler):
    """On 429, hold back every call under the same key until Retry-After has passed, then retry."""

    def __init__(self, holds: RateLimitHolds, *, max_retry_count: int = RATE_LIMIT_RETRY_COUNT) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.holds = holds

    async def prepare_for_next_attempt_async(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        if response is None:
            await super().prepare_for_next_attempt_async(state=state, request=request, response=response, error=error)
            return
        key = _call_key(request) or CallKey(request.url)  # not a Web API method: hold that URL
        self.holds.hold(key, _retry_after(response))
        await self.holds.wait(key)
        state.next_attempt_requested = True
        state.increment_current_attempt()


class _WaitsOutHolds(AsyncRetryHandler):
    """After slack-sdk's own wait before a retry, also wait out any rate-limit hold on the call's key."""

    holds: RateLimitHolds

    async def prepare_for_next_attempt_async(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        await super().prepare_for_next_attempt_async(state=state, request=request, response=response, error=error)
        await _wait_out_hold(self.holds, request)


class ConnectionRetryHandler(_WaitsOutHolds, AsyncConnectionErrorRetryHandler):
    """slack-sdk's connection retries, except where sending again could post twice.

    A call in :data:`NOT_REPEATABLE` is only retried when the connection
    could not be made at all; after the request went out, the gateway decides.
    """

    def __init__(self, holds: RateLimitHolds, *, backoff: float) -> None:
        super().__init__(
            max_retry_count=RETRY_COUNT,
            interval_calculator=backoff_interval(backoff),
            error_types=[ClientConnectionError, ClientPayloadError, TimeoutError],
        )
        self.holds = holds

    async def _can_retry_async(
        self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if web_api_method(request.url) in NOT_REPEATABLE and not isinstance(error, NEVER_SENT):
            return False
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


class ServerErrorRetryHandler(_WaitsOutHolds, AsyncServerErrorRetryHandler):
    """slack-sdk's retries of 500 and 503, which also wait out any rate-limit hold."""

    def __init__(self, holds: RateLimitHolds, *, backoff: float) -> None:
        super().__init__(max_retry_count=RETRY_COUNT, interval_calculator=backoff_interval(backoff))
        self.holds = holds


async def _wait_out_hold(holds: RateLimitHolds, request: HttpRequest) -> None:
    key = _call_key(request)
    if key is not None:
        await holds.wait(key)


def retry_handlers(holds: RateLimitHolds, *, backoff: float) -> list[AsyncRetryHandler]:
    """The gateway's retry policy: dropped connections, 429 (shared holds), then 500/503.

    ``backoff`` is the first wait before retrying a connection or server
    error, doubled on each further try.
    """
    return [
        ConnectionRetryHandler(holds, backoff=backoff),
        RateLimitHoldHandler(holds),
        ServerErrorRetryHandler(holds, backoff=backoff),
    ]
