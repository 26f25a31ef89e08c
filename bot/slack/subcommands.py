"""Parsing ``/incident`` text into a typed request.

One table maps each subcommand (and its aliases) to a small pure parser and
its usage line. Parsers never touch Slack or the database; anything malformed
raises :class:`UsageError` carrying the right usage, and nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.errors import UsageError
from storage.models import Phase, Role
from storage.severity import Severity

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_NUMBER = re.compile(r"^[0-9]{1,6}$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_TRAILING_MENTION = re.compile(r"\s*(<@[UW][A-Z0-9]+(?:\|[^>]*)?>)$")
_TRAILING_DUE = re.compile(r"(?:^|\s+)due\s+(\S+)$", re.IGNORECASE)
_CLOSE_ACTION = re.compile(r"^(?:done|close|complete)\s+#?([0-9]{1,6})$", re.IGNORECASE)
NOTE_MAX = 3000
ACTION_TEXT_MAX = 500

ROLE_NAMES: dict[str, Role] = {
    "ic": Role.IC, "commander": Role.IC, "incident-commander": Role.IC,
    "tech": Role.TECH, "tl": Role.TECH, "lead": Role.TECH,
    "comms": Role.COMMS, "communications": Role.COMMS,
    "scribe": Role.SCRIBE,
}


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class Declare:
    title: str


@dataclass(frozen=True, slots=True)
class ListIncidents:
    pass


@dataclass(frozen=True, slots=True)
class Stats:
    days: int


@dataclass(frozen=True, slots=True)
class SetPhase:
    phase: Phase


@dataclass(frozen=True, slots=True)
class SetSeverity:
    severity: Severity


@dataclass(frozen=True, slots=True)
class AssignRole:
    role: Role
    user_id: str


@dataclass(frozen=True, slots=True)
class OpenUpdate:
    pass


@dataclass(frozen=True, slots=True)
class AddNote:
    text: str


@dataclass(frozen=True, slots=True)
class ShowTimeline:
    page: int = 1


@dataclass(frozen=True, slots=True)
class AddAction:
    text: str
    owner: str | None
    due: date | None


@dataclass(frozen=True, slots=True)
class CompleteAction:
    number: int


@dataclass(frozen=True, slots=True)
class OpenResolve:
    pass


@dataclass(frozen=True, slots=True)
class Reopen:
    pass


@dataclass(frozen=True, slots=True)
class Postmortem:
    pass


Request = (
    Help | Declare | ListIncidents | Stats | SetPhase | SetSeverity | AssignRole | OpenUpdate
    | AddNote | ShowTimeline | AddAction | CompleteAction | OpenResolve | Reopen | Postmortem
)


@dataclass(frozen=True, slots=True)
class Subcommand:
    """One row of the command table."""

    usage: str
    summary: str
    parse: Callable[[str], Request]
    in_channel: bool


def _no_args(request: Request) -> Callable[[str], Request]:
    def parse(rest: str) -> Request:
        if rest:
            raise ValueError("takes no arguments")
        return request
    return parse


def _declare(rest: str) -> Request:
    return Declare(title=rest)


def _number(text: str) -> int | None:
    """A plain ASCII number of a sensible size (``int()`` would also take ``²`` or ``٣``)."""
    return int(text) if _NUMBER.match(text) else None


def _stats(rest: str) -> Request:
    if not rest:
        return Stats(days=30)
    days = _number(rest)
    if days is None or not 1 <= days <= 3650:
        raise ValueError(f"`{_short(rest)}` is not a number of days between 1 and 3650")
    return Stats(days=days)


def _status(rest: str) -> Request:
    try:
        return SetPhase(phase=Phase(rest.lower()))
    except ValueError:
        raise ValueError(f"`{_short(rest) or '(nothing)'}` is not a phase") from None


def _severity(rest: str) -> Request:
    try:
        return SetSeverity(severity=Severity.parse(rest))
    except ValueError:
        raise ValueError(
            f"`{_short(rest) or '(nothing)'}` is not a severity; use {min(Severity)} to {max(Severity)}"
        ) from None


def _user(text: str) -> str:
    match = MENTION.match(text.strip())
    if not match:
        raise ValueError(f"`{_short(text) or '(nothing)'}` is not a user mention; type @ and pick someone")
    return match.group(1)


def _role(rest: str) -> Request:
    parts = rest.split(maxsplit=1)
    if len(parts) != 2:
        raise ValueError("needs a role and a person")
    role = ROLE_NAMES.get(parts[0].lower())
    if role is None:
        raise ValueError(f"`{_short(parts[0])}` is not a role")
    return AssignRole(role=role, user_id=_user(parts[1]))


def _ic(rest: str) -> Request:
    return AssignRole(role=Role.IC, user_id=_user(rest))


def _note(rest: str) -> Request:
    text = rest.strip()
    if not text:
        raise ValueError("needs the text of the note")
    if len(text) > NOTE_MAX:
        raise ValueError(f"is too long ({len(text)} characters; at most {NOTE_MAX})")
    return AddNote(text=text)


def _timeline(rest: str) -> Request:
    if not rest:
        return ShowTimeline()
    page = _number(rest)
    if page is None or page < 1:
        raise ValueError(f"`{_short(rest)}` is not a page number")
    return ShowTimeline(page=page)


def _due_date(text: str) -> date:
    """YYYY-MM-DD exactly (``date.fromisoformat`` would also take ``20250301`` or week dates)."""
    if _ISO_DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"has `{_short(text)}` as the due date, which is not a date; write it as YYYY-MM-DD")


def _action(rest: str) -> Request:
    """``done <n>`` closes an item; otherwise text, then an optional owner and due date, in either order.

    Only a trailing mention is the owner, so people named inside the text stay in it.
    """
    close = _CLOSE_ACTION.match(rest)
    if close:
        return CompleteAction(number=int(close.group(1)))
    words = rest.split(maxsplit=1)
    if words and words[0].lower() == "done":
        raise ValueError("done needs the number of the action item, e.g. `/incident action done 2`")
    owner: str | None = None
    due: date | None = None
    while True:
        mention = _TRAILING_MENTION.search(rest) if owner is None else None
        due_match = _TRAILING_DUE.search(rest) if due is None else None
        if mention:
            owner = _user(mention.group(1))
            rest = rest[: mention.start()]
        elif due_match:
            due = _due_date(due_match.group(1))
            rest = rest[: due_match.start()]
        else:
            break
    text = " ".join(rest.split())
    if not text:
        raise ValueError("needs the text of the action item")
    if len(text) > ACTION_TEXT_MAX:
        raise ValueError(f"text is too long ({len(text)} characters; at most {ACTION_TEXT_MAX})")
    return AddAction(text=text, owner=owner, due=due)


COMMANDS: dict[str, Subcommand] = {
    "help": Subcommand("/incident help", "show this help", lambda rest: Help(rest or None), False),
    "declare": Subcommand("/incident declare [title]", "declare a new incident", _declare, False),
    "list": Subcommand("/incident list", "list open incidents", _no_args(ListIncidents()), False),
    "stats": Subcommand("/incident stats [days]", "response metrics for the last N days (default 30)", _stats, False),
    "status": Subcommand("/incident status <investigating|identified|monitoring|resolved>", "change the phase", _status, True),
    "sev": Subcommand(f"/incident sev <{min(Severity)}-{max(Severity)}>", "change the severity", _severity, True),
    "role": Subcommand("/incident role <ic|tech|comms|scribe> @user", "assign a role", _role, True),
    "ic": Subcommand("/incident ic @user", "hand over incident command", _ic, True),
    "update": Subcommand("/incident update", "post a status update", _no_args(OpenUpdate()), True),
    "note": Subcommand("/incident note <text>", "add a note to the timeline", _note, True),
    "timeline": Subcommand("/incident timeline [page]", "show the timeline", _timeline, True),
    "action": Subcommand("/incident action <text> [@owner] [due YYYY-MM-DD] | action done <n>", "add or close a follow-up action item", _action, True),
    "resolve": Subcommand("/incident resolve", "resolve the incident", _no_args(OpenResolve()), True),
    "reopen": Subcommand("/incident reopen", "reopen a resolved incident", _no_args(Reopen()), True),
    "postmortem": Subcommand("/incident postmortem", "(re)generate the post-mortem document", _no_args(Postmortem()), True),
}

ALIASES = {"severity": "sev", "phase": "status", "pm": "postmortem", "ls": "list", "new": "declare"}
_GLUED_SEVERITY = re.compile(r"^sev(?:erity)?-?([0-9]+)$", re.IGNORECASE)


def parse(text: str) -> tuple[Subcommand, Request]:
    """Turn the text after ``/incident`` into a request, or raise UsageError."""
    stripped = text.strip()
    if not stripped:
        return COMMANDS["help"], Help()
    word, *more = stripped.split(maxsplit=1)
    rest = more[0].strip() if more else ""
    name = word.lower()
    glued = _GLUED_SEVERITY.match(name)
    if glued:
        name, rest = "sev", (glued.group(1) + (" " + rest if rest else "")).strip()
    name = ALIASES.get(name, name)
    subcommand = COMMANDS.get(name)
    if subcommand is None:
        raise UsageError(f"`{_short(word)}` is not an /incident subcommand.")
    try:
        return subcommand, subcommand.parse(rest)
    except ValueError as exc:
        raise UsageError(f"`/incident {name}` {exc}.\nUsage: `{subcommand.usage}`") from None


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
