"""What the playground's bot runs with: settings made in code, never read from the environment.

A playground must never post into a real workspace or write to a real database, so the
variables that would point it elsewhere are ignored (and the banner names the ones that
were set). Its policy is the playbook's, with an escalation matrix that calls in the
responders' user group, and ``--fast`` turns minutes into seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.config.settings import IncidentConfig, Settings, SeverityPolicy, load_settings
from bot.playground.team import BOT_TOKEN, ONCALL_GROUP, SIGNING_SECRET

IGNORED_PREFIX = "SLACK_"
IGNORED_NAMES = ("DATABASE_URL", "INCIDENT_BOT_CONFIG", "HOST", "PORT", "STATUSPAGE_API_KEY")
ESCALATION = {"SEV-1": "15m", "SEV-2": "30m"}
"""When the responders' group is called in, by severity, if an incident is still unmitigated."""
FAST_FACTOR = 60
FAST_LONGEST = timedelta(minutes=1)
"""In fast mode nothing waits longer than this, so every follow-up is seen within a minute."""


def ignored_settings(environ: Mapping[str, str]) -> list[str]:
    """The variables set in the environment that the playground will not use, sorted."""
    return sorted(
        name for name, value in environ.items()
        if value and (name.startswith(IGNORED_PREFIX) or name in IGNORED_NAMES)
    )


def bot_settings(*, slack_api_url: str, database_url: str, port: int) -> Settings:
    """HTTP mode on loopback, the local Slack's token and secret, the playground's database."""
    return load_settings({
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_api_url,
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
    })


def database_url(path: Path) -> str:
    """An SQLAlchemy URL for a SQLite file, whatever the working directory becomes later."""
    return f"sqlite:///{path.resolve()}"


def playground_config(*, fast: bool, postmortem_dir: Path) -> IncidentConfig:
    """The playbook's policy plus an escalation matrix; `fast` makes every minute a second."""
    severities: dict[str, Any] = {
        name: {"escalation": [{"after": after, "notify": [ONCALL_GROUP]}]} for name, after in ESCALATION.items()
    }
    config = IncidentConfig.model_validate({"postmortem_dir": postmortem_dir, "severities": severities})
    return in_seconds(config) if fast else config


def in_seconds(config: IncidentConfig) -> IncidentConfig:
    """Every cadence, target and delay divided by 60, and none longer than a minute."""
    severities = {name: _policy_in_seconds(policy) for name, policy in config.severities.items()}
    archive = None if config.archive_after is None else _shortened(config.archive_after)
    return config.model_copy(update={"severities": severities, "archive_after": archive,
                                     "snooze": _shortened(config.snooze)})


def _policy_in_seconds(policy: SeverityPolicy) -> SeverityPolicy:
    return policy.model_copy(update={
        "update_every": _shortened(policy.update_every),
        "respond_within": _shortened(policy.respond_within),
        "resolve_within": _shortened(policy.resolve_within),
        "postmortem_within": None if policy.postmortem_within is None else _shortened(policy.postmortem_within),
        "escalation": [step.model_copy(update={"after": _shortened(step.after)}) for step in policy.escalation],
    })


def _shortened(duration: timedelta) -> timedelta:
    return min(duration / FAST_FACTOR, FAST_LONGEST)
