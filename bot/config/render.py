"""Jinja2 rendering of every human-readable text the bot produces.

Three environments, one per output language, all sandboxed and all loading
from the operator's ``templates_dir`` first and the built-in templates second:

* ``slack``: mrkdwn. Every ``{{ value }}`` is escaped by ``finalize`` unless it
  is :class:`Markup` made by our own helpers (mentions, dates), so user text can
  never mention ``@channel`` or smuggle ``<!here>``.
* ``markdown``: documents such as the post-mortem; plain text.
* ``html``: the status page, with Jinja2's HTML autoescaping.

User text is only ever passed as data; nothing a user types becomes template source.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from bot.config.durations import format_duration
from bot.slack.mrkdwn import neutralise
from storage.severity import Severity


DRILL_LABEL = "[DRILL]"
LABELLED_APART = frozenset({"summary", "labels"})
"""Slack templates that are parts of the pinned summary, whose header carries the drill label."""


def mention(user_id: str | None) -> Markup:
    """A user (U…/W…) or user-group (S…) mention in Slack's syntax."""
    if not user_id:
        return Markup("nobody")
    if user_id.startswith("S"):
        return Markup(f"<!subteam^{neutralise(user_id)}>")
    return Markup(f"<@{neutralise(user_id)}>")


def channel_link(channel_id: str | None) -> Markup:
    return Markup(f"<#{neutralise(channel_id)}>") if channel_id else Markup("(no channel yet)")


def web_link(url: str | None, text: str) -> Markup:
    """A link to an outside page (http or https only); just the text when the address is unusable."""
    if not url or not url.startswith(("https://", "http://")) or "|" in url or any(c.isspace() for c in url):
        return Markup(neutralise(text))
    address = url.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Markup(f"<{address}|{neutralise(text)}>")


def slack_date(moment: datetime, fallback_tz: ZoneInfo) -> Markup:
    """A time Slack shows in each reader's own time zone, with a fallback in ours."""
    fallback = moment.astimezone(fallback_tz).strftime("%Y-%m-%d %H:%M %Z")
    return Markup(f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>")


def _slack_finalize(value: Any) -> Any:
    if isinstance(value, Markup) or value is None:
        return "" if value is None else value
    return neutralise(str(value))


class Renderer:
    """Renders named templates for Slack, Markdown and HTML with the configured time zone."""

    def __init__(self, *, timezone: ZoneInfo, override_dir: Path | None = None) -> None:
        loaders = [FileSystemLoader(str(override_dir))] if override_dir else []
        loader = ChoiceLoader([*loaders, PackageLoader("templates", ".")])
        self.timezone = timezone
        common: dict[str, Any] = {"loader": loader, "undefined": StrictUndefined,
                                  "trim_blocks": True, "lstrip_blocks": True,
                                  "keep_trailing_newline": False}
        self._slack = ImmutableSandboxedEnvironment(finalize=_slack_finalize, **common)
        self._markdown = ImmutableSandboxedEnvironment(**common)
        self._html = ImmutableSandboxedEnvironment(autoescape=select_autoescape(default=True), **common)
        for env in (self._slack, self._markdown, self._html):
            env.filters["duration"] = _duration
            env.filters["sev"] = lambda n: Severity.of(n).label
            env.filters["local"] = self.local_time
            env.globals["timezone_name"] = str(timezone)
        self._slack.filters["mention"] = mention
        self._slack.filters["channel"] = channel_link
        self._slack.filters["link"] = web_link
        self._slack.filters["date"] = lambda dt: slack_date(dt, timezone)
        self._markdown.filters["cell"] = markdown_cell  # post-mortem tables

    def local_time(self, moment: datetime | None) -> str:
        """A time in the configured zone, naming the zone (for documents)."""
        if moment is None:
            return "—"
        return moment.astimezone(self.timezone).strftime("%Y-%m-%d %H:%M %Z")

    def slack(self, name: str, **context: Any) -> str:
        """A Slack text; about a drill, it starts with the drill label, whatever it is and wherever it goes."""
        text = self._slack.get_template(f"slack/{name}.j2").render(**context).strip()
        return text if name in LABELLED_APART else drill_labelled(text, context.get("incident"))

    def markdown(self, name: str, **context: Any) -> str:
        return self._markdown.get_template(f"markdown/{name}.j2").render(**context)

    def html(self, name: str, **context: Any) -> str:
        return self._html.get_template(f"html/{name}.j2").render(**context)

    def status(self, name: str, **context: Any) -> str:
        """Public status texts and texts to copy (plain text; escaped wherever they are shown)."""
        return self._markdown.get_template(f"status/{name}.j2").render(**context).strip()


def drill_labelled(text: str, incident: Any) -> str:
    """``text`` with :data:`DRILL_LABEL` in front when it is about a drill, so practice is never taken for real."""
    if getattr(incident, "drill", False) is not True or text.startswith(DRILL_LABEL):
        return text
    return f"{DRILL_LABEL} {text}"


def markdown_cell(value: Any) -> str:
    """Text that stays inside one Markdown table cell: pipes escaped, line breaks as <br>."""
    text = "" if value is None else str(value)
    return "<br>".join(line.replace("|", "\\|") for line in text.strip().splitlines()) or " "


def _duration(value: timedelta | None) -> str:
    return "—" if value is None else format_duration(value)
