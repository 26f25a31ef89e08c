"""The ``[alerts]`` table (Alertmanager and Grafana) and what it shares with ``[pagerduty]``.

Severities are written as people write them ("SEV-1"); a typo stops start-up
with the key named, so an alert never meets a mapping that cannot be used.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
)

from bot.config.problems import show
from storage.severity import Severity

DeclareMode = Literal["auto", "button", "off"]
"""What an alert that fires does: declare by itself, ask in the announcements channel, or nothing."""

DECLARE_MODES = ("auto", "button", "off")


def _severity(value: object) -> Severity:
    if isinstance(value, Severity):
        return value
    if isinstance(value, str):
        try:
            return Severity.parse(value)
        except ValueError:
            pass
    raise ValueError(f'{show(value)} is not a severity; write one of "SEV-1", "SEV-2", "SEV-3", "SEV-4"')


def _declare_mode(value: object) -> object:
    if value not in DECLARE_MODES:
        raise ValueError(f'{show(value)} is not a choice here; use "auto", "button" or "off"')
    return value


SeverityName = Annotated[Severity, BeforeValidator(_severity)]
DeclareChoice = Annotated[DeclareMode, BeforeValidator(_declare_mode)]


class AlertsConfig(BaseModel):
    """Alertmanager's (or Grafana's) webhook: which alerts declare, and at which severity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    declare: DeclareChoice = "button"
    severity_for_label: dict[str, SeverityName] = Field(
        default_factory=lambda: {"critical": Severity.SEV1, "warning": Severity.SEV3})
    default_severity: SeverityName = Severity.SEV3

    @field_validator("severity_for_label")
    @classmethod
    def _labels_ignore_case(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        """``critical``, ``Critical`` and ``CRITICAL`` are the same label value to people."""
        return {label.strip().lower(): severity for label, severity in value.items()}

    def severity_of(self, label: str | None) -> Severity | None:
        """The severity an alert's ``severity`` label maps to; None when it maps to nothing."""
        return self.severity_for_label.get((label or "").strip().lower())


class AlertsSecrets(BaseModel):
    """The token Alertmanager (or Grafana) sends as ``Authorization: Bearer``; environment only."""

    alerts_webhook_token: SecretStr | None = Field(default=None, validation_alias="ALERTS_WEBHOOK_TOKEN")


def missing_secrets(config: AlertsConfig | None, secrets: AlertsSecrets) -> list[str]:
    """The variables the ``[alerts]`` table needs and the environment does not have."""
    if config is None or secrets.alerts_webhook_token is not None:
        return []
    return ["ALERTS_WEBHOOK_TOKEN"]
