"""The page's web server: the page, its JSON state, what the person does, files and the status page.

Served on 127.0.0.1 only. Requests must name this server as their Host (so another site
cannot reach it through DNS rebinding) and actions must be JSON from this page's own
origin (so another site cannot post them from the person's browser).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web
from markupsafe import Markup

from bot.local_slack import FakeSlack
from bot.playground import screen, wording
from bot.playground.acting import Actor
from bot.playground.rendering import STATIC, Pages, static_file

log = logging.getLogger(__name__)

POLL_SECONDS = 25.0
"""How long a state request waits for a change before answering with the same state."""
STATUS_PATHS = ("/status", "/status.json", "/status/feed.atom")
PASSED_HEADERS = ("Content-Type", "Cache-Control", "Content-Security-Policy", "X-Content-Type-Options",
                  "Referrer-Policy", "X-Frame-Options")
SECURITY = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_app(*, slack: FakeSlack, actor: Actor, bot_url: str, port: int) -> web.Application:
    """The page's aiohttp application; `bot_url` is where the bot's own HTTP server (and /status) is."""
    pages = Pages()
    hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
    app = web.Application(middlewares=[_guard(hosts)])
    site = _Site(slack, actor, pages, bot_url)
    app.router.add_get("/", site.page)
    app.router.add_get("/static/{name}", site.static)
    app.router.add_get("/api/state", site.state)
    app.router.add_get("/files/{file_id}", site.file)
    for path in STATUS_PATHS:
        app.router.add_get(path, site.status)
    for name, handler in site.actions().items():
        app.router.add_post(f"/api/{name}", handler)
    app.on_cleanup.append(site.close)
    return app


def _guard(hosts: set[str]) -> Any:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.host not in hosts:
            return web.Response(status=421, text=wording.notice("wrong_host"))
        if request.method == "POST":
            origin = request.headers.get("Origin")
            if request.content_type != "application/json" or (origin and origin.split("://", 1)[-1] not in hosts):
                return web.Response(status=403, text=wording.notice("foreign_origin"))
        response = await handler(request)
        if request.path not in STATUS_PATHS:  # the bot's status page sends its own
            response.headers.update(SECURITY)
        return response

    return guard


class _Site:
    """The handlers, sharing the workspace, the person being played and the renderer."""

    def __init__(self, slack: FakeSlack, actor: Actor, pages: Pages, bot_url: str) -> None:
        self.slack = slack
        self.actor = actor
        self.pages = pages
        self.bot_url = bot_url
        self._session: aiohttp.ClientSession | None = None

    async def close(self, _: web.Application) -> None:
        if self._session is not None:
            await self._session.close()

    def _who(self, wanted: str | None) -> str:
        team = screen.people(self.slack.workspace)
        return next((u.id for u in team if u.id == wanted), team[0].id)

    def _screen(self, user_id: str, wanted: str | None) -> dict[str, Any]:
        place = screen.place_of(self.slack.workspace, user_id, wanted)
        now = datetime.now(UTC)
        return self.pages.screen(self.slack.workspace, self.actor, user_id, place, now)

    async def page(self, request: web.Request) -> web.Response:
        user_id = self._who(request.query.get("as"))
        parts = self._screen(user_id, request.query.get("at"))
        safe = {**parts, "nav": Markup(parts["nav"]), "header": Markup(parts["header"]),
                "items": [{**item, "html": Markup(item["html"])} for item in parts["items"]],
                "modal": None if parts["modal"] is None else {"html": Markup(parts["modal"]["html"])}}
        html = self.pages.render("page.html.j2", parts=safe, people=screen.people(self.slack.workspace),
                                 revision=self.slack.changes.revision, version=self.pages.version)
        return web.Response(text=html, content_type="text/html")

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(body=static_file(name), content_type=STATIC[name], charset="utf-8",
                            headers={"Cache-Control": "no-cache"})

    async def state(self, request: web.Request) -> web.Response:
        """The person's view of a place, as soon as something changed since revision `seen`."""
        try:
            seen = int(request.query.get("seen", "-1"))
        except ValueError:
            seen = -1
        revision = await self.slack.changes.after(seen, POLL_SECONDS)
        user_id = self._who(request.query.get("as"))
        parts = self._screen(user_id, request.query.get("at"))
        return web.json_response({**parts, "revision": revision}, headers={"Cache-Control": "no-store"})

    async def file(self, request: web.Request) -> web.Response:
        stored = self.slack.workspace.files.get(request.match_info["file_id"])
        if stored is None or stored.content is None:
            raise web.HTTPNotFound()
        return web.Response(body=stored.content, content_type="text/plain", charset="utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{_safe_name(stored.filename)}"'})

    async def status(self, request: web.Request) -> web.Response:
        """The bot's own status page, passed through so the page's link works on the same address."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        async with self._session.get(self.bot_url + request.path_qs) as answer:
            headers = {name: answer.headers[name] for name in PASSED_HEADERS if name in answer.headers}
            return web.Response(status=answer.status, body=await answer.read(), headers=headers)

    def actions(self) -> dict[str, Handler]:
        return {name: self._acting(handler) for name, handler in {
            "message": self._message, "action": self._action, "submit": self._submit, "close": self._close,
            "shortcut": self._shortcut, "reaction": self._reaction, "home": self._home, "dismiss": self._dismiss,
        }.items()}

    def _acting(self, handler: Callable[[str, dict[str, Any]], Awaitable[None]]) -> Handler:
        """Read who acts and the body; a place they may not see, or a message that is gone, is a 404."""

        async def act(request: web.Request) -> web.Response:
            try:
                body = await request.json()
            except json.JSONDecodeError:
                body = None
            if not isinstance(body, dict):
                return web.Response(status=400, text=wording.notice("not_json"))
            try:
                await handler(self._who(body.get("as")), body)
            except (LookupError, KeyError, TypeError, ValueError) as problem:
                log.info("refused a page action: %s", problem)
                return web.Response(status=404, text=wording.notice("not_there"))
            return web.json_response({"ok": True})

        return act

    async def _message(self, user_id: str, body: dict[str, Any]) -> None:
        await self.actor.say(user_id, str(body["at"]), str(body.get("text", "")))

    async def _action(self, user_id: str, body: dict[str, Any]) -> None:
        action = {key: body["action"][key] for key in ("action_id", "block_id", "value", "text") if key in body["action"]}
        if body.get("view_id"):
            await self.actor.press(user_id, action, view_id=str(body["view_id"]), entries=_entries(body))
        else:
            await self.actor.press(user_id, action, channel_id=str(body["at"]), message_ts=body.get("ts"))

    async def _submit(self, user_id: str, body: dict[str, Any]) -> None:
        await self.actor.submit(user_id, str(body["view_id"]), _entries(body))

    async def _close(self, user_id: str, body: dict[str, Any]) -> None:
        await self.actor.cancel(user_id, str(body["view_id"]))

    async def _shortcut(self, user_id: str, body: dict[str, Any]) -> None:
        await self.actor.shortcut(user_id, str(body["at"]), str(body["ts"]), str(body["callback_id"]))

    async def _reaction(self, user_id: str, body: dict[str, Any]) -> None:
        await self.actor.react(user_id, str(body["at"]), str(body["ts"]), str(body["name"]))

    async def _home(self, user_id: str, body: dict[str, Any]) -> None:
        await self.actor.open_home(user_id)

    async def _dismiss(self, user_id: str, body: dict[str, Any]) -> None:
        self.actor.dismiss(user_id, str(body["key"]))


def _entries(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The [block_id, action_id, value] entries of a form, as strings."""
    return [(str(b), str(a), str(v)) for b, a, v in body.get("entries") or []]


def _safe_name(name: str) -> str:
    return "".join(c for c in name if c.isalnum() or c in "-_.") or "file.txt"
