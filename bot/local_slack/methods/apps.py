"""apps.connections.open, and which kind of token each Web API method takes.

Socket Mode's one Web API method is called with the app-level token (`xapp-…`),
every other method the bot calls with the bot token (`xoxb-…`); Slack refuses
the wrong kind with `not_allowed_token_type`.
"""

from __future__ import annotations

from typing import Any

from ..params import Params
from ..socket_mode import link_url
from ..state import Workspace
from .common import Handler

APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


def token_refusal(method: str, token: str | None, *, bot_token: str, app_token: str) -> str | None:
    """Slack's error for a call made with no token, an unknown one or the wrong kind; None when it is right."""
    if not token:
        return "not_authed"
    expected = app_token if method in APP_TOKEN_METHODS else bot_token
    if token == expected:
        return None
    if token in (bot_token, app_token):
        return "not_allowed_token_type"
    return "invalid_auth"


def apps_connections_open(ws: Workspace, p: Params) -> dict[str, Any]:
    """A WebSocket URL for one Socket Mode connection, served by the local Slack."""
    return {"url": link_url(ws.base_url, ticket=ws.new_socket_ticket(), app_id=ws.app_id)}


HANDLERS: dict[str, Handler] = {
    "apps.connections.open": apps_connections_open,
}
