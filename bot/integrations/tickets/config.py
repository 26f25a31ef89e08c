"""The ``[tickets]`` table and the trackers' secrets, checked in full at start-up.

One table serves both trackers, so an operator switching from Jira to Linear
changes ``provider`` and the keys beside it; a key of the other tracker, or a
missing one, stops start-up with a line naming it.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from bot.config.fields import HttpUrl
from bot.config.problems import show
from storage.models import Incident

PROVIDERS = ("jira", "linear")
JIRA_KEYS = frozenset({"url", "project", "issue_type"})
LINEAR_KEYS = frozenset({"team", "api_url"})
_JIRA_PROJECT = re.compile(r"[A-Z][A-Z0-9_]{0,254}")
_LINEAR_TEAM = re.compile(r"[A-Za-z0-9]{1,16}")


class TicketsConfig(BaseModel):
    """Where action items (and, with ``incident_ticket``, incidents) become tickets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Literal["jira", "linear"]
    incident_ticket: bool = False
    # Jira Cloud
    url: HttpUrl | None = None
    project: str | None = None
    issue_type: str = Field(default="Task", min_length=1, max_length=60)
    # Linear
    team: str | None = None
    api_url: HttpUrl = "https://api.linear.app/graphql"

    @field_validator("provider", mode="before")
    @classmethod
    def _known_provider(cls, value: object) -> object:
        if value not in PROVIDERS:
            raise ValueError(f'{show(value)} is not a tracker this bot knows; use "jira" or "linear"')
        return value

    @field_validator("project")
    @classmethod
    def _project_key(cls, value: str | None) -> str | None:
        if value is not None and not _JIRA_PROJECT.fullmatch(value):
            raise ValueError(f'{show(value)} is not a Jira project key (capital letters and digits, e.g. "OPS")')
        return value

    @field_validator("team")
    @classmethod
    def _team_key(cls, value: str | None) -> str | None:
        if value is not None and not _LINEAR_TEAM.fullmatch(value):
            raise ValueError(f'{show(value)} is not a Linear team key (letters and digits, e.g. "ENG")')
        return value

    @model_validator(mode="after")
    def _keys_of_the_provider(self) -> TicketsConfig:
        """Each tracker's own keys: required ones present, the other tracker's absent."""
        own, other = (JIRA_KEYS, LINEAR_KEYS) if self.provider == "jira" else (LINEAR_KEYS, JIRA_KEYS)
        stray = sorted(other & self.model_fields_set)
        if stray:
            raise ValueError(f"{', '.join(stray)} {'is' if len(stray) == 1 else 'are'} not a key of "
                             f"provider = {show(self.provider)}; its keys are {', '.join(sorted(own))}")
        if self.provider == "jira":
            if self.url is None:
                raise ValueError('url is required with provider = "jira": your Jira Cloud site, '
                                 'e.g. "https://example.atlassian.net"')
            if self.project is None:
                raise ValueError('project is required with provider = "jira": the key of the project '
                                 'tickets go to, e.g. "OPS"')
        elif self.team is None:
            raise ValueError('team is required with provider = "linear": the key of the team tickets go to, e.g. "ENG"')
        return self


class TrackerSecrets(BaseModel):
    """The trackers' credentials, from the environment only (variable names as aliases)."""

    jira_email: str | None = Field(default=None, validation_alias="JIRA_EMAIL")
    jira_api_token: SecretStr | None = Field(default=None, validation_alias="JIRA_API_TOKEN")
    jira_webhook_secret: SecretStr | None = Field(default=None, validation_alias="JIRA_WEBHOOK_SECRET")
    linear_api_key: SecretStr | None = Field(default=None, validation_alias="LINEAR_API_KEY")
    linear_webhook_secret: SecretStr | None = Field(default=None, validation_alias="LINEAR_WEBHOOK_SECRET")


def missing_secrets(config: TicketsConfig | None, secrets: TrackerSecrets) -> list[str]:
    """The environment variables the configured tracker needs and does not have."""
    if config is None:
        return []
    needed = {
        "jira": {"JIRA_EMAIL": secrets.jira_email, "JIRA_API_TOKEN": secrets.jira_api_token,
                 "JIRA_WEBHOOK_SECRET": secrets.jira_webhook_secret},
        "linear": {"LINEAR_API_KEY": secrets.linear_api_key, "LINEAR_WEBHOOK_SECRET": secrets.linear_webhook_secret},
    }[config.provider]
    return [name for name, value in needed.items() if value is None]


def keeps_incident_ticket(tickets: TicketsConfig | None, incident: Incident) -> bool:
    """Whether the incident has a ticket of its own to keep current.

    A private incident gets none: its title would be seen outside its channel.
    """
    return tickets is not None and tickets.incident_ticket and not incident.private
