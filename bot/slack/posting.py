"""What Slack answers when a channel cannot take the bot's message."""

from __future__ import annotations

CHANNEL_UNUSABLE = frozenset({"channel_not_found", "not_in_channel", "is_archived",
                              "method_not_supported_for_channel_type"})
"""Slack's answers for a channel the bot cannot post in: a configuration problem to report, not retry."""
