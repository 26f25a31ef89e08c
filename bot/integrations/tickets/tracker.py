"""What the bot asks of a tracker, whichever it is: open, find, update and close tickets.

:mod:`bot.integrations.tickets.jira` and :mod:`bot.integrations.tickets.linear`
implement it over each tracker's own API; the performers
(:mod:`bot.integrations.tickets.work`) only speak this interface. Every
method makes one attempt and raises :class:`bot.errors.ServiceCallFailed`
when it does not go through (transient when trying later may help).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True, slots=True)
class TicketSpec:
    """A ticket as the bot wants it; ``marker`` lets a retry find the ticket an earlier attempt opened.

    ``incident_label`` is the incident's reference (INC-42), put on every
    ticket of the incident so a team can list them together; ``is_incident``
    marks the incident's own ticket (labelled ``incident``). ``severity`` is
    the incident's, for trackers with a matching priority.
    """

    title: str
    description: str
    marker: str
    incident_label: str
    is_incident: bool = False
    severity: int | None = None
    due: date | None = None
    assignee: str | None = None


@dataclass(frozen=True, slots=True)
class Ticket:
    """An opened ticket: the tracker's own id, the key people say (OPS-12) and its page."""

    id: str
    key: str
    url: str


class Tracker(Protocol):
    """One tracker's API, as far as the incident process needs it."""

    name: str
    """How responders call it: "Jira", "Linear"."""

    async def find_person(self, email: str) -> str | None:
        """The tracker's id of the person with this e-mail address, or None when it does not know them."""

    async def open(self, spec: TicketSpec) -> Ticket:
        """Open a ticket."""

    async def find_opened(self, spec: TicketSpec) -> Ticket | None:
        """The ticket an earlier, interrupted attempt opened for ``spec``, if any."""

    async def update(self, ticket: Ticket, spec: TicketSpec) -> None:
        """Bring a ticket's title, description and severity up to date."""

    async def close(self, ticket: Ticket) -> None:
        """Move a ticket to done (nothing happens when it is done already)."""

