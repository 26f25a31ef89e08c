"""Confluence Cloud's content REST API, as far as publishing post-mortem pages needs it.

Plain REST calls on the bot's shared aiohttp session with Basic auth (an
Atlassian account's e-mail and API token). A page is created in the
configured space (under the parent page, if one is set) and replaced later
by a PUT carrying the next version number, as Confluence requires.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from bot.errors import ServiceCallFailed
from bot.integrations.confluence.config import ConfluenceConfig, ConfluenceSecrets
from bot.integrations.http import OutsideHttp, request_json

SERVICE = "Confluence"


@dataclass(frozen=True, slots=True)
class Page:
    """A page as Confluence has it now."""

    id: str
    url: str
    version: int


class ConfluenceClient:
    """Pages in one space."""

    def __init__(self, config: ConfluenceConfig, secrets: ConfluenceSecrets, http: OutsideHttp) -> None:
        assert secrets.confluence_email and secrets.confluence_api_token
        self._config = config
        self._api = f"{config.url}/wiki/rest/api"
        self._http = http
        pair = f"{secrets.confluence_email}:{secrets.confluence_api_token.get_secret_value()}".encode()
        self._headers = {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}

    async def find(self, title: str) -> Page | None:
        """The space's page with this title (titles are unique within a space), if any."""
        found = await self._call("looking for the post-mortem page", "GET", "/content", params={
            "spaceKey": self._config.space, "title": title, "type": "page", "expand": "version"})
        results = (found or {}).get("results") or []
        return self._page(results[0], found) if results else None

    async def get(self, page_id: str) -> Page | None:
        """The page with this id, or None when it is gone (deleted, or never in this site)."""
        try:
            data = await self._call("reading the post-mortem page", "GET", f"/content/{page_id}",
                                    params={"expand": "version"})
        except ServiceCallFailed as exc:
            if "(HTTP 404)" in exc.error:
                return None
            raise
        return self._page(data, data)

    async def create(self, title: str, body: str) -> Page:
        content: dict[str, Any] = {"type": "page", "title": title, "space": {"key": self._config.space},
                                   "body": {"storage": {"value": body, "representation": "storage"}}}
        if self._config.parent_page_id:
            content["ancestors"] = [{"id": self._config.parent_page_id}]
        data = await self._call("creating the post-mortem page", "POST", "/content", content)
        return self._page(data, data)

    async def replace(self, page: Page, title: str, body: str) -> Page:
        """Replace the page's title and body as its next version.

        A version conflict means someone (or another replica) saved the page
        meanwhile: worth trying again, with the version read afresh.
        """
        content = {"id": page.id, "type": "page", "title": title, "space": {"key": self._config.space},
                   "body": {"storage": {"value": body, "representation": "storage"}},
                   "version": {"number": page.version + 1}}
        try:
            data = await self._call("updating the post-mortem page", "PUT", f"/content/{page.id}", content)
        except ServiceCallFailed as exc:
            if "(HTTP 409)" in exc.error:
                raise ServiceCallFailed(SERVICE, exc.operation, exc.error, transient=True) from exc
            raise
        return self._page(data, data)

    def _page(self, content: dict[str, Any], answer: dict[str, Any]) -> Page:
        """A page from Confluence's JSON; its link is ``_links.base`` (the answer's) + ``_links.webui``."""
        links = content.get("_links") or {}
        base = links.get("base") or (answer.get("_links") or {}).get("base") or f"{self._config.url}/wiki"
        webui = links.get("webui") or f"/pages/viewpage.action?pageId={content['id']}"
        return Page(id=str(content["id"]), url=f"{base}{webui}",
                    version=int((content.get("version") or {}).get("number") or 1))

    async def _call(self, operation: str, method: str, path: str, body: Any = None,
                    params: dict[str, str] | None = None) -> Any:
        return await request_json(self._http, service=SERVICE, operation=operation, method=method,
                                  url=self._api + path, headers=self._headers, body=body, params=params)
