"""Web API methods the fake Slack implements, by method name."""

from __future__ import annotations

from . import apps, chat, conversations, files, items, people, views
from .common import Handler

HANDLERS: dict[str, Handler] = {
    **people.HANDLERS,
    **conversations.HANDLERS,
    **chat.HANDLERS,
    **items.HANDLERS,
    **views.HANDLERS,
    **files.HANDLERS,
    **apps.HANDLERS,
}

__all__ = ["HANDLERS", "Handler"]
