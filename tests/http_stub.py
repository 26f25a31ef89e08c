"""What the local stand-ins of outside services share: a server on 127.0.0.1, a record of
every call, Basic-auth checks, and planned failures (401, 404, 429 with Retry-After, 5xx)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from dataclasses import dataclass, field
from typing import Any, Self

import aiohttp
from aiohttp import web


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    headers: dict[str, str]


@dataclass
class Planned:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class LocalServer:
    """A stand-in's aiohttp server on a free port of 127.0.0.1; subclasses add their routes in :meth:`routes`."""

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        assert self._port is not None, "start() first"
        return f"http://127.0.0.1:{self._port}"


class LocalService(LocalServer):
    """A stand-in that records every call and plays planned failures; it answers through :meth:`answer`."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self._planned: list[Planned] = []

    def fail_next(self, times: int = 1, *, status: int = 503, body: Any = "planned failure",
                  retry_after: int | None = None) -> None:
        """The next ``times`` requests answer ``status`` with ``body`` (JSON unless a string)."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self._planned.extend(Planned(status, body, headers) for _ in range(times))

    def planned(self) -> Planned | None:
        return self._planned.pop(0) if self._planned else None

    def writes(self, method: str | None = None) -> list[Call]:
        """Accepted calls that change something, oldest first."""
        return [c for c in self.calls if c.method in ({method} if method else {"POST", "PUT"}) and c.status < 300]

    async def body_of(self, request: web.Request) -> Any:
        text = await request.text()
        try:
            return json.loads(text) if text else None
        except ValueError:
            return text

    def answer(self, request: web.Request, body: Any, status: int, data: Any = None,
               headers: dict[str, str] | None = None) -> web.Response:
        self.calls.append(Call(request.method, request.path, dict(request.query), body, status, dict(request.headers)))
        if data is None:
            return web.Response(status=status, headers=headers)
        if isinstance(data, str):
            return web.Response(status=status, text=data, headers=headers)
        return web.json_response(data, status=status, headers=headers)

    def answer_planned(self, request: web.Request, body: Any) -> web.Response | None:
        planned = self.planned()
        if planned is None:
            return None
        return self.answer(request, body, planned.status, planned.body, planned.headers)


def basic_auth(email: str, token: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()


def hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def post_webhook(url: str, body: bytes, headers: dict[str, str]) -> int:
    """Deliver a webhook as the service would: the raw body, its headers; returns the HTTP status."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers={"Content-Type": "application/json", **headers}) as response,
    ):
        await response.read()
        return response.status
