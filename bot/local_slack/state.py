"""In-memory workspace of the fake Slack: the data Web API methods read and change.

Kept apart from the HTTP server so method handlers are plain functions over this
state, and tests can arrange a workspace (users, channels, messages) without HTTP.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

TRIGGER_TTL_SECONDS = 3.0
"""Slack refuses a trigger_id 3 s after the interaction that produced it."""


@dataclass
class User:
    """A workspace member as users.info describes it."""

    id: str
    name: str
    tz: str = "UTC"
    is_bot: bool = False
    deleted: bool = False
    email: str = ""
    real_name: str = ""
    """The full name people see; empty means the same as `name`."""


@dataclass
class Message:
    """A message in a channel; `history` keeps earlier versions so tests can see edits."""

    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    edited: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    metadata: dict[str, Any] | None = None
    bot_id: str | None = None


@dataclass
class Ephemeral:
    """An ephemeral message: seen by one user only, never in channel history."""

    ts: str
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None = None


@dataclass
class Channel:
    """A conversation; DMs opened by the bot are channels with `is_im` set."""

    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    members: set[str] = field(default_factory=set)
    topic: str = ""
    purpose: str = ""
    created: int = 0
    creator: str = ""
    messages: list[Message] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)
    bookmarks: list[dict[str, Any]] = field(default_factory=list)
    is_im: bool = False
    previous_names: list[str] = field(default_factory=list)


@dataclass
class Usergroup:
    """A user group (`S…` id, `@handle`) whose members usergroups.users.list returns."""

    id: str
    handle: str
    users: list[str]


@dataclass
class Trigger:
    """A trigger_id: exchangeable once, within its time to live."""

    id: str
    created: float
    ttl: float
    user_id: str | None = None
    used: bool = False


@dataclass
class StoredView:
    """A modal or Home tab as the last views.* call left it."""

    id: str
    user_id: str | None
    data: dict[str, Any]


@dataclass
class StoredFile:
    """A file from files.getUploadURLExternal; `content` arrives at the upload URL."""

    id: str
    filename: str
    length: int
    created: int
    user: str
    title: str = ""
    content: bytes | None = None
    channels: list[str] = field(default_factory=list)
    completed: bool = False


@dataclass
class ResponseUrl:
    """A response_url: limited uses within a lifetime, tied to where it came from."""

    id: str
    created: float
    channel_id: str | None = None
    message_ts: str | None = None
    uses: int = 0
    user_id: str | None = None
    """Who acted; when known, an ephemeral answer is shown to that person in `channel_id`."""


class Workspace:
    """Everything the fake Slack knows; method handlers read and change it."""

    team_domain = "testteam"
    team_name = "Test Team"
    app_id = "A0TEST"
    bot_id = "B0BOT"
    bot_name = "incident-bot"

    def __init__(
        self,
        *,
        team_id: str,
        bot_user_id: str,
        clock: Callable[[], float] = time.monotonic,
        trigger_ttl: float = TRIGGER_TTL_SECONDS,
    ) -> None:
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.clock = clock
        self.trigger_ttl = trigger_ttl
        self.base_url = ""
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, Usergroup] = {}
        self.triggers: dict[str, Trigger] = {}
        self.views: dict[str, StoredView] = {}
        self.modal_stacks: dict[str, list[str]] = {}
        self.files: dict[str, StoredFile] = {}
        self.ephemerals: list[Ephemeral] = []
        self.response_urls: dict[str, ResponseUrl] = {}
        self.socket_tickets: set[str] = set()
        self.last_id = 0
        """The number in the last id handed out; ids and triggers count on from it."""
        self._last_ts_micros = 0
        self.add_user(User(bot_user_id, self.bot_name, is_bot=True, email=f"{self.bot_name}@example.com"))

    # ids and clocks ---------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        """Unique, Slack-shaped id (`C00000000A`): uppercase, 9 characters after the prefix."""
        return f"{prefix}{self._take_id():09X}"

    def _take_id(self) -> int:
        self.last_id += 1
        return self.last_id

    def next_ts(self) -> str:
        """Strictly increasing message ts, as Slack's are unique per channel."""
        micros = max(int(time.time() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    @staticmethod
    def unix_now() -> int:
        """Wall-clock seconds, for the `created` fields Slack reports."""
        return int(time.time())

    # arranging --------------------------------------------------------------

    def add_user(self, user: User) -> User:
        """Add or replace a member."""
        self.users[user.id] = user
        return user

    def add_channel(
        self,
        name: str,
        *,
        is_private: bool = False,
        members: Iterable[str] = (),
        archived: bool = False,
        creator: str | None = None,
    ) -> Channel:
        """Create a channel directly (test set-up); the bot is a member only if listed."""
        if self.channel_by_name(name) is not None:
            raise ValueError(f"channel name {name!r} already exists")
        member_set = set(members)
        channel = Channel(
            id=self.new_id("C"),
            name=name,
            is_private=is_private,
            is_archived=archived,
            members=member_set,
            created=self.unix_now(),
            creator=creator or next(iter(sorted(member_set)), "USLACKBOT"),
        )
        self.channels[channel.id] = channel
        return channel

    def add_usergroup(self, group_id: str, handle: str, users: Iterable[str]) -> Usergroup:
        """Add or replace a user group."""
        group = Usergroup(group_id, handle, list(users))
        self.usergroups[group_id] = group
        return group

    def new_trigger(self, *, user_id: str | None = None, ttl: float | None = None) -> Trigger:
        """Mint a trigger_id in Slack's `digits.digits.hex` shape."""
        trigger_id = f"{self._take_id()}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
        trigger = Trigger(trigger_id, self.clock(), self.trigger_ttl if ttl is None else ttl, user_id)
        self.triggers[trigger_id] = trigger
        return trigger

    def new_response_url(
        self,
        *,
        channel_id: str | None = None,
        message_ts: str | None = None,
        url_id: str | None = None,
        user_id: str | None = None,
    ) -> ResponseUrl:
        """Register a response_url id (fresh unless given); the server turns it into a URL."""
        entry = ResponseUrl(url_id or secrets.token_hex(12), self.clock(), channel_id, message_ts, user_id=user_id)
        self.response_urls[entry.id] = entry
        return entry

    def new_socket_ticket(self) -> str:
        """A ticket for one Socket Mode connection, as apps.connections.open puts in its URL."""
        ticket = secrets.token_hex(12)
        self.socket_tickets.add(ticket)
        return ticket

    # looking up -------------------------------------------------------------

    def channel_by_name(self, name: str) -> Channel | None:
        """Channel (archived too) with this name, `#` optional; None when there is none."""
        wanted = name.removeprefix("#")
        return next((c for c in self.channels.values() if c.name == wanted and not c.is_im), None)

    def visible_channel(self, ref: str | None, *, by_name: bool = False) -> Channel | None:
        """The channel the bot can see: Slack hides private channels from non-members."""
        if not ref:
            return None
        channel = self.channels.get(ref)
        if channel is None and by_name:
            channel = self.channel_by_name(ref)
        if channel is None or (channel.is_private and self.bot_user_id not in channel.members):
            return None
        return channel

    def open_dm(self, user_id: str) -> Channel:
        """The bot's DM with a user, created on first use like conversations.open."""
        for channel in self.channels.values():
            if channel.is_im and channel.name == user_id:
                return channel
        channel = Channel(
            id=self.new_id("D"),
            name=user_id,
            is_private=True,
            members={self.bot_user_id, user_id},
            created=self.unix_now(),
            creator=self.bot_user_id,
            is_im=True,
        )
        self.channels[channel.id] = channel
        return channel

    @staticmethod
    def find_message(channel: Channel, ts: str | None) -> Message | None:
        """Message with this ts in the channel, or None."""
        return next((m for m in channel.messages if m.ts == ts), None)

    def active_user(self, user_id: str) -> User | None:
        """A user who exists and is not deactivated."""
        user = self.users.get(user_id)
        return user if user is not None and not user.deleted else None
