"""FakeSlack: a local HTTP stand-in for Slack's Web API, for integration tests.

It is a real aiohttp server on 127.0.0.1, so the bot's real slack-sdk client talks to it
over HTTP exactly as it would to slack.com (point `base_url`/`SLACK_API_URL` at
`api_url`). It keeps a small workspace in memory, records every call, and can be told
to fail, throttle, slow down or drop connections. It runs on the event loop that
started it: keep that loop free (await, don't block) while the bot talks to it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .changes import Changes
from .workspace_view import WorkspaceView
from .http_bodies import add_file_routes, read_arguments, read_response_body
from .faults import Drop, Faults
from .methods import HANDLERS
from .methods.apps import token_refusal
from .params import Params, SlackError
from .response_url import use_response_url
from .socket_mode import FakeSocketMode
from .state import TRIGGER_TTL_SECONDS, Workspace

APP_TOKEN = "xapp-1-A0TEST-1-local"
"""The app-level token apps.connections.open takes unless another is given."""
DROPPED = "stub_connection_dropped"
"""`error` recorded for calls whose connection the stub closed without answering or performing them."""
DROPPED_AFTER_EFFECT = "stub_connection_dropped_after_effect"
"""`error` recorded for calls the stub performed, then closed the connection without answering."""

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
POLL_SECONDS = 0.01


@dataclass
class Call:
    """One Web API call as the stub received and answered it."""

    method: str
    params: dict[str, Any]
    at: float
    response: dict[str, Any]
    status: int = 200

    @property
    def ok(self) -> bool:
        """True when Slack answered `ok: true`."""
        return bool(self.response.get("ok"))


class FakeSlack(WorkspaceView):
    """The Slack Web API of one workspace, served locally. See the module docstring."""

    def __init__(
        self,
        *,
        token: str = "xoxb-test",
        app_token: str = APP_TOKEN,
        team_id: str = "T0TEST",
        bot_user_id: str = "U0BOT",
        trigger_ttl: float = TRIGGER_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.app_token = app_token
        self.workspace = Workspace(team_id=team_id, bot_user_id=bot_user_id, clock=clock, trigger_ttl=trigger_ttl)
        self.calls: list[Call] = []
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.refused_responses: list[tuple[str, Any, dict[str, Any]]] = []
        self._clock = clock
        self._faults = Faults(clock)
        self.changes = Changes()
        """Every call and response_url post notes a change here; the playground's page waits on it."""
        self.socket_mode = FakeSocketMode(self.workspace)
        """Socket Mode: the WebSocket URLs apps.connections.open hands out lead here."""
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # life cycle -------------------------------------------------------------

    async def start(self) -> None:
        """Listen on an ephemeral port of 127.0.0.1."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{url_id}", self._handle_response_url)
        add_file_routes(app, self.workspace)
        self.socket_mode.add_routes(app)
        # Held (slow) answers must not keep a test waiting at shutdown.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.workspace.base_url = self.base_url

    async def stop(self) -> None:
        """Close the server and its connections."""
        if self._runner is not None:
            await self.socket_mode.close()
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:<port>` (only once started)."""
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """Web API base URL with the trailing slash slack-sdk expects."""
        return f"{self.base_url}/api/"

    # recorded calls ---------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Recorded calls of one method, oldest first (failed ones included)."""
        return [call for call in self.calls if call.method == method]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until `count` matching calls (ok or not) were recorded; all matches so far."""

        def matching() -> list[Call]:
            return [c for c in self.calls_to(method) if where is None or where(c)]

        if await _poll(lambda: len(matching()) >= count, timeout):
            return matching()
        raise AssertionError(
            f"expected at least {count} {method} call(s) within {timeout}s, got {len(matching())}.\n"
            f"Recorded calls:\n{self.describe_calls()}"
        )

    def describe_calls(self) -> str:
        """One line per recorded call, for assertion messages."""
        if not self.calls:
            return "  (none)"
        lines = []
        for call in self.calls:
            outcome = "ok" if call.ok else f"{call.status} {call.response.get('error')}"
            detail: dict[str, Any] = {
                k: call.params[k]
                for k in ("channel", "channel_id", "user", "users", "name", "text")
                if k in call.params
            }
            lines.append(f"  {call.method} -> {outcome} {_short(detail)}")
        return "\n".join(lines)

    # triggers and response URLs ---------------------------------------------

    def new_trigger_id(self, *, user_id: str | None = None, ttl: float | None = None) -> str:
        """A trigger_id usable once within `ttl` (default 3 s) by views.open / views.push."""
        return self.workspace.new_trigger(user_id=user_id, ttl=ttl).id

    def new_response_url(
        self, *, channel_id: str | None = None, message_ts: str | None = None, user_id: str | None = None
    ) -> str:
        """A response_url on this server (5 uses in 30 min); channel/message let it edit history.

        Given the person who acted, ephemeral answers are kept as theirs (see `ephemerals_for`).
        """
        entry = self.workspace.new_response_url(channel_id=channel_id, message_ts=message_ts, user_id=user_id)
        return f"{self.base_url}/response/{entry.id}"

    def responses_to(self, url: str) -> list[dict[str, Any]]:
        """Bodies accepted at a response_url (given as URL or id), oldest first."""
        return list(self.responses.get(_url_id(url), []))

    async def wait_for_response(self, url: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Wait until `count` bodies were accepted at the response_url."""
        if await _poll(lambda: len(self.responses_to(url)) >= count, timeout):
            return self.responses_to(url)
        refused = [r for r in self.refused_responses if r[0] == _url_id(url)]
        raise AssertionError(
            f"expected {count} response(s) at {url} within {timeout}s, got {len(self.responses_to(url))}; "
            f"refused: {refused}"
        )

    # fault injection --------------------------------------------------------

    def fail_next(
        self, method: str, error: str, *, times: int = 1, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        """The next `times` calls answer `{"ok": false, "error": error}` with this status."""
        self._faults.fail_next(method, error, times=times, status=status, headers=headers)

    def rate_limit(self, method: str, *, per_minute: int) -> None:
        """Sliding 60 s window; calls over it get 429 with Retry-After until a slot frees."""
        self._faults.rate_limit(method, per_minute=per_minute)

    def ratelimit_next(self, method: str, *, retry_after: int = 1, times: int = 1) -> None:
        """The next `times` calls get 429 `ratelimited` with this Retry-After."""
        self._faults.ratelimit_next(method, retry_after=retry_after, times=times)

    def set_latency(self, seconds: float, method: str | None = None, *, after_calls: int = 0) -> None:
        """Delay answers (work happens on arrival, as when Slack is slow to reply).

        `after_calls` lets that many calls through at full speed first, so a test
        can hold exactly the n-th call of a method (e.g. the second chat.postMessage).
        """
        self._faults.set_latency(seconds, method, after_calls=after_calls)

    def drop_connection_next(self, method: str, times: int = 1, *, after_effect: bool = False) -> None:
        """Close the next `times` connections of this method unanswered.

        By default the calls are not performed (the connection broke on the
        way in). With `after_effect` they are performed and only the answer
        is lost, as when a connection breaks after Slack acted: the call is
        recorded with error `DROPPED_AFTER_EFFECT` and the would-be answer in
        `effect`.
        """
        self._faults.drop_connection_next(method, times, after_effect=after_effect)

    # HTTP handlers ----------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        """Authenticate, apply planned faults, run the method, record, answer."""
        method = request.match_info["method"]
        arrived = self._clock()
        try:
            params, token = await read_arguments(request)
        except ValueError:
            return self._answer(method, {}, arrived, 200, {"ok": False, "error": "invalid_json"})
        drop = self._faults.take_drop(method)
        if drop is Drop.BEFORE_EFFECT:
            return self._hang_up(request, method, params, arrived, {"ok": False, "error": DROPPED})
        status, body, headers = self._respond(method, params, token)
        if drop is Drop.AFTER_EFFECT:
            return self._hang_up(request, method, params, arrived,
                                 {"ok": False, "error": DROPPED_AFTER_EFFECT, "effect": body})
        response = self._answer(method, params, arrived, status, body, headers)
        delay = self._faults.latency(method)
        if delay > 0:
            await asyncio.sleep(delay)
        return response

    def _respond(
        self, method: str, params: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Status, body and headers Slack would give this call."""
        refusal = token_refusal(method, token, bot_token=self.token, app_token=self.app_token)
        if refusal is not None:
            return 200, {"ok": False, "error": refusal}, {}
        fault = self._faults.take_fault(method)
        if fault is not None:
            return fault.status, fault.body, fault.headers
        handler = HANDLERS.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        try:
            return 200, {"ok": True, **handler(self.workspace, Params(params))}, {}
        except SlackError as error:
            return 200, error.body(), {}

    def _answer(
        self,
        method: str,
        params: dict[str, Any],
        arrived: float,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> web.Response:
        """Record the call and build its JSON response."""
        self._record(method, params, arrived, status, body)
        return web.json_response(body, status=status, headers=headers)

    def _hang_up(
        self, request: web.Request, method: str, params: dict[str, Any], arrived: float, outcome: dict[str, Any]
    ) -> web.Response:
        """Record the call with status 0 and close its connection, as a network failure would."""
        self._record(method, params, arrived, 0, outcome)
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    def _record(self, method: str, params: dict[str, Any], arrived: float, status: int, body: dict[str, Any]) -> None:
        self.calls.append(Call(method, params, arrived, body, status))
        self.changes.note()

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        """Accept or refuse a POST to a response_url; unknown ids are registered on first use."""
        url_id = request.match_info["url_id"]
        entry = self.workspace.response_urls.get(url_id)
        if entry is None:
            entry = self.workspace.new_response_url(url_id=url_id)
        body = await read_response_body(request)
        status, answer = use_response_url(self.workspace, entry, body)
        if status == 200:
            self.responses.setdefault(url_id, []).append(body)
            self.changes.note()
        else:
            self.refused_responses.append((url_id, body, answer))
        return web.json_response(answer, status=status)


async def _poll(condition: Callable[[], bool], timeout: float) -> bool:
    """True as soon as `condition()` holds, False after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(POLL_SECONDS)
    return True


def _url_id(url: str) -> str:
    """The id at the end of a response_url (or the id itself)."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def _short(detail: dict[str, Any]) -> str:
    """Compact one-line rendering of a few call arguments."""
    text = json.dumps(detail, default=str)
    return text if len(text) <= 160 else text[:157] + "..."
