"""pins.*, bookmarks.* and reactions.add: things attached to channels and messages."""

from __future__ import annotations

import re
from typing import Any

from ..params import Params, SlackError, invalid_arguments
from ..state import Workspace
from .common import Handler, channel_arg, message_arg, require_member

BOOKMARKS_MAX = 100
_EMOJI_NAME = re.compile(r"^[a-z0-9_+'-]+$")


def pins_add(ws: Workspace, p: Params) -> dict[str, Any]:
    """Pin a message once; a second pin answers `already_pinned`."""
    channel = channel_arg(ws, p)
    ts = p.text("timestamp")
    if not ts:
        raise SlackError("no_item_specified")
    message_arg(channel, ts)
    if ts in channel.pins:
        raise SlackError("already_pinned")
    channel.pins.append(ts)
    return {}


def pins_remove(ws: Workspace, p: Params) -> dict[str, Any]:
    """Unpin a message; `no_pin` when it was not pinned."""
    channel = channel_arg(ws, p)
    ts = p.text("timestamp")
    if not ts:
        raise SlackError("no_item_specified")
    if ts not in channel.pins:
        raise SlackError("no_pin")
    channel.pins.remove(ts)
    return {}


def bookmarks_add(ws: Workspace, p: Params) -> dict[str, Any]:
    """Add a link bookmark (at most 100 per channel)."""
    channel = channel_arg(ws, p, "channel_id")
    require_member(ws, channel)
    title, kind, link = p.text("title"), p.text("type"), p.text("link") or ""
    if not title:
        raise invalid_arguments("[ERROR] missing required field: title")
    if kind != "link":
        raise SlackError("invalid_bookmark_type")
    if not link.startswith(("http://", "https://")):
        raise SlackError("invalid_link")
    if len(channel.bookmarks) >= BOOKMARKS_MAX:
        raise SlackError("too_many_bookmarks")
    bookmark = {
        "id": ws.new_id("Bk"),
        "channel_id": channel.id,
        "title": title,
        "link": link,
        "emoji": p.text("emoji"),
        "icon_url": None,
        "type": "link",
        "entity_id": None,
        "date_created": ws.unix_now(),
        "date_updated": 0,
        "rank": "U",
        "last_updated_by_user_id": ws.bot_user_id,
        "last_updated_by_team_id": ws.team_id,
        "shortcut_id": None,
        "app_id": ws.app_id,
    }
    channel.bookmarks.append(bookmark)
    return {"bookmark": bookmark}


def bookmarks_list(ws: Workspace, p: Params) -> dict[str, Any]:
    """A channel's bookmarks, oldest first."""
    channel = channel_arg(ws, p, "channel_id")
    require_member(ws, channel)
    return {"bookmarks": list(channel.bookmarks)}


def reactions_add(ws: Workspace, p: Params) -> dict[str, Any]:
    """React as the bot; the same reaction twice answers `already_reacted`."""
    channel = channel_arg(ws, p)
    message = message_arg(channel, p.text("timestamp"))
    name = (p.text("name") or "").strip(":")
    if not _EMOJI_NAME.match(name):
        raise SlackError("invalid_name")
    users = message.reactions.setdefault(name, [])
    if ws.bot_user_id in users:
        raise SlackError("already_reacted")
    users.append(ws.bot_user_id)
    return {}


HANDLERS: dict[str, Handler] = {
    "pins.add": pins_add,
    "pins.remove": pins_remove,
    "bookmarks.add": bookmarks_add,
    "bookmarks.list": bookmarks_list,
    "reactions.add": reactions_add,
}
