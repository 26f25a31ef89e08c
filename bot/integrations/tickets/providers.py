"""Choosing the configured tracker."""

from __future__ import annotations

from bot.context import BotContext
from bot.integrations.tickets.jira import JiraTracker
from bot.integrations.tickets.linear import LinearTracker
from bot.integrations.tickets.tracker import Tracker


def tracker_for(ctx: BotContext) -> Tracker:
    """The configured tracker over the shared HTTP session; only called where ``[tickets]`` is set."""
    config = ctx.config.tickets
    assert config is not None, "no [tickets] table"
    if config.provider == "jira":
        return JiraTracker(config, ctx.settings, ctx.http)
    return LinearTracker(config, ctx.settings, ctx.http)
