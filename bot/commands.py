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

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_MENTION_ANYWHERE = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_SEVERITY = re.compile(r"^(?:sev)?-?\s*([0-9]+)$", re.IGNORECASE)
_DUE = re.compile(r"\s+due\s+(\S+)\s*$", re.IGNORECASE)

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
    severity: int


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


def _stats(rest: str) -> Request:
    if not rest:
        return Stats(days=30)
    if not rest.isdigit() or not 1 <= int(rest) <= 3650:
        raise ValueError(f"`{rest}` is not a number of days between 1 and 3650")
    return Stats(days=int(rest))


def _status(rest: str) -> Request:
    try:
        return SetPhase(phase=Phase(rest.lower()))
    except ValueError:
        raise ValueError(f"`{rest or '(nothing)'}` is not a phase") from None


def _severity(rest: str) -> Request:
    match = _SEVERITY.match(rest.strip())
    if not match or not 1 <= int(match.group(1)) <= 4:
        raise ValueError(f"`{rest or '(nothing)'}` is not a severity; use 1 to 4")
    return SetSeverity(severity=int(match.group(1)))


def _user(text: str) -> str:
    match = MENTION.match(text.strip())
    if not match:
        raise ValueError(f"`{text or '(nothing)'}` is not a user mention; type @ and pick someone")
    return match.group(1)


def _role(rest: str) -> Request:
    parts = rest.split(maxsplit=1)
    if len(parts) != 2:
        raise ValueError("needs a role and a person")
    role = ROLE_NAMES.get(parts[0].lower())
    if role is None:
        raise ValueError(f"`{parts[0]}` is not a role")
    return AssignRole(role=role, user_id=_user(parts[1]))


def _ic(rest: str) -> Request:
    return AssignRole(role=Role.IC, user_id=_user(rest))


def _note(rest: str) -> Request:
    if not rest.strip():
        raise ValueError("needs the text of the note")
    return AddNote(text=rest.strip())


def _timeline(rest: str) -> Request:
    if not rest:
        return ShowTimeline()
    if not rest.isdigit() or int(rest) < 1:
        raise ValueError(f"`{rest}` is not a page number")
    return ShowTimeline(page=int(rest))


def _action(rest: str) -> Request:
    done = re.match(r"^(?:done|close|complete)\s+#?(\d+)$", rest, re.IGNORECASE)
    if done:
        return CompleteAction(number=int(done.group(1)))
    due: date | None = None
    due_match = _DUE.search(rest)
    if due_match:
        try:
            due = date.fromisoformat(due_match.group(1))
        except ValueError:
            raise ValueError(f"`{due_match.group(1)}` is not a date; write it as YYYY-MM-DD") from None
        rest = rest[: due_match.start()]
    owner: str | None = None
    mentions = _MENTION_ANYWHERE.findall(rest)
    if mentions:
        owner = mentions[-1]
        rest = _MENTION_ANYWHERE.sub(" ", rest)
    text = " ".join(rest.split())
    if not text:
        raise ValueError("needs the text of the action item")
    return AddAction(text=text, owner=owner, due=due)


COMMANDS: dict[str, Subcommand] = {
    "help": Subcommand("/incident help", "show this help", lambda rest: Help(rest or None), False),
    "declare": Subcommand("/incident declare [title]", "declare a new incident", _declare, False),
    "list": Subcommand("/incident list", "list open incidents", _no_args(ListIncidents()), False),
    "stats": Subcommand("/incident stats [days]", "response metrics for the last N days (default 30)", _stats, False),
    "status": Subcommand("/incident status <investigating|identified|monitoring|resolved>", "change the phase", _status, True),
    "sev": Subcommand("/incident sev <1-4>", "change the severity", _severity, True),
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
_GLUED_SEVERITY = re.compile(r"^sev-?([0-9]+)$", re.IGNORECASE)


def parse(text: str) -> tuple[Subcommand, Request]:
    """Turn the text after ``/incident`` into a request, or raise UsageError."""
    stripped = text.strip()
    if not stripped:
        return COMMANDS["help"], Help()
    word, _, rest = stripped.partition(" ")
    rest = rest.strip()
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
