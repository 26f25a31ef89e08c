"""views.* methods: modals (opened with a trigger_id) and App Home tabs."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from ..blocks import view_errors
from ..params import Params, SlackError, invalid_arguments
from ..state import StoredView, Trigger, Workspace
from .common import Handler

MODAL_STACK_MAX = 3


def open_(ws: Workspace, p: Params) -> dict[str, Any]:
    """Open a modal; the trigger must be fresh and unused."""
    view = _checked_view(p)
    trigger = _exchange_trigger(ws, p)
    stored = _store(ws, view, trigger.user_id, root_view_id=None, previous_view_id=None)
    ws.modal_stacks[_stack_key(trigger)] = [stored.id]
    return {"view": stored.data}


def push(ws: Workspace, p: Params) -> dict[str, Any]:
    """Push a view onto the user's open modal; Slack keeps at most 3."""
    view = _checked_view(p)
    trigger = _exchange_trigger(ws, p)
    stack = ws.modal_stacks.setdefault(_stack_key(trigger), [])
    if len(stack) >= MODAL_STACK_MAX:
        raise SlackError("push_limit_reached")
    root = stack[0] if stack else None
    stored = _store(ws, view, trigger.user_id, root_view_id=root, previous_view_id=stack[-1] if stack else None)
    stack.append(stored.id)
    return {"view": stored.data}


def update(ws: Workspace, p: Params) -> dict[str, Any]:
    """Replace a view by view_id or external_id, honouring the optimistic-lock hash."""
    view = _checked_view(p)
    view_id, external_id = p.text("view_id"), p.text("external_id")
    if not view_id and not external_id:
        raise invalid_arguments("[ERROR] either view_id or external_id is required")
    stored = ws.views.get(view_id or "") or next(
        (v for v in ws.views.values() if external_id and v.data.get("external_id") == external_id), None
    )
    if stored is None:
        raise SlackError("not_found")
    _check_hash(p, stored)
    stored.data = _render(ws, view, stored.id, stored.data["root_view_id"], stored.data["previous_view_id"])
    return {"view": stored.data}


def publish(ws: Workspace, p: Params) -> dict[str, Any]:
    """Set a user's App Home tab (needs user_id; the view type must be `home`)."""
    user_id = p.text("user_id")
    if not user_id:
        raise invalid_arguments("[ERROR] missing required field: user_id [json-pointer:/user_id]")
    view = _checked_view(p, expected_type="home")
    if ws.active_user(user_id) is None:
        raise SlackError("user_not_found")
    current = next((v for v in ws.views.values() if v.user_id == user_id and v.data["type"] == "home"), None)
    if current is None:
        current = _store(ws, view, user_id, root_view_id=None, previous_view_id=None)
    else:
        _check_hash(p, current)
        current.data = _render(ws, view, current.id, current.id, None)
    return {"view": current.data}


def _checked_view(p: Params, *, expected_type: str | None = None) -> dict[str, Any]:
    """The `view` argument, or Slack's `invalid_arguments` with the reasons."""
    view = p.raw("view")
    if view is None:
        raise invalid_arguments("[ERROR] missing required field: view")
    errors = view_errors(view, expected_type=expected_type)
    if errors or not isinstance(view, dict):
        raise invalid_arguments(*errors)
    return view


def _exchange_trigger(ws: Workspace, p: Params) -> Trigger:
    """Use up a trigger_id, refusing unknown, expired and already used ones."""
    trigger_id = p.text("trigger_id")
    if not trigger_id:
        raise invalid_arguments("[ERROR] missing required field: trigger_id")
    trigger = ws.triggers.get(trigger_id)
    if trigger is None:
        raise invalid_arguments("invalid `trigger_id`")
    if trigger.used:
        raise SlackError("exchanged_trigger_id")
    if ws.clock() - trigger.created > trigger.ttl:
        raise SlackError("expired_trigger_id")
    trigger.used = True
    return trigger


def _stack_key(trigger: Trigger) -> str:
    """Modal stacks are per user; triggers minted without a user share one stack."""
    return trigger.user_id or ""


def _check_hash(p: Params, stored: StoredView) -> None:
    """`hash_conflict` when the caller's hash is stale."""
    sent_hash = p.text("hash")
    if sent_hash and sent_hash != stored.data["hash"]:
        raise SlackError("hash_conflict")


def _store(
    ws: Workspace, view: dict[str, Any], user_id: str | None, *, root_view_id: str | None, previous_view_id: str | None
) -> StoredView:
    """Record a new view under a fresh `V…` id."""
    external_id = view.get("external_id")
    if external_id and any(v.data.get("external_id") == external_id for v in ws.views.values()):
        raise SlackError("duplicate_external_id")
    view_id = ws.new_id("V")
    stored = StoredView(view_id, user_id, _render(ws, view, view_id, root_view_id or view_id, previous_view_id))
    ws.views[view_id] = stored
    return stored


def _render(
    ws: Workspace, view: dict[str, Any], view_id: str, root_view_id: str, previous_view_id: str | None
) -> dict[str, Any]:
    """The view as Slack returns it: what was sent plus ids, hash, state and defaults."""
    data = copy.deepcopy(view)
    data.update(
        {
            "id": view_id,
            "team_id": ws.team_id,
            "app_id": ws.app_id,
            "app_installed_team_id": ws.team_id,
            "bot_id": ws.bot_id,
            "root_view_id": root_view_id,
            "previous_view_id": previous_view_id,
            "hash": f"{ws.unix_now()}.{secrets.token_hex(4)}",
            "state": {"values": {}},
        }
    )
    for key, default in (("private_metadata", ""), ("callback_id", ""), ("external_id", "")):
        data.setdefault(key, default)
    for key in ("clear_on_close", "notify_on_close"):
        data.setdefault(key, False)
    for key in ("close", "submit"):
        data.setdefault(key, None)
    return data


HANDLERS: dict[str, Handler] = {
    "views.open": open_,
    "views.push": push,
    "views.update": update,
    "views.publish": publish,
}
