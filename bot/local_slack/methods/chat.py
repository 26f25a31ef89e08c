"""chat.* methods: posting, editing and deleting messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..blocks import MESSAGE_TEXT_MAX, message_block_errors
from ..params import Params, SlackError
from ..shapes import message_json, permalink
from ..state import Channel, Ephemeral, Message, Workspace
from .common import Handler, channel_arg, message_arg, require_member


@dataclass
class Content:
    """What a message shows: text plus optional blocks and attachments."""

    text: str | None
    blocks: list[dict[str, Any]] | None
    attachments: list[dict[str, Any]] | None

    @property
    def empty(self) -> bool:
        """True when Slack would answer `no_text`."""
        return not self.text and not self.blocks and not self.attachments


def read_content(p: Params) -> Content:
    """Text, blocks and attachments of a chat call, refused as Slack refuses them."""
    blocks = p.raw("blocks")
    if isinstance(blocks, str):
        raise SlackError("invalid_blocks_format")
    if blocks is not None:
        errors = message_block_errors(blocks)
        if errors:
            raise SlackError("invalid_blocks", errors=errors)
    attachments = p.raw("attachments")
    if attachments is not None and not isinstance(attachments, list):
        raise SlackError("invalid_attachments")
    text = p.text("text")
    if text is not None and len(text) > MESSAGE_TEXT_MAX:
        raise SlackError("msg_too_long")
    return Content(text, blocks, attachments)


def post_channel(ws: Workspace, p: Params) -> Channel:
    """Where a post goes: a channel id, `#name`/name, or a user id (the bot's DM)."""
    ref = p.text("channel") or ""
    if ref.startswith(("U", "W")) and ws.active_user(ref) is not None:
        return ws.open_dm(ref)
    channel = channel_arg(ws, p, by_name=True)
    if channel.is_archived:
        raise SlackError("is_archived")
    require_member(ws, channel)
    return channel


def post_message(ws: Workspace, p: Params) -> dict[str, Any]:
    """Post as the bot; requires membership (no chat:write.public here, on purpose)."""
    channel = post_channel(ws, p)
    content = read_content(p)
    if content.empty:
        raise SlackError("no_text")
    metadata = p.raw("metadata")
    message = Message(
        ts=ws.next_ts(),
        user=ws.bot_user_id,
        text=content.text or "",
        blocks=content.blocks,
        attachments=content.attachments,
        thread_ts=p.text("thread_ts"),
        metadata=metadata if isinstance(metadata, dict) else None,
        bot_id=ws.bot_id,
    )
    channel.messages.append(message)
    return {"channel": channel.id, "ts": message.ts, "message": message_json(ws, message)}


def post_ephemeral(ws: Workspace, p: Params) -> dict[str, Any]:
    """Ephemeral message to one member of a channel the bot is in."""
    channel = post_channel(ws, p)
    user_id = p.text("user") or ""
    if user_id not in channel.members:
        raise SlackError("user_not_in_channel")
    content = read_content(p)
    if content.empty:
        raise SlackError("no_text")
    ephemeral = Ephemeral(ws.next_ts(), channel.id, user_id, content.text or "", content.blocks)
    ws.ephemerals.append(ephemeral)
    return {"message_ts": ephemeral.ts}


def update(ws: Workspace, p: Params) -> dict[str, Any]:
    """Edit a bot message; arguments left out keep their old values (as Slack)."""
    channel = channel_arg(ws, p)
    message = message_arg(channel, p.text("ts"))
    if message.user != ws.bot_user_id:
        raise SlackError("cant_update_message")
    if channel.is_archived:
        raise SlackError("is_inactive")
    content = read_content(p)
    if content.empty:
        raise SlackError("no_text")
    message.history.append({"text": message.text, "blocks": message.blocks, "attachments": message.attachments})
    if "text" in p:
        message.text = content.text or ""
    if p.raw("blocks") is not None:
        message.blocks = content.blocks
    if p.raw("attachments") is not None:
        message.attachments = content.attachments
    message.edited = True
    return {"channel": channel.id, "ts": message.ts, "text": message.text, "message": message_json(ws, message)}


def delete(ws: Workspace, p: Params) -> dict[str, Any]:
    """Delete a bot message."""
    channel = channel_arg(ws, p)
    message = message_arg(channel, p.text("ts"))
    if message.user != ws.bot_user_id:
        raise SlackError("cant_delete_message")
    channel.messages.remove(message)
    if message.ts in channel.pins:
        channel.pins.remove(message.ts)
    return {"channel": channel.id, "ts": message.ts}


def get_permalink(ws: Workspace, p: Params) -> dict[str, Any]:
    """Link to a message."""
    channel = channel_arg(ws, p)
    message = message_arg(channel, p.text("message_ts"))
    return {"channel": channel.id, "permalink": permalink(ws, channel.id, message.ts)}


HANDLERS: dict[str, Handler] = {
    "chat.postMessage": post_message,
    "chat.postEphemeral": post_ephemeral,
    "chat.update": update,
    "chat.delete": delete,
    "chat.getPermalink": get_permalink,
}
