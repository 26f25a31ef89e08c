"""The two-step external upload (files_upload_v2) Slack uses since files.upload's retirement.

files.getUploadURLExternal hands out an upload URL on this server; the client POSTs the
bytes there (see the server's upload route); files.completeUploadExternal then shares
the file to a channel as a message carrying `initial_comment`.
"""

from __future__ import annotations

import re
from typing import Any

from ..params import Params, SlackError, invalid_arguments
from ..shapes import file_json
from ..state import Message, StoredFile, Workspace
from .common import Handler, require_member

_CHANNEL_ID = re.compile(r"^[CGDZ][A-Z0-9]{8,}$")


def get_upload_url(ws: Workspace, p: Params) -> dict[str, Any]:
    """Reserve a file id and an upload URL for `filename` of `length` bytes."""
    filename = p.text("filename")
    length = p.number("length", -1)
    if not filename:
        raise invalid_arguments("[ERROR] missing required field: filename")
    if length < 0:
        raise invalid_arguments("[ERROR] missing required field: length")
    file_id = ws.new_id("F")
    ws.files[file_id] = StoredFile(file_id, filename, length, ws.unix_now(), ws.bot_user_id)
    return {"upload_url": f"{ws.base_url}/upload/{file_id}", "file_id": file_id}


def complete_upload(ws: Workspace, p: Params) -> dict[str, Any]:
    """Finish uploads and, given `channel_id`, share them there in one message."""
    entries = p.raw("files")
    if not isinstance(entries, list) or not entries:
        raise invalid_arguments("[ERROR] missing required field: files")
    stored = []
    for entry in entries:
        found = ws.files.get(str(entry.get("id", ""))) if isinstance(entry, dict) else None
        if found is None or found.content is None:
            raise SlackError("file_not_found")
        stored.append((found, entry.get("title")))
    channel_id = p.text("channel_id") or next(iter(p.ids("channels")), None)
    channel = None
    if channel_id:
        if not _CHANNEL_ID.match(channel_id):
            raise invalid_arguments(f"input must match regex pattern: {_CHANNEL_ID.pattern} [json-pointer:/channel_id]")
        channel = ws.visible_channel(channel_id)
        if channel is None:
            raise SlackError("invalid_channel")
        require_member(ws, channel)
    for found, title in stored:
        found.title = title or found.filename
        found.completed = True
        if channel is not None:
            found.channels.append(channel.id)
    files = [file_json(ws, found) for found, _ in stored]
    if channel is not None:
        channel.messages.append(
            Message(
                ts=ws.next_ts(),
                user=ws.bot_user_id,
                text=p.text("initial_comment") or "",
                thread_ts=p.text("thread_ts"),
                files=files,
                bot_id=ws.bot_id,
            )
        )
    return {"files": files}


HANDLERS: dict[str, Handler] = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}
