"""JSON shapes of workspace objects as Slack's Web API returns them.

Separate from the state so the stored data stays minimal while answers carry the
fields client code (slack-sdk, Bolt, our gateway) reads.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from .state import Channel, Message, StoredFile, User, Workspace


def channel_json(ws: Workspace, channel: Channel, *, num_members: bool = False) -> dict[str, Any]:
    """A conversation object (conversations.info / create / list)."""
    data: dict[str, Any] = {
        "id": channel.id,
        "created": channel.created,
        "creator": channel.creator,
        "is_archived": channel.is_archived,
        "is_org_shared": False,
        "context_team_id": ws.team_id,
        "updated": channel.created * 1000,
    }
    if channel.is_im:
        data.update({"is_im": True, "user": channel.name, "is_user_deleted": False, "priority": 0})
        return data
    data.update(
        {
            "name": channel.name,
            "name_normalized": channel.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": channel.is_private,
            "is_general": False,
            "unlinked": 0,
            "is_shared": False,
            "is_ext_shared": False,
            "is_pending_ext_shared": False,
            "pending_shared": [],
            "is_member": ws.bot_user_id in channel.members,
            "topic": {"value": channel.topic, "creator": channel.creator if channel.topic else "", "last_set": 0},
            "purpose": {"value": channel.purpose, "creator": channel.creator if channel.purpose else "", "last_set": 0},
            "previous_names": list(channel.previous_names),
        }
    )
    if num_members:
        data["num_members"] = len(channel.members)
    return data


def message_json(ws: Workspace, message: Message) -> dict[str, Any]:
    """A message object (chat.postMessage / chat.update answers)."""
    data: dict[str, Any] = {
        "type": "message",
        "user": message.user,
        "text": message.text,
        "ts": message.ts,
        "team": ws.team_id,
    }
    if message.bot_id:
        data.update({"bot_id": message.bot_id, "app_id": ws.app_id})
    if message.blocks is not None:
        data["blocks"] = message.blocks
    if message.attachments is not None:
        data["attachments"] = message.attachments
    if message.thread_ts:
        data["thread_ts"] = message.thread_ts
    if message.files:
        data.update({"files": message.files, "upload": True})
    if message.metadata is not None:
        data["metadata"] = message.metadata
    if message.edited:
        data["edited"] = {"user": message.user, "ts": message.ts}
    if message.reactions:
        data["reactions"] = [{"name": n, "users": u, "count": len(u)} for n, u in message.reactions.items()]
    return data


def user_json(ws: Workspace, user: User) -> dict[str, Any]:
    """A user object (users.info / users.lookupByEmail)."""
    offset = _utc_offset_seconds(user.tz)
    real_name = user.real_name or user.name
    return {
        "id": user.id,
        "team_id": ws.team_id,
        "name": user.name,
        "deleted": user.deleted,
        "real_name": real_name,
        "tz": user.tz,
        "tz_label": user.tz,
        "tz_offset": offset,
        "is_admin": False,
        "is_owner": False,
        "is_bot": user.is_bot,
        "is_app_user": False,
        "updated": 0,
        "profile": {
            "real_name": real_name,
            "display_name": user.name,
            "real_name_normalized": real_name,
            "display_name_normalized": user.name,
            "email": user.email,
            "team": ws.team_id,
        },
    }


def file_json(ws: Workspace, stored: StoredFile) -> dict[str, Any]:
    """A file object (files.completeUploadExternal)."""
    private = [c for c in stored.channels if ws.channels[c].is_private]
    public = [c for c in stored.channels if not ws.channels[c].is_private]
    return {
        "id": stored.id,
        "created": stored.created,
        "timestamp": stored.created,
        "name": stored.filename,
        "title": stored.title,
        "mimetype": "text/plain",
        "filetype": "text",
        "pretty_type": "Plain Text",
        "user": stored.user,
        "user_team": ws.team_id,
        "size": len(stored.content or b""),
        "mode": "hosted",
        "is_external": False,
        "is_public": bool(public),
        "url_private": f"{ws.base_url}/files/{stored.id}",
        "url_private_download": f"{ws.base_url}/files/{stored.id}/download",
        "permalink": f"https://{ws.team_domain}.slack.com/files/{stored.user}/{stored.id}/{stored.filename}",
        "channels": public,
        "groups": private,
        "ims": [],
    }


def permalink(ws: Workspace, channel_id: str, ts: str) -> str:
    """Slack's message link format: `/archives/<channel>/p<ts without the dot>`."""
    return f"https://{ws.team_domain}.slack.com/archives/{channel_id}/p{ts.replace('.', '')}"


def _utc_offset_seconds(tz: str) -> int:
    """Current UTC offset of an IANA zone (0 for unknown zones)."""
    try:
        zone = zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return 0
    offset = datetime.datetime.now(zone).utcoffset()
    return int(offset.total_seconds()) if offset else 0
