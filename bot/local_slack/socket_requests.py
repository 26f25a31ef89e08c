"""SocketModeRequests: plays Slack's side of Socket Mode against our bot.

The Socket Mode twin of `SignedRequests`: the same Slack-shaped commands,
interactions and events (`request_payloads.py`), delivered as envelopes over the
bot's WebSocket to the local Slack instead of signed POSTs, each answered with
the bot's ack. trigger_ids and response_urls are minted on the local Slack, so
the views.open calls and replies the bot makes are checked and recorded there.
"""

from __future__ import annotations

from typing import Any

from .request_payloads import RequestPayloads
from .server import FakeSlack
from .socket_mode import Ack, FakeSocketMode


class SocketModeRequests(RequestPayloads):
    """Delivers commands, interactions and events to the bot over its Socket Mode connection."""

    def __init__(self, slack: FakeSlack) -> None:
        super().__init__(team_id=slack.workspace.team_id, slack=slack)
        self._socket_mode: FakeSocketMode = slack.socket_mode

    async def command(self, text: str, **fields: Any) -> Ack:
        """A slash command typed in a channel (fields as for :meth:`RequestPayloads.command_payload`)."""
        payload = self.command_payload(text, **fields)
        return await self._socket_mode.deliver("slash_commands", payload, accepts_response_payload=True)

    async def block_actions(self, **fields: Any) -> Ack:
        """A button pressed, in a message it carries the local Slack's copy of (fields as for
        :meth:`RequestPayloads.block_actions_payload`)."""
        return await self._socket_mode.deliver("interactive", self.block_actions_payload(**fields))

    async def view_submission(self, **fields: Any) -> Ack:
        """Submit a modal the bot opened: its blocks and metadata come back with the inputs (fields as for
        :meth:`RequestPayloads.view_submission_payload`)."""
        payload = self.view_submission_payload(**fields)
        return await self._socket_mode.deliver("interactive", payload, accepts_response_payload=True)

    async def event(self, event: dict[str, Any]) -> Ack:
        """An Events API event, in its `event_callback` envelope."""
        return await self._socket_mode.deliver("events_api", self.event_payload(event))
