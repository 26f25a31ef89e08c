"""conversations.* methods: channel life cycle and membership."""

from __future__ import annotations

import base64
from typing import Any

from ..params import Params, SlackError
from ..shapes import channel_json, message_json
from ..state import Channel, Workspace
from .common import Handler, channel_arg, check_channel_name, require_member, require_unarchived

TOPIC_MAX = 250
LIST_LIMIT_DEFAULT = 100


def create(ws: Workspace, p: Params) -> dict[str, Any]:
    """New public or private channel; the bot creates it and so is its only member."""
    name = check_channel_name(ws, p.text("name"))
    channel = ws.add_channel(name, is_private=p.flag("is_private"), members=[ws.bot_user_id], creator=ws.bot_user_id)
    return {"channel": channel_json(ws, channel)}


def invite(ws: Workspace, p: Params) -> dict[str, Any]:
    """Invite users; one bad user fails the whole call unless `force` is set (as Slack)."""
    channel = channel_arg(ws, p)
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    require_unarchived(channel)
    require_member(ws, channel)
    users = p.ids("users")
    if not users:
        raise SlackError("no_user")
    problems = {u: e for u in users if (e := _invite_problem(ws, channel, u))}
    failures = [{"user": u, "ok": False, "error": e} for u, e in problems.items()]
    if problems and (not p.flag("force") or len(problems) == len(users)):
        raise SlackError(next(iter(problems.values())), errors=failures)
    channel.members.update(u for u in users if u not in problems)
    answer: dict[str, Any] = {"channel": channel_json(ws, channel)}
    if failures:
        answer["errors"] = failures
    return answer


def _invite_problem(ws: Workspace, channel: Channel, user_id: str) -> str | None:
    """Why one user cannot be invited, or None."""
    if user_id == ws.bot_user_id:
        return "cant_invite_self"
    if ws.active_user(user_id) is None:
        return "user_not_found"
    if user_id in channel.members:
        return "already_in_channel"
    return None


def join(ws: Workspace, p: Params) -> dict[str, Any]:
    """The bot joins a public channel; joining twice answers ok with a warning."""
    channel = ws.channels.get(p.text("channel") or "")
    if channel is None:
        raise SlackError("channel_not_found")
    if channel.is_private:
        raise SlackError("method_not_supported_for_channel_type")
    require_unarchived(channel)
    if ws.bot_user_id in channel.members:
        return {
            "channel": channel_json(ws, channel),
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    channel.members.add(ws.bot_user_id)
    return {"channel": channel_json(ws, channel)}


def info(ws: Workspace, p: Params) -> dict[str, Any]:
    """One channel; private ones the bot is not in do not exist for it."""
    channel = channel_arg(ws, p)
    return {"channel": channel_json(ws, channel, num_members=p.flag("include_num_members"))}


def list_(ws: Workspace, p: Params) -> dict[str, Any]:
    """Channels by type, with Slack's opaque cursor pagination."""
    types = set(p.ids("types") or ["public_channel"])
    exclude_archived = p.flag("exclude_archived")
    matching = [
        c
        for c in ws.channels.values()
        if _type_of(c) in types
        and not (exclude_archived and c.is_archived)
        and (not c.is_private or ws.bot_user_id in c.members)
    ]
    page, next_cursor = _page(matching, p)
    return {
        "channels": [channel_json(ws, c, num_members=True) for c in page],
        "response_metadata": {"next_cursor": next_cursor},
    }


def _type_of(channel: Channel) -> str:
    """The `types` value that selects this channel."""
    if channel.is_im:
        return "im"
    return "private_channel" if channel.is_private else "public_channel"


def _page(items: list[Any], p: Params) -> tuple[list[Any], str]:
    """One page of `items` from `cursor`/`limit`, and the cursor of the next page."""
    limit = max(1, min(p.number("limit", LIST_LIMIT_DEFAULT), 1000))
    cursor = p.text("cursor")
    start = 0
    if cursor:
        try:
            start = int(base64.b64decode(cursor).decode().removeprefix("offset:"))
        except ValueError as error:
            raise SlackError("invalid_cursor") from error
    end = start + limit
    next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
    return items[start:end], next_cursor


def members(ws: Workspace, p: Params) -> dict[str, Any]:
    """Member ids of a channel, paginated like conversations.list."""
    channel = channel_arg(ws, p)
    page, next_cursor = _page(sorted(channel.members), p)
    return {"members": page, "response_metadata": {"next_cursor": next_cursor}}


def set_topic(ws: Workspace, p: Params) -> dict[str, Any]:
    """Change the topic (at most 250 characters)."""
    channel = _changeable(ws, p)
    topic = p.text("topic") or ""
    if len(topic) > TOPIC_MAX:
        raise SlackError("too_long")
    channel.topic = topic
    return {"channel": channel_json(ws, channel)}


def set_purpose(ws: Workspace, p: Params) -> dict[str, Any]:
    """Change the purpose (at most 250 characters)."""
    channel = _changeable(ws, p)
    purpose = p.text("purpose") or ""
    if len(purpose) > TOPIC_MAX:
        raise SlackError("too_long")
    channel.purpose = purpose
    return {"channel": channel_json(ws, channel), "purpose": purpose}


def _changeable(ws: Workspace, p: Params) -> Channel:
    """A channel the bot may change: visible, not archived, the bot a member."""
    channel = channel_arg(ws, p)
    require_unarchived(channel)
    require_member(ws, channel)
    return channel


def archive(ws: Workspace, p: Params) -> dict[str, Any]:
    """Archive a channel; it keeps its name and members."""
    channel = channel_arg(ws, p)
    require_unarchived(channel, "already_archived")
    require_member(ws, channel)
    channel.is_archived = True
    return {}


def unarchive(ws: Workspace, p: Params) -> dict[str, Any]:
    """Bring an archived channel back."""
    channel = channel_arg(ws, p)
    if not channel.is_archived:
        raise SlackError("not_archived")
    channel.is_archived = False
    return {}


def rename(ws: Workspace, p: Params) -> dict[str, Any]:
    """Rename under the same rules as create; the old name goes to previous_names."""
    channel = _changeable(ws, p)
    name = check_channel_name(ws, p.text("name"), ignore=channel)
    if name != channel.name:
        channel.previous_names.insert(0, channel.name)
        channel.name = name
    return {"channel": channel_json(ws, channel)}


def open_(ws: Workspace, p: Params) -> dict[str, Any]:
    """Open (or find) the bot's DM with one user."""
    users = p.ids("users")
    if not users and p.text("channel"):
        return {"channel": {"id": channel_arg(ws, p).id}}
    if len(users) != 1:
        raise SlackError("not_enough_users" if not users else "too_many_users")
    if ws.active_user(users[0]) is None:
        raise SlackError("user_not_found")
    return {"channel": {"id": ws.open_dm(users[0]).id}}


def history(ws: Workspace, p: Params) -> dict[str, Any]:
    """Top-level messages, newest first; metadata only with include_all_metadata (as Slack)."""
    channel = channel_arg(ws, p)
    require_member(ws, channel)
    limit = max(1, min(p.number("limit", LIST_LIMIT_DEFAULT), 999))
    top = [m for m in reversed(channel.messages) if m.thread_ts in (None, m.ts) and _in_window(m.ts, p)]
    return {"messages": [_listed(ws, m, p.flag("include_all_metadata")) for m in top[:limit]],
            "has_more": len(top) > limit}


def _in_window(ts: str, p: Params) -> bool:
    """`oldest` < ts < `latest`; `inclusive` admits the bounds, as Slack."""
    oldest, latest, inclusive = p.text("oldest"), p.text("latest"), p.flag("inclusive")
    if oldest is not None and (float(ts) < float(oldest) or (float(ts) == float(oldest) and not inclusive)):
        return False
    return latest is None or float(ts) < float(latest) or (float(ts) == float(latest) and inclusive)


def replies(ws: Workspace, p: Params) -> dict[str, Any]:
    """A thread: its parent first, then the replies in order (a lone message is its own thread)."""
    channel = channel_arg(ws, p)
    require_member(ws, channel)
    ts = p.text("ts")
    if not ts:
        raise SlackError("thread_not_found")
    thread = [m for m in channel.messages if m.ts == ts or m.thread_ts == ts]
    if not thread:
        raise SlackError("thread_not_found")
    return {"messages": [_listed(ws, m, p.flag("include_all_metadata")) for m in thread], "has_more": False}


def _listed(ws: Workspace, message: Any, with_metadata: bool) -> dict[str, Any]:
    data = message_json(ws, message)
    if not with_metadata:
        data.pop("metadata", None)
    return data


HANDLERS: dict[str, Handler] = {
    "conversations.history": history,
    "conversations.replies": replies,
    "conversations.create": create,
    "conversations.invite": invite,
    "conversations.join": join,
    "conversations.info": info,
    "conversations.list": list_,
    "conversations.members": members,
    "conversations.setTopic": set_topic,
    "conversations.setPurpose": set_purpose,
    "conversations.archive": archive,
    "conversations.unarchive": unarchive,
    "conversations.rename": rename,
    "conversations.open": open_,
}
