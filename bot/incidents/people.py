"""Checking that a mentioned person can take part in an incident.

A mention typed by hand (or copied from another workspace) can name someone
who does not exist, has left, or is a bot; handing such an id a role or an
action item would leave nobody responsible, so it is refused up front.
"""

from __future__ import annotations

from bot.context import BotContext
from bot.errors import SlackCallFailed, UsageError

_UNKNOWN_USER_ERRORS = {"user_not_found", "user_not_visible", "invalid_user"}


async def require_person(ctx: BotContext, user_id: str, *, usage: str) -> str:
    """The person's name; refuses (with the right usage) anyone but an active human member."""
    try:
        user = await ctx.slack.user_info(user_id)
    except SlackCallFailed as exc:
        if exc.error not in _UNKNOWN_USER_ERRORS:
            raise
        raise UsageError(_refusal(user_id, "is not a member of this workspace", usage)) from None
    if user.get("deleted"):
        raise UsageError(_refusal(user_id, "has been deactivated", usage))
    if user.get("is_bot") or user.get("is_app_user"):
        raise UsageError(_refusal(user_id, "is a bot, not a person", usage))
    profile = user.get("profile") or {}
    return str(profile.get("display_name") or profile.get("real_name") or user.get("name") or user_id)


def _refusal(user_id: str, problem: str, usage: str) -> str:
    return f"`{user_id}` {problem}; nothing was changed. Mention a person with @.\nUsage: `{usage}`"
