"""The kinds of value an operator writes in the policy file, each checked with a message that says how to fix it.

Validators raise ValueError with the operator's own value quoted;
:mod:`bot.config.problems` puts the key in front of it.
"""

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator

from bot.config.durations import parse_duration
from bot.config.problems import show

NEVER = "never"

CHANNEL_ID = re.compile(r"[CG][A-Z0-9]*[0-9][A-Z0-9]*")
"""A public (C…) or private (G…) channel's ID; names are lowercase, so they never match."""

_PRINCIPAL_ID = re.compile(r"[UWS][A-Z0-9]{2,}")
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]{1,80}")
_CHANNEL_PREFIX = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,18}[a-z0-9])?")
_STATUSPAGE_ID = re.compile(r"[a-z0-9]{4,32}")


def _to_duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ValueError(f"{value} is not a positive duration")
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f'{show(value)} is not a duration; write it as a string, e.g. "15m"')


def _to_duration_or_never(value: object) -> timedelta | None:
    if value is None or (isinstance(value, str) and value.strip() == NEVER):
        return None
    return _to_duration(value)


def _principal_id(value: str) -> str:
    if not _PRINCIPAL_ID.fullmatch(value):
        raise ValueError(
            f"{show(value)} is not a Slack user or user-group ID "
            '(one starting with U, W or S, e.g. "U012AB3CD" or "S0SQUADLEAD")'
        )
    return value


def is_channel_id(value: str) -> bool:
    """Tell a channel ID ("C0123ABCD") from a channel name ("incidents")."""
    return CHANNEL_ID.fullmatch(value) is not None


def _channel(value: str) -> str:
    """Accept "#incidents", "incidents", "Incidents" or "C0123ABCD"; keep the bare name or ID."""
    bare = value.strip()
    if is_channel_id(bare):
        return bare
    name = bare.removeprefix("#").lower()
    if not _CHANNEL_NAME.fullmatch(name):
        raise ValueError(
            f"{show(value)} is not a channel name or ID; a name has up to 80 lowercase letters, "
            'digits, hyphens or underscores (a leading "#" is fine), an ID looks like "C0123ABCD"'
        )
    return name


def _channel_prefix(value: str) -> str:
    if not _CHANNEL_PREFIX.fullmatch(value):
        raise ValueError(
            f"{show(value)} cannot begin a channel name; use 1 to 20 lowercase letters, digits, "
            "hyphens or underscores, starting and ending with a letter or digit"
        )
    return value


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f'{show(value)} is not a known time zone; use an IANA name such as "UTC" or '
            '"Europe/Berlin"'
        ) from None
    return value


def _empty_means_none(value: object) -> object:
    return None if value == "" else value


def _existing_directory(value: Path | None) -> Path | None:
    if value is not None and not value.is_dir():
        raise ValueError(f"{show(str(value))} is not an existing directory")
    return value


def _non_empty_path(value: Path) -> Path:
    if str(value) in ("", "."):
        raise ValueError("must name a directory, not be empty")
    return value


def _statuspage_id(value: str) -> str:
    if not _STATUSPAGE_ID.fullmatch(value):
        raise ValueError(
            f"{show(value)} is not a Statuspage page or component ID "
            '(lowercase letters and digits, e.g. "kctbh9vrtdwd")'
        )
    return value


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError(f"{show(value)} is not an http:// or https:// URL")
    return value.rstrip("/")


Duration = Annotated[timedelta, BeforeValidator(_to_duration)]
DurationOrNever = Annotated[timedelta | None, BeforeValidator(_to_duration_or_never)]
PrincipalId = Annotated[str, AfterValidator(_principal_id)]
Channel = Annotated[str, AfterValidator(_channel)]
ChannelPrefix = Annotated[str, AfterValidator(_channel_prefix)]
TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
DirectoryPath = Annotated[Path, AfterValidator(_non_empty_path)]
ExistingDirectoryOrNone = Annotated[
    Path | None, BeforeValidator(_empty_means_none), AfterValidator(_existing_directory)
]
StatuspageId = Annotated[str, AfterValidator(_statuspage_id)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
