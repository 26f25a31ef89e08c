"""Slack's mrkdwn as safe HTML, for the person reading it.

Mentions show names (``<@U1>`` → ``@isabel``), channel mentions link to the channel
when the reader may see it, ``<!date^…>`` shows the time in the reader's own zone, and
*bold*, _italics_, ~strike~, `code`, ```blocks```, links and quotes look as in Slack.
Text arrives with Slack's escaping (``&amp;``, ``&lt;``, ``&gt;``); every piece is
unescaped and then HTML-escaped, so nothing in a message can become markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from bot.playground.emoji import emojize

_PRE = re.compile(r"```\n?(.*?)```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_TOKEN = re.compile(r"<([^<>\n]+)>")
_PLACE = re.compile(r"\x00(\d+)\x00")
_EMPHASIS = (
    (re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])"), "strong"),
    (re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])"), "em"),
    (re.compile(r"(?<![\w~])~(?!\s)([^~\n]+?)(?<!\s)~(?![\w~])"), "del"),
)
_DATE_TOKEN = re.compile(r"\{(\w+)\}")
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}
_PRETTY_DAYS = {-1: "yesterday", 0: "today", 1: "tomorrow"}


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads: the names they see for people, channels and groups, and their time zone."""

    tz: ZoneInfo
    now: datetime
    users: Mapping[str, str]
    channels: Mapping[str, str]
    """Channels this reader may open, by id; any other channel shows as private."""
    groups: Mapping[str, str]


def plain(text: str, *, emoji: bool = True) -> Markup:
    """A plain_text object's text: escaped, with emoji shortcodes shown as emoji."""
    return Markup(emojize(str(escape(text)))) if emoji else escape(text)


def to_html(text: str, reader: Reader) -> Markup:
    """A mrkdwn text as HTML for this reader."""
    kept: list[Markup] = []

    def keep(html: Markup) -> str:
        kept.append(html)
        return f"\x00{len(kept) - 1}\x00"

    text = text.replace("\x00", "")
    text = _PRE.sub(lambda m: keep(Markup("<pre>{}</pre>").format(_unescape(m[1]))), text)
    text = _CODE.sub(lambda m: keep(Markup("<code>{}</code>").format(_unescape(m[1]))), text)
    text = _TOKEN.sub(lambda m: keep(_token(m[1], reader)), text)
    html = _lines(text)
    return Markup(_PLACE.sub(lambda m: str(kept[int(m[1])]), html))


def _lines(text: str) -> str:
    """Escaped, emphasised lines joined with <br>; runs of `>` lines become one blockquote."""
    out: list[str] = []
    quote: list[str] = []
    for line in text.split("\n"):
        if line.startswith(("&gt;", ">")):
            quote.append(_inline(line.removeprefix("&gt;").removeprefix(">").removeprefix(" ")))
            continue
        if quote:
            out.append("<blockquote>" + "<br>".join(quote) + "</blockquote>")
            quote = []
        out.append(_inline(line) + "<br>")
    if quote:
        out.append("<blockquote>" + "<br>".join(quote) + "</blockquote>")
    return "".join(out).removesuffix("<br>")


def _inline(line: str) -> str:
    html = emojize(str(escape(_unescape(line))))
    for pattern, tag in _EMPHASIS:
        html = pattern.sub(lambda m, tag=tag: f"<{tag}>{m[1]}</{tag}>", html)
    return html


def _unescape(text: str) -> str:
    """Undo Slack's escaping of &, < and >."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _token(inner: str, reader: Reader) -> Markup:
    """One ``<…>`` token: a mention, a special mention, a date or a link."""
    target, _, label = inner.partition("|")
    label = _unescape(label)
    if target.startswith("@"):
        user_id = target[1:]
        name = reader.users.get(user_id) or label or user_id
        return Markup('<span class="mention" data-user="{}">@{}</span>').format(user_id, name)
    if target.startswith("#"):
        channel_id = target[1:]
        name = reader.channels.get(channel_id)
        if name is None:
            return Markup('<span class="mention">🔒 private channel</span>')
        return Markup('<a class="mention" href="/?at={0}" data-channel="{0}">#{1}</a>').format(channel_id, name)
    if target.startswith("!"):
        return _special(target[1:], label, reader)
    url = _unescape(target)
    if url.startswith(_LINK_SCHEMES):
        return Markup('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>').format(url, label or url)
    return escape(label or url)


def _special(command: str, label: str, reader: Reader) -> Markup:
    """``<!here>``, ``<!subteam^S1>``, ``<!date^…>``."""
    name, _, rest = command.partition("^")
    if name in _SPECIAL:
        return Markup('<span class="mention">{}</span>').format(_SPECIAL[name])
    if name == "subteam":
        handle = reader.groups.get(rest)
        shown = f"@{handle}" if handle else (label or "@group")
        return Markup('<span class="mention">{}</span>').format(shown)
    if name == "date":
        return _date_token(rest, label, reader)
    return escape(label)


def _date_token(spec: str, fallback: str, reader: Reader) -> Markup:
    """``<!date^1700000000^{date_short_pretty} {time}^optional-link|fallback>``."""
    parts = spec.split("^")
    try:
        stamp = int(parts[0])
        moment = datetime.fromtimestamp(stamp, reader.tz)
    except (ValueError, OverflowError, OSError):
        return escape(fallback)
    shown = format_date(moment, parts[1] if len(parts) > 1 else "{date_short} {time}", reader.now)
    full = f"{format_date(moment, '{date_long} {time}', reader.now)} ({reader.tz.key})"
    return Markup('<time datetime="{}" title="{}">{}</time>').format(moment.isoformat(), full, shown)


def format_date(moment: datetime, template: str, now: datetime) -> str:
    """Slack's date tokens ({date_num}, {date}, {date_short}, {date_long}, their _pretty forms,
    {time}, {time_secs}, {ago}) for a moment already in the reader's zone."""
    day = f"{moment:%B} {_ordinal(moment.day)}, {moment.year}"
    days_away = (moment.date() - now.astimezone(moment.tzinfo).date()).days
    near = _PRETTY_DAYS.get(days_away)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    values = {
        "date_num": f"{moment:%Y-%m-%d}",
        "date": day,
        "date_short": f"{moment:%b} {moment.day}, {moment.year}",
        "date_long": f"{moment:%A}, {day}",
        "time": f"{hour}:{moment:%M} {half}",
        "time_secs": f"{hour}:{moment:%M:%S} {half}",
        "ago": _ago(moment, now),
    }
    for name in ("date", "date_short", "date_long"):
        values[f"{name}_pretty"] = near or values[name]
    shown = _DATE_TOKEN.sub(lambda m: values.get(m[1], m[0]), template)
    return shown[:1].upper() + shown[1:]


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _ago(moment: datetime, now: datetime) -> str:
    seconds = int((now - moment).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86_400, "day"), (3_600, "hour"), (60, "minute")):
        if seconds >= size:
            count = seconds // size
            amount = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {amount}" if future else f"{amount} ago"
    return "just now"
