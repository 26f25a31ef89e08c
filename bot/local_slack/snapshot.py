"""A workspace as plain JSON data, and back: so a local Slack can outlive its process.

The playground keeps its bot's database between runs; the incidents in it name channels,
messages and views, so the workspace they live in must be kept too. Short-lived things
(trigger_ids, response_urls, Socket Mode tickets) are left out, as a restarted client
would have lost them anyway.
"""

from __future__ import annotations

import base64
from dataclasses import asdict
from typing import Any

from .state import (
    Channel,
    Ephemeral,
    Message,
    StoredFile,
    StoredView,
    User,
    Usergroup,
    Workspace,
)

FORMAT = 1
"""Bumped when the shape changes; a snapshot of another format is not loaded."""


def dump(ws: Workspace) -> dict[str, Any]:
    """Everything a person would find again after a restart, as JSON-ready data."""
    return {
        "format": FORMAT,
        "team_id": ws.team_id,
        "last_id": ws.last_id,
        "users": [asdict(user) for user in ws.users.values()],
        "channels": [{**asdict(channel), "members": sorted(channel.members)} for channel in ws.channels.values()],
        "usergroups": [asdict(group) for group in ws.usergroups.values()],
        "views": [asdict(view) for view in ws.views.values()],
        "modal_stacks": {user: list(stack) for user, stack in ws.modal_stacks.items()},
        "files": [_file_data(stored) for stored in ws.files.values()],
        "ephemerals": [asdict(ephemeral) for ephemeral in ws.ephemerals],
    }


def can_load(ws: Workspace, data: Any) -> bool:
    """True for a snapshot of this format and of this workspace (same team)."""
    return isinstance(data, dict) and data.get("format") == FORMAT and data.get("team_id") == ws.team_id


def load(ws: Workspace, data: dict[str, Any]) -> None:
    """Replace the workspace's people, channels, views, files and ephemerals with the snapshot's."""
    ws.last_id = int(data["last_id"])
    ws.users = {u["id"]: User(**u) for u in data["users"]}
    ws.channels = {c["id"]: _channel(c) for c in data["channels"]}
    ws.usergroups = {g["id"]: Usergroup(**g) for g in data["usergroups"]}
    ws.views = {v["id"]: StoredView(**v) for v in data["views"]}
    ws.modal_stacks = {user: list(stack) for user, stack in data["modal_stacks"].items()}
    ws.files = {f["id"]: _file(f) for f in data["files"]}
    ws.ephemerals = [Ephemeral(**e) for e in data["ephemerals"]]


def _channel(data: dict[str, Any]) -> Channel:
    messages = [Message(**m) for m in data["messages"]]
    return Channel(**{**data, "members": set(data["members"]), "messages": messages})


def _file_data(stored: StoredFile) -> dict[str, Any]:
    content = None if stored.content is None else base64.b64encode(stored.content).decode()
    return {**asdict(stored), "content": content}


def _file(data: dict[str, Any]) -> StoredFile:
    content = data["content"]
    return StoredFile(**{**data, "content": None if content is None else base64.b64decode(content)})
