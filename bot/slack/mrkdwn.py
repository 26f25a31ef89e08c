"""Making user text safe to post in Slack.

Slack treats ``<`` ``>`` ``&`` as control characters (``<!channel>``,
``<!subteam^S1>``, ``<@U1>``, links), and with ``link_names`` plain
``@channel``/``@here``/``@everyone`` ping everyone. User text is escaped and
those words get a zero-width space after the ``@`` so they read the same but
never notify.
"""

import re

_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_ZWSP = "\u200b"


def neutralise(text: str) -> str:
    """User text as Slack mrkdwn that can mention nobody and link nothing by surprise."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: "@" + _ZWSP + m.group(1), escaped)


def unescape(text: str) -> str:
    """Slack's own escaping undone (``&amp;`` ``&lt;`` ``&gt;``), for message text kept as data.

    Slack sends message text with those three characters escaped; kept as they
    arrive, they would be escaped again when shown and read ``&amp;amp;``.
    """
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def truncate(text: str, limit: int) -> str:
    """Cut text to a Slack field limit, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
