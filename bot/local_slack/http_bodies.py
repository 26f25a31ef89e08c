"""The local Slack's HTTP edges: reading Web API arguments and response_url bodies as Slack
accepts them, and the file upload and download URLs that files.getUploadURLExternal hands out."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .params import decode_json_fields
from .state import Workspace


def add_file_routes(app: web.Application, workspace: Workspace) -> None:
    """Upload URLs (files.slack.com's role) and url_private downloads for this workspace's files."""

    async def upload(request: web.Request) -> web.Response:
        """Store bytes for a reserved file id, answering like files.slack.com does."""
        stored = workspace.files.get(request.match_info["file_id"])
        if stored is None:
            return web.Response(status=404, text="file_not_found", content_type="text/plain")
        if request.content_type == "multipart/form-data":
            form = await request.post()
            field = next((v for v in form.values() if isinstance(v, web.FileField)), None)
            data = field.file.read() if field is not None else b""
        else:
            data = await request.read()
        stored.content = data
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def download(request: web.Request) -> web.Response:
        """Serve an uploaded file's bytes (url_private / url_private_download)."""
        stored = workspace.files.get(request.match_info["file_id"])
        if stored is None or stored.content is None:
            return web.Response(status=404)
        return web.Response(body=stored.content, content_type="text/plain")

    app.router.add_post("/upload/{file_id}", upload)
    app.router.add_get("/files/{file_id}{tail:.*}", download)


async def read_arguments(request: web.Request) -> tuple[dict[str, Any], str | None]:
    """Merged query + body arguments (JSON text fields decoded) and the token sent."""
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.body_exists:
        if request.content_type == "application/json":
            body = json.loads(await request.text() or "{}")
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update({k: v.file.read() if isinstance(v, web.FileField) else v for k, v in form.items()})
    token = params.pop("token", None)
    authorization = request.headers.get("Authorization", "")
    if authorization.startswith("Bearer "):
        token = authorization.removeprefix("Bearer ").strip()
    return decode_json_fields(params), token


async def read_response_body(request: web.Request) -> Any:
    """A response_url body: JSON, or a form with a JSON `payload` field."""
    try:
        if request.content_type == "application/json":
            return json.loads(await request.text())
        form = await request.post()
        payload = form.get("payload")
        return json.loads(payload) if isinstance(payload, str) else dict(form)
    except ValueError:
        return None
