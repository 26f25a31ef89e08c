"""The page's HTML, from the Jinja2 templates in ``templates/playground/``.

Block Kit is laid out by template macros (``blocks.html.j2``, ``inputs.html.j2``); the
texts inside come through filters that read the current reader from the template
context, so mentions and ``<!date^…>`` are shown for whoever is acting. Autoescaping is
on and message texts are data: nothing a person or the bot writes becomes markup.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from importlib import resources
from typing import Any

from jinja2 import ChainableUndefined, PackageLoader, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup

from bot.local_slack.state import Workspace
from bot.playground import forms, mrkdwn, screen
from bot.playground.acting import Actor
from bot.playground.team import part_of

STATIC = {"playground.js": "text/javascript", "playground.css": "text/css"}
SHORTCUTS = (("add_to_timeline", "Add to incident timeline"),)
"""The app's message shortcuts (callback_id, name), as manifest.yml declares them."""
REACTION = "pushpin"


def static_file(name: str) -> bytes:
    """The page's script or stylesheet, shipped beside its templates."""
    return resources.files("templates").joinpath("playground", name).read_bytes()


def static_version() -> str:
    """Changes with the script and stylesheet, so a browser never runs an old script against a new server."""
    digest = hashlib.sha256(b"".join(static_file(name) for name in STATIC))
    return digest.hexdigest()[:12]


@pass_context
def _text(context: Context, obj: Any) -> Markup:
    """A Block Kit text object: mrkdwn for the reader, or plain text with emoji."""
    if not isinstance(obj, dict):
        return mrkdwn.plain(str(obj or ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn.to_html(str(obj.get("text", "")), context["reader"])
    return mrkdwn.plain(str(obj.get("text", "")), emoji=obj.get("emoji", True) is not False)


@pass_context
def _mrkdwn(context: Context, text: str) -> Markup:
    return mrkdwn.to_html(text or "", context["reader"])


@pass_context
def _clock(context: Context, ts: str) -> str:
    """A message's time in the reader's zone ("2:05 PM")."""
    reader: mrkdwn.Reader = context["reader"]
    return mrkdwn.format_date(datetime.fromtimestamp(float(ts), reader.tz), "{time}", reader.now)


@pass_context
def _full_time(context: Context, ts: str) -> str:
    reader: mrkdwn.Reader = context["reader"]
    moment = datetime.fromtimestamp(float(ts), reader.tz)
    return f"{mrkdwn.format_date(moment, '{date_long} {time_secs}', reader.now)} ({reader.tz.key})"


@pass_context
def _datetime_local(context: Context, stamp: Any) -> str:
    """A Unix time as an <input type=datetime-local> value in the reader's zone ("" when unset)."""
    if stamp in (None, ""):
        return ""
    return datetime.fromtimestamp(int(stamp), context["reader"].tz).strftime("%Y-%m-%dT%H:%M")


def _iso(ts: str) -> str:
    return datetime.fromtimestamp(float(ts)).astimezone().isoformat()


class Pages:
    """Renders the page and its parts for one person at a time."""

    def __init__(self) -> None:
        self._env = ImmutableSandboxedEnvironment(
            loader=PackageLoader("templates", "."),
            autoescape=True,
            undefined=ChainableUndefined,  # Block Kit leaves most fields out: missing means empty
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(text=_text, mrkdwn=_mrkdwn, clock=_clock, full_time=_full_time, iso=_iso,
                                 datetime_local=_datetime_local,
                                 plain=mrkdwn.plain)
        self._env.globals.update(shortcuts=SHORTCUTS, reaction=REACTION, options_of=forms.options_of,
                                 part_of=part_of, initials=screen.initials, home=screen.HOME)
        self.version = static_version()

    def render(self, name: str, **context: Any) -> str:
        return self._env.get_template(f"playground/{name}").render(**context)

    def screen(self, ws: Workspace, actor: Actor, user_id: str, place: str, now: datetime) -> dict[str, Any]:
        """Everything the page shows this person at `place`, as HTML parts the script puts in place."""
        reader = screen.reader_for(ws, user_id, now)
        common = {"reader": reader, "viewer": ws.users[user_id], "at": place}
        parts: dict[str, Any] = {
            "as": user_id,
            "at": place,
            "nav": self.render("nav.html.j2", **common, **screen.sidebar(ws, user_id)),
            "modal": self._modal(ws, actor, user_id, common),
        }
        if place == screen.HOME:
            parts.update(title="Home", composer=None, items=[],
                         header=self.render("home.html.j2", **common, view=screen.home_view(ws, user_id)))
            return parts
        channel = ws.channels[place]
        items = screen.items_in(ws, channel, user_id, actor.notices)
        parts.update(
            title=f"#{channel.name}",
            composer=None if channel.is_archived else f"Message #{channel.name}",
            header=self.render("header.html.j2", **common, channel=channel),
            items=[{"key": item.key, "html": self.render("message.html.j2", **common, item=item)} for item in items],
        )
        return parts

    def _modal(self, ws: Workspace, actor: Actor, user_id: str, common: dict[str, Any]) -> dict[str, str] | None:
        found = screen.modal_of(ws, user_id, actor.problems.get(user_id))
        if found is None:
            return None
        view, problems = found
        html = self.render("modal.html.j2", **common, view=view, people=screen.people(ws),
                           values=problems.values if problems else {}, errors=problems.errors if problems else {})
        return {"key": hashlib.sha256(html.encode()).hexdigest()[:16], "html": html}
