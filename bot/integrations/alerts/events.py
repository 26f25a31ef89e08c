"""What a webhook delivery reports, in one shape whatever sent it.

The parsers (:mod:`bot.integrations.alerts.alertmanager`,
:mod:`bot.integrations.pagerduty.webhook`) are pure functions from a verified
body to an :class:`AlertEvent`; :mod:`bot.integrations.alerts.intake` decides
what it changes. A body that is not the documented shape is a
:class:`BadPayload` whose message says, in one line, what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

LINKS_MAX = 6
SENDERS = {"pagerduty": "PagerDuty", "alertmanager": "Alertmanager", "grafana": "Grafana"}
_Model = TypeVar("_Model", bound=BaseModel)
_NOT_AN_OBJECT = frozenset({"model_type", "dict_type", "model_attributes_type"})


class BadPayload(ValueError):
    """A delivery whose body is not what its sender documents; answered 400 and changing nothing."""


class Change(StrEnum):
    """What happened to the alert at its source."""

    FIRING = "firing"  # it fired (first, or again)
    ACKNOWLEDGED = "acknowledged"
    UNACKNOWLEDGED = "unacknowledged"
    REASSIGNED = "reassigned"  # escalated, reassigned or delegated to someone else
    RESOLVED = "resolved"
    REOPENED = "reopened"


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One delivery's news about one alert.

    ``key`` names the alert at its source, the same in every delivery about it;
    ``delivery`` names this delivery's content, the same when it is delivered
    again. ``severity_labels`` are the source's words for how bad it is (the
    alerts' ``severity`` labels, PagerDuty's urgency), mapped by the config.
    ``page_key`` is the ``dedup_key`` of the event that opened a PagerDuty
    incident, which tells the bot's own pages apart.
    """

    source: str
    key: str
    delivery: str
    change: Change
    title: str
    started_at: datetime
    severity_labels: tuple[str, ...] = ()
    details: str = ""
    links: tuple[Link, ...] = ()
    occurred_at: datetime | None = None
    actor: str | None = None
    assignees: tuple[str, ...] = ()
    firing: int = 1
    page_key: str | None = None


def sender(source: str) -> str:
    """The name people know a source by ("Alertmanager")."""
    return SENDERS.get(source, source)


def validated(model: type[_Model], data: Any, *, at: str = "") -> _Model:
    """``data`` (found at ``at`` in the body) as ``model``, or a :class:`BadPayload` naming the first
    problem and where it is."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join([*([at] if at else []), *(str(part) for part in first["loc"])]) or "the body"
        problem = "should be a JSON object" if first["type"] in _NOT_AN_OBJECT else first["msg"].lower()
        raise BadPayload(f"{where}: {problem}") from None


def web_links(candidates: list[tuple[str, str | None]]) -> tuple[Link, ...]:
    """The http(s) links among ``candidates``, each URL once, at most :data:`LINKS_MAX`."""
    seen: set[str] = set()
    links: list[Link] = []
    for text, url in candidates:
        if not url or not url.startswith(("https://", "http://")) or url in seen:
            continue
        seen.add(url)
        links.append(Link(text=text, url=url))
    return tuple(links[:LINKS_MAX])
