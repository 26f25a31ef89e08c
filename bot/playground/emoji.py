"""Emoji shortcodes as Slack shows them: the ones the bot's messages use, and a few common ones.

A shortcode not listed stays as typed (``:party_parrot:``), as a custom emoji the
workspace lacks would in Slack.
"""

from __future__ import annotations

import re

EMOJI: dict[str, str] = {
    "alarm_clock": "⏰",
    "arrow_down": "⬇️",
    "arrow_up": "⬆️",
    "arrows_counterclockwise": "🔄",
    "ballot_box_with_check": "☑️",
    "bar_chart": "📊",
    "bell": "🔔",
    "bust_in_silhouette": "👤",
    "busts_in_silhouette": "👥",
    "calendar": "📆",
    "clipboard": "📋",
    "eyes": "👀",
    "fast_forward": "⏩",
    "file_cabinet": "🗄️",
    "fire": "🔥",
    "hourglass": "⌛",
    "information_source": "ℹ️",
    "link": "🔗",
    "lock": "🔒",
    "loudspeaker": "📢",
    "mag": "🔍",
    "memo": "📝",
    "no_entry": "⛔",
    "pushpin": "📌",
    "red_circle": "🔴",
    "rotating_light": "🚨",
    "spiral_note_pad": "🗒️",
    "test_tube": "🧪",
    "thumbsup": "👍",
    "+1": "👍",
    "warning": "⚠️",
    "white_check_mark": "✅",
    "white_square": "⬜",
    "x": "❌",
    "zzz": "💤",
}

_SHORTCODE = re.compile(r":([a-z0-9_+'-]+):")


def emojize(text: str) -> str:
    """Replace known shortcodes with their emoji."""
    return _SHORTCODE.sub(lambda match: EMOJI.get(match[1], match[0]), text)
