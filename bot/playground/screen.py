"""What one person sees on the page, gathered from the workspace: no HTML here, only data.

The sidebar (channels they may open), a channel's messages with their threads,
reactions, pins and files, the ephemeral messages meant for them, their App Home and
the modal open in their client. :mod:`bot.playground.rendering` turns this into HTML.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.local_slack import person
from bot.local_slack.state import Channel, Ephemeral, Message, User, Workspace
from bot.playground.acting import FormProblems, Notice
from bot.playground.emoji import EMOJI
from bot.playground.mrkdwn import Reader
from bot.playground.team import TEAM

HOME = "home"
MESSAGES_SHOWN = 300
"""Only a channel's latest messages are shown, as Slack loads history as you scroll."""
PREVIEW_BYTES = 20_000
SLACKBOT = "Slackbot"


@dataclass(frozen=True, slots=True)
class Author:
    """Who a message is from, as the page shows them."""

    name: str
    initials: str
    colour: int
    is_app: bool = False


@dataclass(slots=True)
class Item:
    """One entry of a channel's message list: a message, an ephemeral message or a client notice."""

    key: str
    kind: str
    author: Author
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    pinned: bool = False
    edited: bool = False
    reactions: list[dict[str, Any]] = field(default_factory=list)
    replies: list[Item] = field(default_factory=list)

    @property
    def shared(self) -> bool:
        """True for messages everyone in the channel sees (they get shortcuts and reactions)."""
        return self.kind == "message"


def reader_for(ws: Workspace, user_id: str, now: datetime) -> Reader:
    """Names and time zone for one reader: private channels they are not in stay unnamed."""
    user = ws.users[user_id]
    return Reader(
        tz=ZoneInfo(user.tz),
        now=now,
        users={u.id: u.name for u in ws.users.values()},
        channels={c.id: c.name for c in ws.channels.values() if not c.is_im and person.can_read(ws, c, user_id)},
        groups={g.id: g.handle for g in ws.usergroups.values()},
    )


def author(ws: Workspace, user_id: str) -> Author:
    """A message's author: the app shows as an app, people by their full name."""
    if user_id == ws.bot_user_id:
        return Author("Incident Bot", "IB", 0, is_app=True)
    user = ws.users.get(user_id)
    name = (user.real_name or user.name) if user is not None else user_id
    return Author(name, initials(name), 1 + sum(map(ord, user_id)) % 7)


def initials(name: str) -> str:
    """Up to two initials for an avatar ("Isabel Chen" → "IC")."""
    return "".join(word[0] for word in name.split()[:2]).upper() or "?"


def place_of(ws: Workspace, user_id: str, wanted: str | None) -> str:
    """Where the person is: the place asked for if they may see it, else #general, else Home."""
    if wanted == HOME:
        return HOME
    channel = ws.channels.get(wanted or "")
    if channel is not None and person.can_read(ws, channel, user_id):
        return channel.id
    general = ws.channel_by_name("general")
    return general.id if general is not None else HOME


def items_in(ws: Workspace, channel: Channel, user_id: str, notices: Sequence[Notice]) -> list[Item]:
    """The channel's messages (replies under their parent), then what only this person sees, by time."""
    shown = channel.messages[-MESSAGES_SHOWN:]
    replies: dict[str, list[Item]] = {}
    top: list[Item] = []
    for message in shown:
        item = _message_item(ws, channel, message, user_id)
        if message.thread_ts and message.thread_ts != message.ts:
            replies.setdefault(message.thread_ts, []).append(item)
        else:
            top.append(item)
    for item in top:
        item.replies = replies.get(item.ts, [])
    own = [_ephemeral_item(ws, e) for e in person.ephemerals_in(ws, channel.id, user_id)]
    own += [_notice_item(n) for n in notices if n.channel_id == channel.id and n.user_id == user_id]
    return sorted(top + own, key=lambda item: float(item.ts))


def _message_item(ws: Workspace, channel: Channel, message: Message, user_id: str) -> Item:
    return Item(
        key=message.ts,
        kind="message",
        author=author(ws, message.user),
        ts=message.ts,
        text=message.text,
        blocks=message.blocks,
        attachments=message.attachments,
        files=[_file(ws, f) for f in message.files],
        pinned=message.ts in channel.pins,
        edited=message.edited,
        reactions=[_reaction(ws, name, users, user_id) for name, users in message.reactions.items() if users],
    )


def _ephemeral_item(ws: Workspace, ephemeral: Ephemeral) -> Item:
    return Item(key=f"e{ephemeral.ts}", kind="ephemeral", author=author(ws, ws.bot_user_id), ts=ephemeral.ts,
                text=ephemeral.text, blocks=ephemeral.blocks)


def _notice_item(notice: Notice) -> Item:
    return Item(key=f"n{notice.ts}", kind="ephemeral", author=Author(SLACKBOT, "SB", 0, is_app=True),
                ts=notice.ts, text=notice.text)


def _reaction(ws: Workspace, name: str, users: list[str], user_id: str) -> dict[str, Any]:
    names = [ws.users[u].name if u in ws.users else u for u in users]
    return {"name": name, "emoji": EMOJI.get(name, f":{name}:"), "count": len(users), "mine": user_id in users,
            "people": names}


def _file(ws: Workspace, shared: dict[str, Any]) -> dict[str, Any]:
    """A shared file with the start of its text, so the post-mortem can be read on the page."""
    stored = ws.files.get(str(shared.get("id")))
    content = stored.content if stored is not None else None
    preview = content[:PREVIEW_BYTES].decode("utf-8", errors="replace") if content else ""
    return {"id": shared.get("id"), "name": shared.get("name", ""), "title": shared.get("title") or shared.get("name"),
            "preview": preview, "truncated": bool(content) and len(content) > PREVIEW_BYTES}


def sidebar(ws: Workspace, user_id: str) -> dict[str, list[Channel]]:
    """The channels and the app's direct messages in the person's sidebar."""
    direct = [c for c in person.direct_messages_for(ws, user_id) if c.messages]
    return {"channels": person.channels_for(ws, user_id), "direct": direct}


def people(ws: Workspace) -> list[User]:
    """Whom one can act as, or pick in a users select: the seeded team in its order, then anyone else."""
    order = {member.id: index for index, member in enumerate(TEAM)}
    return sorted(person.people(ws), key=lambda user: order.get(user.id, len(order)))


def home_view(ws: Workspace, user_id: str) -> dict[str, Any] | None:
    """The App Home the bot last published for this person."""
    home = person.home_of(ws, user_id)
    return home.data if home is not None else None


def modal_of(ws: Workspace, user_id: str, problems: FormProblems | None) -> tuple[dict[str, Any], FormProblems | None] | None:
    """The open modal's view, and the problems of its last submission if they are about it."""
    view = person.open_modal(ws, user_id)
    if view is None:
        return None
    return view.data, problems if problems is not None and problems.view_id == view.id else None
