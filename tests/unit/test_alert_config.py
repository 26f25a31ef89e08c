"""The ``[pagerduty]`` and ``[alerts]`` tables and their secrets: defaults, overrides, readable refusals."""

from pathlib import Path

import pytest

from bot.config.settings import ConfigError, IncidentConfig, load_config, load_settings
from bot.integrations.checks import check_configured
from storage.models import Incident
from storage.severity import Severity

SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": "shh-secret"}


def config_from(tmp_path: Path, text: str) -> IncidentConfig:
    path = tmp_path / "incident-bot.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def refusal(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        config_from(tmp_path, text)
    return str(caught.value)


def test_the_tables_are_off_until_present(tmp_path: Path) -> None:
    config = config_from(tmp_path, 'timezone = "UTC"\n')
    assert config.pagerduty is None and config.alerts is None


def test_an_empty_pagerduty_table_takes_the_documented_defaults(tmp_path: Path) -> None:
    pagerduty = config_from(tmp_path, "[pagerduty]\n").pagerduty
    assert pagerduty is not None
    assert pagerduty.events_url == "https://events.pagerduty.com/v2/enqueue"
    assert pagerduty.page_severities == [Severity.SEV1, Severity.SEV2]
    assert (pagerduty.declare, pagerduty.page_drills, pagerduty.page_private) == ("button", False, False)
    assert pagerduty.severity_for_urgency == {"high": Severity.SEV2, "low": Severity.SEV3}


def test_an_empty_alerts_table_takes_the_documented_defaults(tmp_path: Path) -> None:
    alerts = config_from(tmp_path, "[alerts]\n").alerts
    assert alerts is not None
    assert alerts.declare == "button"
    assert alerts.severity_for_label == {"critical": Severity.SEV1, "warning": Severity.SEV3}
    assert alerts.default_severity == Severity.SEV3


def test_keys_are_read_as_operators_write_them(tmp_path: Path) -> None:
    config = config_from(tmp_path, """
[pagerduty]
page_severities = ["SEV-1"]
declare = "auto"
page_drills = true
severity_for_urgency = { high = "SEV-1" }

[alerts]
declare = "off"
severity_for_label = { Critical = "sev1", page = "SEV-2" }
default_severity = "SEV-4"
""")
    assert config.pagerduty is not None and config.alerts is not None
    assert config.pagerduty.severity_for_urgency == {"high": Severity.SEV1, "low": Severity.SEV3}
    assert config.alerts.severity_of("CRITICAL") == Severity.SEV1
    assert config.alerts.severity_of("info") is None
    assert config.alerts.default_severity == Severity.SEV4


@pytest.mark.parametrize(("text", "message"), [
    ('[pagerduty]\npage_severities = ["SEV-9"]', 'pagerduty.page_severities[0]: "SEV-9" is not a severity'),
    ('[pagerduty]\ndeclare = "maybe"', 'pagerduty.declare: "maybe" is not a choice here; use "auto", "button" or "off"'),
    ('[pagerduty]\nseverity_for_urgency = { urgent = "SEV-1" }', "pagerduty.severity_for_urgency.urgent"),
    ('[pagerduty]\nevents_url = "events.pagerduty.com"', 'pagerduty.events_url: "events.pagerduty.com" is not an'),
    ('[pagerduty]\nrouting_key = "abc"', "pagerduty.routing_key: unknown key"),
    ('[alerts]\nseverity_for_label = { critical = 1 }', "alerts.severity_for_label.critical: 1 is not a severity"),
    ('[alerts]\ntoken = "abc"', "alerts.token: unknown key"),
])
def test_a_bad_key_stops_start_up_naming_it(tmp_path: Path, text: str, message: str) -> None:
    assert message in refusal(tmp_path, text)


def paging_incident(severity: int, **flags: bool) -> Incident:
    return Incident(request_key="k", title="t", severity=severity, declared_by="U1", **flags)


def test_which_incidents_page(tmp_path: Path) -> None:
    pagerduty = config_from(tmp_path, "[pagerduty]\n").pagerduty
    assert pagerduty is not None
    assert pagerduty.pages(paging_incident(1)) and pagerduty.pages(paging_incident(2))
    assert not pagerduty.pages(paging_incident(3))
    assert not pagerduty.pages(paging_incident(1, drill=True))
    assert not pagerduty.pages(paging_incident(1, private=True))


@pytest.mark.parametrize(("text", "env", "missing"), [
    ("[pagerduty]\n", {}, ["PAGERDUTY_ROUTING_KEY", "PAGERDUTY_WEBHOOK_SECRET"]),
    ("[pagerduty]\n", {"PAGERDUTY_ROUTING_KEY": "r"}, ["PAGERDUTY_WEBHOOK_SECRET"]),
    ('[pagerduty]\ndeclare = "off"', {"PAGERDUTY_ROUTING_KEY": "r"}, []),
    ("[pagerduty]\npage_severities = []", {"PAGERDUTY_WEBHOOK_SECRET": "s"}, []),
    ("[alerts]\n", {}, ["ALERTS_WEBHOOK_TOKEN"]),
    ("[alerts]\n", {"ALERTS_WEBHOOK_TOKEN": "t"}, []),
])
def test_a_table_whose_secret_is_missing_stops_start_up_naming_the_variable(
        tmp_path: Path, text: str, env: dict[str, str], missing: list[str]) -> None:
    settings = load_settings({**SLACK_ENV, **env})
    config = config_from(tmp_path, text)
    if not missing:
        check_configured(settings, config)
        return
    with pytest.raises(ConfigError) as caught:
        check_configured(settings, config)
    assert [line.split(" needs ")[1].split(";")[0] for line in str(caught.value).splitlines()] == missing
