"""Who may see what: private incidents are for their members only."""

from __future__ import annotations

from collections.abc import Iterable

from storage.models import Incident


def members(incident: Incident, role_holders: Iterable[str]) -> set[str]:
    """The people the bot knows to be part of an incident."""
    return {incident.declared_by, *incident.responders, *role_holders}


def may_see(incident: Incident, viewer: str, role_holders: Iterable[str]) -> bool:
    """Public incidents are visible to all; private ones only to their members."""
    return not incident.private or viewer in members(incident, role_holders)
