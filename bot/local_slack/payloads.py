"""Bodies Slack sends to an app: slash commands, interactions and Events API envelopes.

Pure builders, apart from the HTTP sending in `requests.py`, so their shapes can be read
and tested alone. Field names follow what Slack sends and what slack-bolt reads to route
a request and fill its context (team, user, channel, trigger_id, response_url, view).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

VERIFICATION_TOKEN = "legacy-verification-token"
"""The deprecated `token` field Slack still includes; Bolt ignores it in favour of signatures."""


@dataclass(frozen=True)
class Sender:
    """Who acts, and in which workspace and app."""

    team_id: str
    team_domain: str
    api_app_id: str
    user_id: str
    user_name: str

    def team(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": self.team_domain}

    def user(self) -> dict[str, Any]:
        return {"id": self.user_id, "username": self.user_name, "name": self.user_name, "team_id": self.team_id}


def slash_command(
    sender: Sender,
    *,
    command: str,
    text: str,
    channel_id: str,
    channel_name: str,
    trigger_id: str,
    response_url: str,
) -> dict[str, str]:
    """Form fields of a slash command invocation."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": sender.team_id,
        "team_domain": sender.team_domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": sender.user_id,
        "user_name": sender.user_name,
        "command": command,
        "text": text,
        "api_app_id": sender.api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def block_actions(
    sender: Sender,
    *,
    action: dict[str, Any],
    trigger_id: str,
    channel: dict[str, Any] | None,
    message: dict[str, Any] | None,
    view: dict[str, Any] | None,
    response_url: str | None,
) -> dict[str, Any]:
    """A button press (or other element action) in a message or in a view."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": sender.user(),
        "api_app_id": sender.api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "team": sender.team(),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [action],
        "state": {"values": {}},
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id")}
        payload["view"] = view
    if channel is not None:
        payload["channel"] = channel
        if message is not None:
            payload["container"] = {
                "type": "message",
                "message_ts": message.get("ts"),
                "channel_id": channel["id"],
                "is_ephemeral": False,
            }
            payload["message"] = message
    if response_url is not None:
        payload["response_url"] = response_url
    return payload


def button_action(*, action_id: str, block_id: str, value: str) -> dict[str, Any]:
    """The `actions[0]` entry for a button press."""
    return {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": action_id, "emoji": True},
        "value": value,
        "action_ts": f"{time.time():.6f}",
    }


def view_submission(sender: Sender, *, view: dict[str, Any], trigger_id: str) -> dict[str, Any]:
    """A modal's submit; `view.state.values` carries the inputs."""
    return {
        "type": "view_submission",
        "team": sender.team(),
        "user": sender.user(),
        "api_app_id": sender.api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id,
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def view_closed(sender: Sender, *, view: dict[str, Any], is_cleared: bool = False) -> dict[str, Any]:
    """A modal closed with its close button (sent only for views with `notify_on_close`)."""
    return {
        "type": "view_closed",
        "team": sender.team(),
        "user": sender.user(),
        "api_app_id": sender.api_app_id,
        "token": VERIFICATION_TOKEN,
        "view": view,
        "is_cleared": is_cleared,
        "is_enterprise_install": False,
        "enterprise": None,
    }


def submitted_view(
    base: dict[str, Any] | None,
    *,
    sender: Sender,
    view_id: str,
    callback_id: str,
    private_metadata: str,
    values: dict[str, dict[str, dict[str, Any]]],
) -> dict[str, Any]:
    """The view as submitted: the opened one when known, else a minimal modal."""
    view: dict[str, Any] = {
        "id": view_id,
        "team_id": sender.team_id,
        "type": "modal",
        "title": {"type": "plain_text", "text": "Modal", "emoji": True},
        "blocks": [],
        "close": None,
        "submit": None,
        "private_metadata": "",
        "callback_id": callback_id,
        "external_id": "",
        "hash": f"{int(time.time())}.stub",
        "clear_on_close": False,
        "notify_on_close": False,
        "previous_view_id": None,
        "root_view_id": view_id,
        "app_id": sender.api_app_id,
        "app_installed_team_id": sender.team_id,
        "bot_id": None,
    }
    view.update(base or {})
    view["callback_id"] = callback_id
    view["state"] = {"values": values}
    if private_metadata:
        view["private_metadata"] = private_metadata
    return view


def message_action(
    sender: Sender,
    *,
    callback_id: str,
    channel: dict[str, Any],
    message: dict[str, Any],
    trigger_id: str,
    response_url: str,
) -> dict[str, Any]:
    """A message shortcut (Slack's `message_action` payload)."""
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": f"{time.time():.6f}",
        "team": sender.team(),
        "user": sender.user(),
        "channel": channel,
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id,
        "response_url": response_url,
        "message_ts": message.get("ts"),
        "message": message,
    }


def event_callback(
    event: dict[str, Any], *, team_id: str, api_app_id: str, bot_user_id: str, event_id: str
) -> dict[str, Any]:
    """The Events API envelope around one event."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-stub-{event_id}",
    }
