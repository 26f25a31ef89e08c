"""The ``[pagerduty]`` table and PagerDuty's secrets, checked in full at start-up.

Paging out needs the Events API v2 integration key; reading PagerDuty's
webhooks needs the V3 subscription's signing secret. Each is required only
by the half of the table that uses it: ``page_severities = []`` pages nobody,
``declare = "off"`` ignores PagerDuty's incidents.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from bot.config.fields import HttpUrl
from bot.integrations.alerts.config import DeclareChoice, SeverityName
from storage.models import Incident
from storage.severity import Severity

Urgency = Literal["high", "low"]
DEFAULT_URGENCY_MAP = {"high": Severity.SEV2, "low": Severity.SEV3}


class PagerDutyConfig(BaseModel):
    """Who gets paged for which incidents, and what PagerDuty's own incidents do here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    events_url: HttpUrl = "https://events.pagerduty.com/v2/enqueue"
    page_severities: list[SeverityName] = Field(default_factory=lambda: [Severity.SEV1, Severity.SEV2])
    page_drills: bool = False
    page_private: bool = False
    declare: DeclareChoice = "button"
    severity_for_urgency: dict[Urgency, SeverityName] = Field(default_factory=lambda: dict(DEFAULT_URGENCY_MAP))

    @field_validator("severity_for_urgency", mode="before")
    @classmethod
    def _over_defaults(cls, value: object) -> object:
        """A table naming only ``high`` keeps the default for ``low``."""
        return {**DEFAULT_URGENCY_MAP, **value} if isinstance(value, Mapping) else value

    def pages(self, incident: Incident) -> bool:
        """Whether an incident like this one, at its severity now, pages the on-call."""
        return (incident.severity in self.page_severities
                and (self.page_drills or not incident.drill)
                and (self.page_private or not incident.private))

    def severity_of(self, urgency: str) -> Severity:
        """The severity a PagerDuty incident of this urgency is declared at."""
        return self.severity_for_urgency.get(urgency, Severity.SEV3)  # type: ignore[call-overload]


class PagerDutySecrets(BaseModel):
    """PagerDuty's secrets, from the environment only (variable names as aliases)."""

    pagerduty_routing_key: SecretStr | None = Field(default=None, validation_alias="PAGERDUTY_ROUTING_KEY")
    pagerduty_webhook_secret: SecretStr | None = Field(default=None, validation_alias="PAGERDUTY_WEBHOOK_SECRET")


def missing_secrets(config: PagerDutyConfig | None, secrets: PagerDutySecrets) -> list[str]:
    """The variables the ``[pagerduty]`` table needs and the environment does not have."""
    if config is None:
        return []
    missing = []
    if config.page_severities and secrets.pagerduty_routing_key is None:
        missing.append("PAGERDUTY_ROUTING_KEY")
    if config.declare != "off" and secrets.pagerduty_webhook_secret is None:
        missing.append("PAGERDUTY_WEBHOOK_SECRET")
    return missing
