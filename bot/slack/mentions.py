"""User text shown in Slack with the people it mentions still mentioned.

Slash-command text arrives with mentions as ``<@U123|name>``. Escaping all of
it (:func:`bot.slack.mrkdwn.neutralise`) would show that syntax literally, so after
escaping, plain user mentions alone are turned back into Slack's syntax:
broadcasts (``<!channel>``), user groups and links stay inert.
"""

from __future__ import annotations

import re

from markupsafe import Markup

from bot.slack.mrkdwn import neutralise

_ESCAPED_USER_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]+)(?:\|[^&<>]*)?&gt;")


def with_mentions(text: str) -> Markup:
    """Escaped user text in which only ``<@U…>`` mentions work."""
    return Markup(_ESCAPED_USER_MENTION.sub(lambda m: f"<@{m.group(1)}>", neutralise(text)))
