"""What Slack's requests to the bot carry, whichever way they are delivered.

`SignedRequests` POSTs them, signed, to the bot's `/slack/events`; `SocketModeRequests` sends
them over the bot's Socket Mode connection. Both build them here, from the pure builders in
`payloads.py`, with trigger_ids, response_urls and copies of messages minted on the local Slack
when there is one (without one, well-formed values nobody listens to).
"""

from __future__ import annotations

import itertools
import secrets
import time
from typing import Any

from . import payloads
from .server import FakeSlack
from .shapes import message_json
from .state import Workspace

OFFLINE_RESPONSE_URL = "https://hooks.slack.com/commands/{team}/0/stub"
"""Used when no FakeSlack is given: a well-formed response_url nobody listens to."""


class RequestPayloads:
    """Builds the commands, interactions and events Slack sends the bot, as one person's."""

    def __init__(self, *, team_id: str, slack: FakeSlack | None) -> None:
        self.team_id = team_id
        self.slack = slack
        self._event_ids = itertools.count(1)

    def command_payload(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str,
        channel_name: str | None = None,
        command: str = "/incident",
        trigger_id: str | None = None,
        response_url: str | None = None,
    ) -> dict[str, str]:
        """A slash command typed in a channel; the channel name defaults to the stub's (else `general`)."""
        return payloads.slash_command(
            self._sender(user_id),
            command=command,
            text=text,
            channel_id=channel_id,
            channel_name=channel_name or self._channel_name(channel_id) or "general",
            trigger_id=trigger_id or self._trigger(user_id),
            response_url=response_url or self._response_url(channel_id=channel_id),
        )

    def block_actions_payload(
        self,
        *,
        user_id: str,
        action_id: str,
        value: str = "",
        block_id: str = "b",
        channel_id: str | None = None,
        message_ts: str | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        action: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A button press in a message (channel_id + message_ts) or a view.

        `message` defaults to the stub's copy of the message at `message_ts`; `action`
        overrides fields of the default button action (e.g. a select's `selected_option`).
        """
        channel = None
        if channel_id is not None:
            channel = {"id": channel_id, "name": self._channel_name(channel_id) or channel_id}
            message = message or self._message(channel_id, message_ts)
        url = response_url
        if url is None and view is None and channel_id is not None:
            url = self._response_url(channel_id=channel_id, message_ts=message_ts)
        return payloads.block_actions(
            self._sender(user_id),
            action={**payloads.button_action(action_id=action_id, block_id=block_id, value=value), **(action or {})},
            trigger_id=trigger_id or self._trigger(user_id),
            channel=channel,
            message=message,
            view=view,
            response_url=url,
        )

    def view_submission_payload(
        self,
        *,
        callback_id: str,
        user_id: str,
        values: dict[str, dict[str, dict[str, Any]]],
        private_metadata: str = "",
        view_id: str = "V0TEST",
        trigger_id: str | None = None,
    ) -> dict[str, Any]:
        """A modal submitted; when the stub knows `view_id`, its blocks and metadata are sent back."""
        sender = self._sender(user_id)
        opened = self.slack.views.get(view_id) if self.slack is not None else None
        view = payloads.submitted_view(
            opened,
            sender=sender,
            view_id=view_id,
            callback_id=callback_id,
            private_metadata=private_metadata,
            values=values,
        )
        return payloads.view_submission(sender, view=view, trigger_id=trigger_id or self._trigger(user_id))

    def event_payload(self, event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        """An Events API event in its `event_callback` envelope, with a fresh event_id unless given."""
        return payloads.event_callback(
            event,
            team_id=self.team_id,
            api_app_id=self._workspace_value("app_id", "A0TEST"),
            bot_user_id=self._workspace_value("bot_user_id", "U0BOT"),
            event_id=event_id or f"Ev{next(self._event_ids):08d}{secrets.token_hex(2).upper()}",
        )

    # what the local Slack knows -----------------------------------------------

    def _sender(self, user_id: str) -> payloads.Sender:
        user = self.slack.users.get(user_id) if self.slack is not None else None
        return payloads.Sender(
            team_id=self.team_id,
            team_domain=Workspace.team_domain,
            api_app_id=self._workspace_value("app_id", "A0TEST"),
            user_id=user_id,
            user_name=user.name if user is not None else user_id.lower(),
        )

    def _workspace_value(self, name: str, default: str) -> str:
        return str(getattr(self.slack.workspace, name)) if self.slack is not None else default

    def _channel_name(self, channel_id: str) -> str | None:
        channel = self.slack.channels.get(channel_id) if self.slack is not None else None
        return channel.name if channel is not None else None

    def _message(self, channel_id: str, message_ts: str | None) -> dict[str, Any] | None:
        """The stub's copy of a message, else a bare one carrying the ts."""
        if message_ts is None:
            return None
        if self.slack is not None and channel_id in self.slack.channels:
            found = Workspace.find_message(self.slack.channels[channel_id], message_ts)
            if found is not None:
                return message_json(self.slack.workspace, found)
        return {"type": "message", "ts": message_ts, "text": ""}

    def _trigger(self, user_id: str) -> str:
        if self.slack is None:
            return f"{int(time.time())}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
        return self.slack.new_trigger_id(user_id=user_id)

    def _response_url(self, *, channel_id: str | None = None, message_ts: str | None = None) -> str:
        if self.slack is None:
            return OFFLINE_RESPONSE_URL.format(team=self.team_id)
        return self.slack.new_response_url(channel_id=channel_id, message_ts=message_ts)
