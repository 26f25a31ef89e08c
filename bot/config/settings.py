"""What an operator sets: secrets and endpoints from the environment, policy from a TOML file.

Both are validated in full at start-up, so a typo stops the bot with a message naming the
key and the problem instead of surfacing hours later when a reminder first falls due.
"""

import json
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config.durations import parse_duration

# Playbook defaults, written the way an operator writes them so that they pass through the
# same parser as the file: (update_every, respond_within, resolve_within, postmortem_within).
_POLICY_KEYS = ("update_every", "respond_within", "resolve_within", "postmortem_within")
_PLAYBOOK: dict[str, tuple[str, str, str, str]] = {
    "SEV-1": ("15m", "5m", "1h", "48h"),
    "SEV-2": ("30m", "15m", "4h", "48h"),
    "SEV-3": ("60m", "1h", "24h", "never"),
    "SEV-4": ("60m", "4h", "72h", "never"),
}

SEVERITY_NAMES: tuple[str, ...] = tuple(_PLAYBOOK)
NEVER = "never"

_PRINCIPAL_ID = re.compile(r"[UWS][A-Z0-9]{2,}")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]*[0-9][A-Z0-9]*")
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]{1,80}")
_CHANNEL_PREFIX = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,18}[a-z0-9])?")


class ConfigError(Exception):
    """Start-up configuration is unusable; the message has one line per problem."""


def _show(value: object) -> str:
    """Quote a value the way it looks in TOML/JSON, so strings appear in double quotes."""
    return json.dumps(value, ensure_ascii=False, default=str)


# --- field types ---------------------------------------------------------------------------


def _to_duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ValueError(f"{value} is not a positive duration")
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f'{_show(value)} is not a duration; write it as a string, e.g. "15m"')


def _to_duration_or_never(value: object) -> timedelta | None:
    if value is None or (isinstance(value, str) and value.strip() == NEVER):
        return None
    return _to_duration(value)


def _principal_id(value: str) -> str:
    if not _PRINCIPAL_ID.fullmatch(value):
        raise ValueError(
            f"{_show(value)} is not a Slack user or user-group ID "
            '(one starting with U, W or S, e.g. "U012AB3CD" or "S0SQUADLEAD")'
        )
    return value


def is_channel_id(value: str) -> bool:
    """Tell a channel ID ("C0123ABCD") from a channel name ("incidents").

    Names are lowercase and IDs uppercase with digits, so the two cannot be confused.
    """
    return _CHANNEL_ID.fullmatch(value) is not None


def _channel(value: str) -> str:
    """Accept "#incidents", "incidents", "Incidents" or "C0123ABCD"; keep the bare name or ID."""
    bare = value.strip()
    if is_channel_id(bare):
        return bare
    name = bare.removeprefix("#").lower()
    if not _CHANNEL_NAME.fullmatch(name):
        raise ValueError(
            f"{_show(value)} is not a channel name or ID; a name has up to 80 lowercase letters, "
            'digits, hyphens or underscores (a leading "#" is fine), an ID looks like "C0123ABCD"'
        )
    return name


def _channel_prefix(value: str) -> str:
    if not _CHANNEL_PREFIX.fullmatch(value):
        raise ValueError(
            f"{_show(value)} cannot begin a channel name; use 1 to 20 lowercase letters, digits, "
            "hyphens or underscores, starting and ending with a letter or digit"
        )
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f'{_show(value)} is not a known time zone; use an IANA name such as "UTC" or '
            '"Europe/Berlin"'
        ) from None
    return value


def _empty_means_none(value: object) -> object:
    return None if value == "" else value


def _existing_directory(value: Path | None) -> Path | None:
    if value is not None and not value.is_dir():
        raise ValueError(f"{_show(str(value))} is not an existing directory")
    return value


def _non_empty_path(value: Path) -> Path:
    if str(value) in ("", "."):
        raise ValueError("must name a directory, not be empty")
    return value


Duration = Annotated[timedelta, BeforeValidator(_to_duration)]
DurationOrNever = Annotated[timedelta | None, BeforeValidator(_to_duration_or_never)]
PrincipalId = Annotated[str, AfterValidator(_principal_id)]
Channel = Annotated[str, AfterValidator(_channel)]


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


_STATUSPAGE_ID = re.compile(r"[a-z0-9]{4,32}")


def _statuspage_id(value: str) -> str:
    if not _STATUSPAGE_ID.fullmatch(value):
        raise ValueError(
            f"{_show(value)} is not a Statuspage page or component ID "
            '(lowercase letters and digits, e.g. "kctbh9vrtdwd")'
        )
    return value


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"{_show(value)} is not an http:// or https:// URL")
    return value.rstrip("/")


StatuspageId = Annotated[str, AfterValidator(_statuspage_id)]


class StatuspageConfig(_ConfigModel):
    """Atlassian Statuspage, published to only when the ``[statuspage]`` table is present.

    The API key is a secret, so it comes from the environment
    (``STATUSPAGE_API_KEY``), never from this file.
    """

    page_id: StatuspageId
    component_ids: list[StatuspageId] = Field(default_factory=list)
    api_url: Annotated[str, AfterValidator(_http_url)] = "https://api.statuspage.io/v1"
    attempts: int = Field(default=5, ge=1, le=10, strict=True)
    retry_delay: Duration = timedelta(seconds=2)


class IncidentConfig(_ConfigModel):
    """The operator's policy file; every key is optional and defaults to the playbook."""

    timezone: Annotated[str, AfterValidator(_time_zone)] = "UTC"
    channel_prefix: Annotated[str, AfterValidator(_channel_prefix)] = "inc"
    announcements_channel: Channel = "incidents"
    status_channel: Channel = "status"
    approvers: list[PrincipalId] = Field(default_factory=list)
    escalate_after: int = Field(default=2, ge=1, strict=True)
    archive_after: DurationOrNever = None
    postmortem_dir: Annotated[Path, AfterValidator(_non_empty_path)] = Path("postmortems")
    templates_dir: Annotated[
        Path | None, BeforeValidator(_empty_means_none), AfterValidator(_existing_directory)
    ] = None
    severities: dict[str, SeverityPolicy] = Field(default_factory=dict, validate_default=True)
    statuspage: StatuspageConfig | None = None

    @field_validator("severities", mode="before")
    @classmethod
    def _complete_severities(cls, value: object) -> object:
        """Lay each given severity table over that severity's defaults, key by key."""
        if not isinstance(value, Mapping):
            return value
        unknown = [name for name in value if name not in SEVERITY_NAMES]
        if unknown:
            raise ValueError(
                f"unknown severity {', '.join(_show(name) for name in unknown)}; "
                f"the severities are {', '.join(SEVERITY_NAMES)}"
            )
        merged: dict[str, object] = {}
        for name, defaults in _PLAYBOOK.items():
            given = value.get(name, {})
            merged[name] = (
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
        """The policy for severity 1..4."""
        try:
            return self.severities[f"SEV-{severity}"]
        except KeyError:
            raise ValueError(f"severity must be 1, 2, 3 or 4, not {severity}") from None


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
        raise ConfigError(_describe(error, source=str(path), show_input=True)) from None


# --- the environment -----------------------------------------------------------------------


class Settings(BaseSettings):
    """Secrets and endpoints, from environment variables named exactly as documented."""

    model_config = SettingsConfigDict(
        case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True
    )

    slack_bot_token: SecretStr = Field(validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr = Field(validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    database_url: str = Field(default="sqlite:///incident-bot.db", validation_alias="DATABASE_URL")
    config_path: Path | None = Field(default=None, validation_alias="INCIDENT_BOT_CONFIG")
    host: str = Field(default="0.0.0.0", validation_alias="HOST")
    port: int = Field(default=3000, ge=1, le=65535, validation_alias="PORT")
    statuspage_api_key: SecretStr | None = Field(default=None, validation_alias="STATUSPAGE_API_KEY")

    ENV_NAMES: ClassVar[tuple[str, ...]] = (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "SLACK_API_URL",
        "DATABASE_URL",
        "INCIDENT_BOT_CONFIG",
        "HOST",
        "PORT",
        "STATUSPAGE_API_KEY",
    )

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

    @property
    def socket_mode(self) -> bool:
        """Socket Mode is chosen by providing an app-level token."""
        return self.slack_app_token is not None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only arguments and the real environment: no .env or secrets-dir surprises."""
        return init_settings, env_settings


class _SettingsFromMapping(Settings):
    """Settings that read only their arguments, so a test's mapping is the whole environment."""

    def __repr_name__(self) -> str:
        return "Settings"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: the process environment).

    Empty variables count as unset, as they do when read from the process environment.
    """
    source = os.environ if environ is None else environ
    values: dict[str, Any] = {
        name: source[name] for name in Settings.ENV_NAMES if source.get(name, "") != ""
    }
    try:
        return _SettingsFromMapping(**values)
    except ValidationError as error:
        raise ConfigError(_describe(error, source="environment", show_input=False)) from None


# --- error messages ------------------------------------------------------------------------


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "(top level)"


def _problem(error: ErrorDetails, *, show_input: bool) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "is required but not set"
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    shown = f" (got {_show(error['input'])})" if show_input else ""
    return error["msg"] + shown


def _describe(error: ValidationError, *, source: str, show_input: bool) -> str:
    """One line per problem, naming where it is and what is wrong; no pydantic URLs."""
    return "\n".join(
        f"{source}: {_key_path(detail['loc'])}: {_problem(detail, show_input=show_input)}"
        for detail in error.errors(include_url=False)
    )
