"""FakeConfluence: a local stand-in of Confluence Cloud's content REST API, for tests.

``/wiki/rest/api/content`` as Confluence serves it: Basic auth (e-mail and API
token), pages created in a space by key, under ``ancestors``, with a body in
the storage format (which must be well-formed XHTML), titles unique within a
space, lookups by space and title, and updates that must carry the next
version number (409 otherwise). Answers carry ``_links.base`` and
``_links.webui``, from which a page's address is made.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from aiohttp import web

from tests.http_stub import LocalService, basic_auth

EMAIL, TOKEN = "bot@example.com", "confluence-test-token"


@dataclass
class ConfluencePage:
    id: str
    space: str
    title: str
    body: str
    version: int = 1
    ancestors: list[str] = field(default_factory=list)


class FakeConfluence(LocalService):
    """One Confluence site with some spaces and pages."""

    def __init__(self, *, spaces: tuple[str, ...] = ("OPS",), parents: tuple[str, ...] = ("98304",)) -> None:
        super().__init__()
        self.spaces = set(spaces)
        self.pages: dict[str, ConfluencePage] = {parent: ConfluencePage(parent, spaces[0], "Post-mortems", "<p/>")
                                                 for parent in parents}
        self._ids = itertools.count(131073)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/wiki/rest/api/content", self._create)
        app.router.add_get("/wiki/rest/api/content", self._find)
        app.router.add_get("/wiki/rest/api/content/{page_id}", self._get)
        app.router.add_put("/wiki/rest/api/content/{page_id}", self._update)

    def page_titled(self, title: str) -> ConfluencePage | None:
        return next((p for p in self.pages.values() if p.title == title), None)

    # -- handlers --------------------------------------------------------------
    async def _create(self, request: web.Request) -> web.Response:
        body = await self.body_of(request)
        refusal = self._refusal(request, body)
        if refusal is not None:
            return refusal
        problem = self._content_problem(body)
        if problem is not None:
            return self._error(request, body, *problem)
        space = body["space"]["key"]
        if self._taken(space, body["title"]):
            return self._error(request, body, 400, "A page with this title already exists: A page already exists "
                                                   "with the same TITLE in this space")
        ancestors = [str(a["id"]) for a in body.get("ancestors") or []]
        if any(a not in self.pages for a in ancestors):
            return self._error(request, body, 404, f"No content found with id: ContentId{{id={ancestors[-1]}}}")
        page = ConfluencePage(str(next(self._ids)), space, body["title"], body["body"]["storage"]["value"],
                              ancestors=ancestors)
        self.pages[page.id] = page
        return self.answer(request, body, 200, self._json(page))

    async def _find(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request, None)
        if refusal is not None:
            return refusal
        space, title = request.query.get("spaceKey"), request.query.get("title")
        found = [self._json(p) for p in self.pages.values() if p.space == space and p.title == title]
        return self.answer(request, None, 200, {"results": found, "start": 0, "limit": 25, "size": len(found),
                                                "_links": {"base": f"{self.url}/wiki", "context": "/wiki"}})

    async def _get(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request, None)
        if refusal is not None:
            return refusal
        page = self.pages.get(request.match_info["page_id"])
        if page is None:
            return self._error(request, None, 404, f"No content found with id: ContentId{{id={request.match_info['page_id']}}}")
        return self.answer(request, None, 200, self._json(page))

    async def _update(self, request: web.Request) -> web.Response:
        body = await self.body_of(request)
        refusal = self._refusal(request, body)
        if refusal is not None:
            return refusal
        page = self.pages.get(request.match_info["page_id"])
        if page is None:
            return self._error(request, body, 404, "No content found with id")
        problem = self._content_problem(body)
        if problem is not None:
            return self._error(request, body, *problem)
        number = ((body or {}).get("version") or {}).get("number")
        if number != page.version + 1:
            return self._error(request, body, 409, f"Version must be incremented on update. Current version is: "
                                                   f"{page.version}")
        if body["title"] != page.title and self._taken(page.space, body["title"]):
            return self._error(request, body, 400, "A page with this title already exists")
        page.title, page.body, page.version = body["title"], body["body"]["storage"]["value"], number
        return self.answer(request, body, 200, self._json(page))

    # -- checks ------------------------------------------------------------------
    def _refusal(self, request: web.Request, body: Any) -> web.Response | None:
        planned = self.answer_planned(request, body)
        if planned is not None:
            return planned
        if request.headers.get("Authorization") != basic_auth(EMAIL, TOKEN):
            return self._error(request, body, 401, "Basic authentication with passwords is deprecated or the "
                                                   "credentials are wrong")
        return None

    def _content_problem(self, body: Any) -> tuple[int, str] | None:
        if not isinstance(body, dict) or body.get("type") != "page" or not body.get("title"):
            return 400, "A page needs a type and a title"
        space = (body.get("space") or {}).get("key")
        if space not in self.spaces:
            return 404, f"No space with key : {space}"
        storage = ((body.get("body") or {}).get("storage") or {})
        if storage.get("representation") != "storage":
            return 400, "Unsupported content representation"
        try:
            ElementTree.fromstring(f"<root>{storage.get('value', '')}</root>")
        except ElementTree.ParseError as exc:
            return 400, f"Error parsing xhtml: {exc}"
        return None

    def _taken(self, space: str, title: str) -> bool:
        return any(p.space == space and p.title == title for p in self.pages.values())

    def _error(self, request: web.Request, body: Any, status: int, message: str) -> web.Response:
        return self.answer(request, body, status, {"statusCode": status, "message": message, "data": {}})

    def _json(self, page: ConfluencePage) -> dict[str, Any]:
        slug = re.sub(r"[^A-Za-z0-9]+", "+", page.title).strip("+")
        return {"id": page.id, "type": "page", "status": "current", "title": page.title,
                "space": {"key": page.space}, "version": {"number": page.version},
                "ancestors": [{"id": a} for a in page.ancestors],
                "_links": {"webui": f"/spaces/{page.space}/pages/{page.id}/{slug}", "base": f"{self.url}/wiki",
                           "self": f"{self.url}/wiki/rest/api/content/{page.id}"}}
