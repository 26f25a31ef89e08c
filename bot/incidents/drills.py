"""Drills: practice incidents for game days, and how far what they do may reach.

A drill runs the whole process in its own channel, and everything it posts or
sends starts with ``[DRILL]`` (:func:`bot.config.render.drill_labelled`). The
people an escalation calls in from outside that channel are not part of the
game unless the operator says so (``[drills] escalate = true``): by default a
drill's escalation says whom it would call, and calls nobody.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from storage.models import Incident


class DrillsConfig(BaseModel):
    """The ``[drills]`` table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    escalate: bool = Field(default=False, strict=True)
    """A drill's escalations notify (and invite) the people they name, labelled as a drill."""


def calls_people_in(drills: DrillsConfig, incident: Incident) -> bool:
    """Whether an escalation of this incident may mention and invite people from outside its channel."""
    return not incident.drill or drills.escalate
