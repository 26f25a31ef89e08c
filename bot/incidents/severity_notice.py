"""Telling the whole organisation when an incident gets more severe.

Escalations matter beyond the incident channel (more people may be needed,
stakeholders expect to hear); de-escalations do not, and private incidents
and drills are never announced publicly.
"""

from __future__ import annotations

from storage.models import Incident


def is_escalation(old: int, new: int) -> bool:
    """SEV-1 is the most severe, so a smaller number is an escalation."""
    return new < old


def should_announce(incident: Incident, *, old: int) -> bool:
    return (is_escalation(old, incident.severity) and incident.is_open
            and not incident.private and not incident.drill)
