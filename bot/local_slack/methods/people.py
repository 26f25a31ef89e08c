"""auth.test, users.* and usergroups.* methods: who the bot and the members are."""

from __future__ import annotations

from typing import Any

from ..params import Params, SlackError
from ..shapes import user_json
from ..state import Workspace
from .common import Handler


def auth_test(ws: Workspace, p: Params) -> dict[str, Any]:
    """Identity of the bot token (Bolt calls this at start-up)."""
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_name,
        "user": ws.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "app_id": ws.app_id,
        "is_enterprise_install": False,
    }


def users_info(ws: Workspace, p: Params) -> dict[str, Any]:
    """One user, deactivated ones included (with `deleted: true`)."""
    user = ws.users.get(p.text("user") or "")
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user_json(ws, user)}


def users_lookup_by_email(ws: Workspace, p: Params) -> dict[str, Any]:
    """The active user with this e-mail; Slack's error is the plural `users_not_found`."""
    email = (p.text("email") or "").lower()
    user = next((u for u in ws.users.values() if u.email.lower() == email and not u.deleted), None)
    if user is None:
        raise SlackError("users_not_found")
    return {"user": user_json(ws, user)}


def usergroups_users_list(ws: Workspace, p: Params) -> dict[str, Any]:
    """Member ids of a user group."""
    group = ws.usergroups.get(p.text("usergroup") or "")
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group.users)}


HANDLERS: dict[str, Handler] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "usergroups.users.list": usergroups_users_list,
}
