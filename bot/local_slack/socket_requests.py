"""SocketModeRequests: plays Slack's side of Socket Mode against our bot.

The Socket Mode twin of `SignedRequests`: the same Slack-shaped commands,
interactions and events (`payloads.py`), delivered as envelopes over the
bot's WebSocket to the local Slack instead of signed POSTs, each answered with
the bot's ack. trigger_ids and response_urls are minted on the local Slack, so
the views.open calls and replies the bot makes are checked and recorded there.
"""

from __future__ import annotations

import itertools
import secrets
from typing import Any

from . import payloads
from .server import FakeSlack
from .shapes import message_json
from .socket_mode import Ack
from .state import Workspace


class SocketModeRequests:
    """Delivers commands, interactions and events to the bot over its Socket Mode connection."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack
        self._event_ids = itertools.count(1)

    async def command(
        self, text: str, *, user_id: str, channel_id: str, response_url: str | None = None, command: str = "/incident"
    ) -> Ack:
        """A slash command typed in a channel."""
        payload = payloads.slash_command(
            self._sender(user_id),
            command=command,
            text=text,
            channel_id=channel_id,
            channel_name=self._channel_name(channel_id),
            trigger_id=self.slack.new_trigger_id(user_id=user_id),
            response_url=response_url or self.slack.new_response_url(channel_id=channel_id),
        )
        return await self.slack.socket_mode.deliver("slash_commands", payload, accepts_response_payload=True)

    async def block_actions(self, *, user_id: str, action_id: str, channel_id: str, message_ts: str,
                            value: str = "") -> Ack:
        """A button pressed on a message, carrying the local Slack's copy of that message."""
        found = Workspace.find_message(self.slack.channels[channel_id], message_ts)
        payload = payloads.block_actions(
            self._sender(user_id),
            action=payloads.button_action(action_id=action_id, block_id="b", value=value),
            trigger_id=self.slack.new_trigger_id(user_id=user_id),
            channel={"id": channel_id, "name": self._channel_name(channel_id)},
            message=message_json(self.slack.workspace, found) if found else {"type": "message", "ts": message_ts},
            view=None,
            response_url=self.slack.new_response_url(channel_id=channel_id, message_ts=message_ts),
        )
        return await self.slack.socket_mode.deliver("interactive", payload)

    async def view_submission(
        self, *, callback_id: str, user_id: str, view_id: str, values: dict[str, dict[str, dict[str, Any]]]
    ) -> Ack:
        """Submit a modal the bot opened: its blocks and metadata come back with the inputs."""
        sender = self._sender(user_id)
        view = payloads.submitted_view(
            self.slack.views.get(view_id), sender=sender, view_id=view_id, callback_id=callback_id,
            private_metadata="", values=values,
        )
        payload = payloads.view_submission(sender, view=view, trigger_id=self.slack.new_trigger_id(user_id=user_id))
        return await self.slack.socket_mode.deliver("interactive", payload, accepts_response_payload=True)

    async def event(self, event: dict[str, Any]) -> Ack:
        """An Events API event, in its `event_callback` envelope."""
        workspace = self.slack.workspace
        payload = payloads.event_callback(
            event,
            team_id=workspace.team_id,
            api_app_id=workspace.app_id,
            bot_user_id=workspace.bot_user_id,
            event_id=f"Ev{next(self._event_ids):08d}{secrets.token_hex(2).upper()}",
        )
        return await self.slack.socket_mode.deliver("events_api", payload)

    def _sender(self, user_id: str) -> payloads.Sender:
        user = self.slack.users.get(user_id)
        workspace = self.slack.workspace
        return payloads.Sender(
            team_id=workspace.team_id,
            team_domain=workspace.team_domain,
            api_app_id=workspace.app_id,
            user_id=user_id,
            user_name=user.name if user is not None else user_id.lower(),
        )

    def _channel_name(self, channel_id: str) -> str:
        channel = self.slack.channels.get(channel_id)
        return channel.name if channel is not None else channel_id
