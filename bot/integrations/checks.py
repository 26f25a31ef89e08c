"""Refusing to start with an integration configured but its secrets missing."""

from __future__ import annotations

from bot.config.settings import ConfigError, IncidentConfig, Settings
from bot.integrations.alerts import config as alerts
from bot.integrations.confluence import config as confluence
from bot.integrations.pagerduty import config as pagerduty
from bot.integrations.tickets import config as tickets
from bot.status.statuspage_client import check_configured as check_statuspage


def check_configured(settings: Settings, config: IncidentConfig) -> None:
    """One line per missing variable, naming the table that needs it."""
    problems = [f"tickets: the [tickets] table (provider = \"{config.tickets.provider}\") needs {name}; "
                "set it in the environment, or remove the table"
                for name in tickets.missing_secrets(config.tickets, settings) if config.tickets]
    problems += [f"confluence: the [confluence] table needs {name}; set it in the environment, or remove the table"
                 for name in confluence.missing_secrets(config.confluence, settings)]
    problems += [f"pagerduty: the [pagerduty] table needs {name}; set it in the environment, or remove the table"
                 for name in pagerduty.missing_secrets(config.pagerduty, settings)]
    problems += [f"alerts: the [alerts] table needs {name}; set it in the environment, or remove the table"
                 for name in alerts.missing_secrets(config.alerts, settings)]
    if problems:
        raise ConfigError("\n".join(problems))


def check_secrets(settings: Settings, config: IncidentConfig) -> None:
    """Every configured outside service has the secrets it needs: start-up and ``check-config``."""
    check_statuspage(settings, config)
    check_configured(settings, config)
