"""What a test (or the playground) sees of the local Slack's workspace, and how it seeds it.

A mixin of :class:`~bot.local_slack.server.FakeSlack`: every property and helper reads or
changes ``self.workspace``, the in-memory workspace the Web API methods work on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .state import Channel, Ephemeral, Message, StoredFile, User, Usergroup, Workspace


class WorkspaceView:
    """The workspace's people, channels, messages, views and files, and ways to add them."""

    workspace: Workspace

    @property
    def bot_user_id(self) -> str:
        """The bot's user id (`U0BOT` unless configured)."""
        return self.workspace.bot_user_id

    @property
    def team_id(self) -> str:
        """The workspace id (`T0TEST` unless configured)."""
        return self.workspace.team_id

    @property
    def channels(self) -> dict[str, Channel]:
        """All channels by id (archived and DMs too)."""
        return self.workspace.channels

    @property
    def users(self) -> dict[str, User]:
        """All users by id, the bot included."""
        return self.workspace.users

    @property
    def usergroups(self) -> dict[str, Usergroup]:
        """User groups by id."""
        return self.workspace.usergroups

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """Every modal and Home view by id, as last opened/updated/published."""
        return {view_id: stored.data for view_id, stored in self.workspace.views.items()}

    @property
    def files(self) -> dict[str, StoredFile]:
        """Uploaded files by id (with their bytes in `content`)."""
        return self.workspace.files

    @property
    def ephemerals(self) -> list[Ephemeral]:
        """Every chat.postEphemeral message, oldest first."""
        return self.workspace.ephemerals

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        tz: str = "UTC",
        is_bot: bool = False,
        deleted: bool = False,
        email: str | None = None,
        real_name: str = "",
    ) -> None:
        """Add a member (e-mail defaults to `<name>@example.com`; the full name to `name`)."""
        self.workspace.add_user(User(user_id, name, tz, is_bot, deleted, email or f"{name}@example.com", real_name))

    def add_channel(
        self, name: str, *, is_private: bool = False, members: Iterable[str] = (), archived: bool = False
    ) -> str:
        """Create a channel and return its id; the bot is in it only if listed in `members`."""
        return self.workspace.add_channel(name, is_private=is_private, members=members, archived=archived).id

    def add_usergroup(self, group_id: str, handle: str, users: Iterable[str]) -> None:
        """Add a user group."""
        self.workspace.add_usergroup(group_id, handle, users)

    def add_message(
        self,
        channel_id: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
    ) -> Message:
        """Put a message from someone (usually a human) into a channel, e.g. to react to or shortcut on."""
        message = Message(ts=self.workspace.next_ts(), user=user, text=text, blocks=blocks, thread_ts=thread_ts)
        self.workspace.channels[channel_id].messages.append(message)
        return message

    def channel_by_name(self, name: str) -> Channel | None:
        """Channel with this name (`#` optional), archived ones included."""
        return self.workspace.channel_by_name(name)

    def messages_in(self, channel_id: str) -> list[Message]:
        """The channel's current messages, oldest first (deleted ones are gone)."""
        return list(self.workspace.channels[channel_id].messages)

    def ephemerals_for(self, user_id: str) -> list[Ephemeral]:
        """Ephemeral messages shown to one user."""
        return [e for e in self.workspace.ephemerals if e.user == user_id]

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The App Home view last published for a user."""
        return next(
            (v.data for v in self.workspace.views.values() if v.user_id == user_id and v.data["type"] == "home"), None
        )
