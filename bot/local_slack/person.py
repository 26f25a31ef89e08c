"""A person's side of the local Slack: what their client shows them and what their own actions change.

The Web API methods are the app's side. A person also reads channels, sees ephemeral
messages meant for them, types messages and slash commands, reacts, and has modals open
in their client; the playground's page needs those, and they follow Slack's rules:
private channels only for members, a modal stack per person, view submissions answered
with `errors`, `update`, `push` or `clear`.
"""

from __future__ import annotations

import re
from typing import Any

from .methods import views
from .params import Params, SlackError
from .state import Channel, Ephemeral, Message, StoredView, User, Workspace

_HANDLE = re.compile(r"(?<![\w@<|])@([a-z0-9][a-z0-9._-]*)", re.IGNORECASE)
_CHANNEL = re.compile(r"(?<![\w#<|])#([a-z0-9][a-z0-9_-]*)")


# -- what a person sees --------------------------------------------------------


def people(ws: Workspace) -> list[User]:
    """Active people (not bots), by name: whom a person can act as or pick in a users select."""
    return sorted((u for u in ws.users.values() if not u.is_bot and not u.deleted), key=lambda u: u.name)


def can_read(ws: Workspace, channel: Channel, user_id: str) -> bool:
    """Public channels are open to everyone; private ones and DMs only to their members."""
    return not channel.is_private or user_id in channel.members


def channels_for(ws: Workspace, user_id: str) -> list[Channel]:
    """The channels in a person's sidebar: public ones, private ones they are in, by name."""
    listed = [c for c in ws.channels.values() if not c.is_im and can_read(ws, c, user_id)]
    return sorted(listed, key=lambda c: (c.is_archived, c.name))


def direct_messages_for(ws: Workspace, user_id: str) -> list[Channel]:
    """The bot's direct messages with this person (there is at most one)."""
    return [c for c in ws.channels.values() if c.is_im and c.name == user_id]


def ephemerals_in(ws: Workspace, channel_id: str, user_id: str) -> list[Ephemeral]:
    """Ephemeral messages shown to this person in this channel, oldest first."""
    return [e for e in ws.ephemerals if e.channel == channel_id and e.user == user_id]


def open_modal(ws: Workspace, user_id: str) -> StoredView | None:
    """The view on top of this person's modal stack, if a modal is open."""
    stack = ws.modal_stacks.get(user_id) or []
    return ws.views.get(stack[-1]) if stack else None


def home_of(ws: Workspace, user_id: str) -> StoredView | None:
    """The App Home view last published for this person."""
    return next((v for v in ws.views.values() if v.user_id == user_id and v.data.get("type") == "home"), None)


# -- what a person does ----------------------------------------------------------


def post_as(ws: Workspace, channel: Channel, user_id: str, text: str) -> Message:
    """A message typed by a person; posting in a public channel joins it, as in Slack."""
    if channel.is_archived:
        raise SlackError("is_archived")
    if user_id not in channel.members:
        if channel.is_private:
            raise SlackError("not_in_channel")
        channel.members.add(user_id)
    message = Message(ts=ws.next_ts(), user=user_id, text=escape(text))
    channel.messages.append(message)
    return message


def toggle_reaction(ws: Workspace, message: Message, user_id: str, name: str) -> bool:
    """Add this person's reaction, or take it back if they had it; True when it was added."""
    users = message.reactions.setdefault(name, [])
    if user_id in users:
        users.remove(user_id)
        if not users:
            del message.reactions[name]
        return False
    users.append(user_id)
    return True


def dismiss(ws: Workspace, user_id: str, ts: str) -> None:
    """*Dismiss* on an ephemeral message: it is gone from that person's screen."""
    ws.ephemerals[:] = [e for e in ws.ephemerals if not (e.user == user_id and e.ts == ts)]


def escape(text: str) -> str:
    """Slack's escaping of typed text: `&`, `<` and `>` become entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def command_text(ws: Workspace, typed: str) -> str:
    """A slash command's text as Slack sends it with `should_escape`: mentions as `<@U…|name>`, `<#C…|name>`."""

    def user(match: re.Match[str]) -> str:
        found = next((u for u in people(ws) if u.name.lower() == match[1].lower()), None)
        return f"<@{found.id}|{found.name}>" if found is not None else match[0]

    def channel(match: re.Match[str]) -> str:
        found = ws.channel_by_name(match[1])
        return f"<#{found.id}|{found.name}>" if found is not None and not found.is_private else match[0]

    return _CHANNEL.sub(channel, _HANDLE.sub(user, escape(typed)))


# -- modals ---------------------------------------------------------------------


def close_modal(ws: Workspace, user_id: str, view_id: str) -> bool:
    """Cancel: the view leaves the stack (with any pushed above it); False when it was not open."""
    stack = ws.modal_stacks.get(user_id) or []
    if view_id not in stack:
        return False
    del stack[stack.index(view_id):]
    return True


def answer_submission(ws: Workspace, user_id: str, view_id: str, ack: dict[str, Any]) -> dict[str, str]:
    """Apply the app's answer to a view submission; returns field errors by block_id ({} when none).

    An empty answer closes the submitted view (the one below it shows again), `clear`
    closes them all, `update` replaces the submitted view and `push` stacks a new one,
    each checked as views.update and views.push check views: a view Slack would refuse
    raises its SlackError, and the modal stays as it was.
    """
    action = ack.get("response_action")
    if action == "errors":
        errors = ack.get("errors")
        return {str(k): str(v) for k, v in errors.items()} if isinstance(errors, dict) else {}
    if action == "update":
        views.update(ws, Params({"view_id": view_id, "view": ack.get("view")}))
    elif action == "push":
        trigger = ws.new_trigger(user_id=user_id)
        views.push(ws, Params({"trigger_id": trigger.id, "view": ack.get("view")}))
    elif action == "clear":
        ws.modal_stacks.pop(user_id, None)
    else:
        close_modal(ws, user_id, view_id)
    return {}
