"""Checks shared by Web API methods, each raising the error code Slack uses."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..params import Params, SlackError
from ..state import Channel, Message, Workspace

Handler = Callable[[Workspace, Params], dict[str, Any]]
"""A Web API method: reads the workspace and arguments, returns the `ok` answer."""

CHANNEL_NAME_MAX = 80
_NAME_ALLOWED = re.compile(r"^[a-z0-9_-]+$")
_NAME_HAS_WORD = re.compile(r"[a-z0-9]")


def channel_arg(ws: Workspace, p: Params, name: str = "channel", *, by_name: bool = False) -> Channel:
    """The channel an argument names, as the bot sees it, else `channel_not_found`."""
    channel = ws.visible_channel(p.text(name), by_name=by_name)
    if channel is None:
        raise SlackError("channel_not_found")
    return channel


def require_member(ws: Workspace, channel: Channel) -> None:
    """Refuse with `not_in_channel` unless the bot is in the channel."""
    if ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")


def require_unarchived(channel: Channel, error: str = "is_archived") -> None:
    """Refuse changes to an archived channel."""
    if channel.is_archived:
        raise SlackError(error)


def message_arg(channel: Channel, ts: str | None) -> Message:
    """The message at `ts` in the channel, else `message_not_found`."""
    message = Workspace.find_message(channel, ts)
    if message is None:
        raise SlackError("message_not_found")
    return message


def check_channel_name(ws: Workspace, name: str | None, *, ignore: Channel | None = None) -> str:
    """Apply conversations.create's name rules; archived channels keep their names."""
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > CHANNEL_NAME_MAX:
        raise SlackError("invalid_name_maxlength")
    if not _NAME_ALLOWED.match(name):
        raise SlackError("invalid_name_specials")
    if not _NAME_HAS_WORD.search(name):
        raise SlackError("invalid_name_punctuation")
    existing = ws.channel_by_name(name)
    if existing is not None and existing is not ignore:
        raise SlackError("name_taken")
    return name
