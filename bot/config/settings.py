"""What an operator sets: secrets and endpoints from the environment, policy from a TOML file.

Both are validated in full at start-up, so a typo stops the bot with a message naming the
key and the problem instead of surfacing hours later when a reminder first falls due.
"""

import os
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config.fields import (
    Channel,
    ChannelPrefix,
    DirectoryPath,
    Duration,
    DurationOrNever,
    ExistingDirectoryOrNone,
    HttpUrl,
    PrincipalId,
    StatuspageId,
    TimeZoneName,
)
from bot.config.problems import describe, show
from bot.incidents.drills import DrillsConfig
from bot.integrations.alerts.config import AlertsConfig, AlertsSecrets
from bot.integrations.call_link import BridgeUrl
from bot.integrations.confluence.config import ConfluenceConfig, ConfluenceSecrets
from bot.integrations.pagerduty.config import PagerDutyConfig, PagerDutySecrets
from bot.integrations.tickets.config import TicketsConfig, TrackerSecrets
from storage.severity import Severity

# Playbook defaults, written the way an operator writes them so that they pass through the
# same parser as the file: (update_every, respond_within, resolve_within, postmortem_within).
_POLICY_KEYS = ("update_every", "respond_within", "resolve_within", "postmortem_within")
_PLAYBOOK: dict[Severity, tuple[str, str, str, str]] = {
    Severity.SEV1: ("15m", "5m", "1h", "48h"),
    Severity.SEV2: ("30m", "15m", "4h", "48h"),
    Severity.SEV3: ("60m", "1h", "24h", "never"),
    Severity.SEV4: ("60m", "4h", "72h", "never"),
}
_SEVERITY_NAMES = tuple(severity.label for severity in Severity)


class ConfigError(Exception):
    """Start-up configuration is unusable; the message has one line per problem."""


# --- the TOML config -----------------------------------------------------------------------


class _ConfigModel(BaseModel):
    """Refuses unknown keys (a misspelt key would otherwise be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EscalationStep(_ConfigModel):
    """Whom to call in once an incident has gone `after` without an update."""

    after: Duration
    notify: list[PrincipalId] = Field(min_length=1)


class SeverityPolicy(_ConfigModel):
    """Cadence and targets for one severity; `postmortem_within` None means no reminder."""

    update_every: Duration
    respond_within: Duration
    resolve_within: Duration
    postmortem_within: DurationOrNever
    escalation: list[EscalationStep] = Field(default_factory=list)

    @field_validator("escalation")
    @classmethod
    def _in_time_order(cls, steps: list[EscalationStep]) -> list[EscalationStep]:
        """Order steps by delay so the scheduler can walk them without sorting."""
        return sorted(steps, key=lambda step: step.after)


class StatuspageConfig(_ConfigModel):
    """Atlassian Statuspage, published to only when the ``[statuspage]`` table is present.

    The API key is a secret, so it comes from the environment
    (``STATUSPAGE_API_KEY``), never from this file.
    """

    page_id: StatuspageId
    component_ids: list[StatuspageId] = Field(default_factory=list)
    api_url: HttpUrl = "https://api.statuspage.io/v1"
    attempts: int = Field(default=5, ge=1, le=10, strict=True)
    retry_delay: Duration = timedelta(seconds=2)


class IncidentConfig(_ConfigModel):
    """The operator's policy file; every key is optional and defaults to the playbook."""

    timezone: TimeZoneName = "UTC"
    channel_prefix: ChannelPrefix = "inc"
    announcements_channel: Channel = "incidents"
    status_channel: Channel = "status"
    approvers: list[PrincipalId] = Field(default_factory=list)
    escalate_after: int = Field(default=2, ge=1, strict=True)
    archive_after: DurationOrNever = None
    snooze: Duration = timedelta(minutes=15)
    postmortem_dir: DirectoryPath = Path("postmortems")
    templates_dir: ExistingDirectoryOrNone = None
    severities: dict[str, SeverityPolicy] = Field(default_factory=dict, validate_default=True)
    statuspage: StatuspageConfig | None = None
    drills: DrillsConfig = Field(default_factory=DrillsConfig)
    tickets: TicketsConfig | None = None
    confluence: ConfluenceConfig | None = None
    bridge_url: BridgeUrl | None = None
    pagerduty: PagerDutyConfig | None = None
    alerts: AlertsConfig | None = None

    @field_validator("severities", mode="before")
    @classmethod
    def _complete_severities(cls, value: object) -> object:
        """Lay each given severity table over that severity's defaults, key by key."""
        if not isinstance(value, Mapping):
            return value
        unknown = [name for name in value if name not in _SEVERITY_NAMES]
        if unknown:
            raise ValueError(
                f"unknown severity {', '.join(show(name) for name in unknown)}; "
                f"the severities are {', '.join(_SEVERITY_NAMES)}"
            )
        merged: dict[str, object] = {}
        for severity, defaults in _PLAYBOOK.items():
            given = value.get(severity.label, {})
            merged[severity.label] = (
                {**dict(zip(_POLICY_KEYS, defaults)), **given}
                if isinstance(given, Mapping)
                else given
            )
        return merged

    @property
    def tz(self) -> ZoneInfo:
        """The zone for channel-name dates and for times in documents."""
        return ZoneInfo(self.timezone)

    def policy(self, severity: int) -> SeverityPolicy:
        """The policy for a severity; a number that is no severity is a ValueError."""
        return self.severities[Severity.of(severity).label]


def load_config(path: Path | None) -> IncidentConfig:
    """Read the TOML policy file, or the defaults when no file is configured."""
    if path is None:
        return IncidentConfig()
    try:
        with path.open("rb") as file:
            raw = tomllib.load(file)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: the file is not UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from None
    try:
        return IncidentConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(describe(error, source=str(path), show_input=True)) from None


# --- the environment -----------------------------------------------------------------------


class DatabaseSettings(BaseModel):
    """The database and the policy file: all that commands working without Slack (``report``) read.

    Each field's alias is its environment variable's name. The model is
    validated from an environ mapping (:func:`load_settings`), so a test passes
    a dict and nothing from the process environment leaks in.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    database_url: str = Field(default="sqlite:///incident-bot.db", validation_alias="DATABASE_URL")
    config_path: Path | None = Field(default=None, validation_alias="INCIDENT_BOT_CONFIG")

    @field_validator("database_url")
    @classmethod
    def _is_sqlalchemy_url(cls, value: str) -> str:
        try:
            make_url(value)
        except ArgumentError:
            raise ValueError(
                "must be an SQLAlchemy URL such as sqlite:///incident-bot.db or "
                "postgresql://user:password@host/dbname"
            ) from None
        return value


class Settings(DatabaseSettings, TrackerSecrets, ConfluenceSecrets, PagerDutySecrets, AlertsSecrets):
    """Everything the running bot reads from the environment: the above, Slack's secrets and endpoints."""

    slack_bot_token: SecretStr = Field(validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr = Field(validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    host: str = Field(default="0.0.0.0", validation_alias="HOST")
    port: int = Field(default=3000, ge=1, le=65535, validation_alias="PORT")
    statuspage_api_key: SecretStr | None = Field(default=None, validation_alias="STATUSPAGE_API_KEY")

    @field_validator("slack_app_token")
    @classmethod
    def _is_app_level_token(cls, value: SecretStr | None) -> SecretStr | None:
        """Catch the common slip of pasting the bot token where the app-level token goes."""
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError('an app-level token starts with "xapp-"')
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _with_trailing_slash(cls, value: str) -> str:
        """The Web API client joins method names onto the base URL, so it must end in "/"."""
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL, e.g. https://slack.com/api/")
        return value.rstrip("/") + "/"

    @property
    def socket_mode(self) -> bool:
        """Socket Mode is chosen by providing an app-level token."""
        return self.slack_app_token is not None


_Environment = TypeVar("_Environment", bound=DatabaseSettings)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: the process environment)."""
    return _from_environ(Settings, environ)


def load_database_settings(environ: Mapping[str, str] | None = None) -> DatabaseSettings:
    """Read only the database and policy file settings: no Slack token is required."""
    return _from_environ(DatabaseSettings, environ)


def _from_environ(model: type[_Environment], environ: Mapping[str, str] | None) -> _Environment:
    """Validate ``model`` from an environ mapping; an empty variable counts as unset (``PORT=``: the default)."""
    source = os.environ if environ is None else environ
    try:
        return model.model_validate({name: value for name, value in source.items() if value != ""})
    except ValidationError as error:
        raise ConfigError(describe(error, source="environment", show_input=False)) from None
