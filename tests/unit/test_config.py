"""Environment settings and the TOML policy file: defaults, overrides and readable refusals."""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config.fields import is_channel_id
from bot.config.settings import (
    ConfigError,
    EscalationStep,
    IncidentConfig,
    load_config,
    load_database_settings,
    load_settings,
)

REQUIRED_ENV = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": "shh-secret"}


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "incident-bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(write_toml(tmp_path, text))
    return str(caught.value)


# --- environment ---------------------------------------------------------------------------


def test_settings_defaults() -> None:
    settings = load_settings(REQUIRED_ENV)
    assert settings.slack_bot_token.get_secret_value() == "xoxb-test-token"
    assert settings.slack_signing_secret.get_secret_value() == "shh-secret"
    assert settings.slack_app_token is None
    assert not settings.socket_mode
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.database_url == "sqlite:///incident-bot.db"
    assert settings.config_path is None
    assert (settings.host, settings.port) == ("0.0.0.0", 3000)


def test_settings_from_every_variable() -> None:
    settings = load_settings(
        {
            **REQUIRED_ENV,
            "SLACK_APP_TOKEN": "xapp-1-A0-123",
            "SLACK_API_URL": "http://127.0.0.1:8888/api",
            "DATABASE_URL": "postgresql://bot:pw@db/incidents",
            "INCIDENT_BOT_CONFIG": "/etc/incident-bot.toml",
            "HOST": "127.0.0.1",
            "PORT": "8080",
        }
    )
    assert settings.socket_mode
    assert settings.slack_app_token is not None
    assert settings.slack_app_token.get_secret_value() == "xapp-1-A0-123"
    assert settings.slack_api_url == "http://127.0.0.1:8888/api/"
    assert settings.database_url == "postgresql://bot:pw@db/incidents"
    assert settings.config_path == Path("/etc/incident-bot.toml")
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)


@pytest.mark.parametrize("url", ["https://slack-gov.com/api", "https://slack-gov.com/api/"])
def test_api_url_works_with_or_without_trailing_slash(url: str) -> None:
    settings = load_settings({**REQUIRED_ENV, "SLACK_API_URL": url})
    assert settings.slack_api_url == "https://slack-gov.com/api/"


def test_secrets_never_show_in_repr() -> None:
    settings = load_settings({**REQUIRED_ENV, "SLACK_APP_TOKEN": "xapp-very-secret"})
    shown = repr(settings) + str(settings)
    assert "xoxb-test-token" not in shown
    assert "shh-secret" not in shown
    assert "xapp-very-secret" not in shown


def test_empty_variables_count_as_unset() -> None:
    settings = load_settings({**REQUIRED_ENV, "SLACK_APP_TOKEN": "", "PORT": ""})
    assert settings.slack_app_token is None
    assert settings.port == 3000


def test_explicit_mapping_ignores_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORT", "9999")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-from-process")
    settings = load_settings(REQUIRED_ENV)
    assert settings.port == 3000
    assert settings.slack_app_token is None


def test_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PORT", "4000")
    assert load_settings().port == 4000


def test_bad_environment_names_each_variable_without_leaking_secrets() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(
            {
                "SLACK_APP_TOKEN": "xoxb-pasted-in-the-wrong-place",
                "PORT": "70000",
                "SLACK_API_URL": "slack.com/api",
                "DATABASE_URL": "not a url",
            }
        )
    lines = str(caught.value).splitlines()
    assert "environment: SLACK_BOT_TOKEN: is required but not set" in lines
    assert "environment: SLACK_SIGNING_SECRET: is required but not set" in lines
    assert 'environment: SLACK_APP_TOKEN: an app-level token starts with "xapp-"' in lines
    assert any(line.startswith("environment: PORT: ") for line in lines)
    assert any(line.startswith("environment: SLACK_API_URL: must be an http") for line in lines)
    assert any(line.startswith("environment: DATABASE_URL: must be an SQLAlchemy URL") for line in lines)
    assert len(lines) == 6
    assert "xoxb-pasted" not in str(caught.value)


def test_database_settings_need_no_slack_tokens() -> None:
    settings = load_database_settings({"DATABASE_URL": "postgresql://bot@db/incidents", "INCIDENT_BOT_CONFIG": ""})
    assert settings.database_url == "postgresql://bot@db/incidents"
    assert settings.config_path is None
    with pytest.raises(ConfigError, match=r"^environment: DATABASE_URL: must be an SQLAlchemy URL"):
        load_database_settings({"DATABASE_URL": "not a url"})


# --- TOML config: defaults -----------------------------------------------------------------


def test_no_file_means_playbook_defaults() -> None:
    config = load_config(None)
    assert config == IncidentConfig()
    assert config.timezone == "UTC"
    assert config.tz == ZoneInfo("UTC")
    assert config.channel_prefix == "inc"
    assert config.announcements_channel == "incidents"
    assert config.status_channel == "status"
    assert config.approvers == []
    assert config.escalate_after == 2
    assert config.archive_after is None
    assert config.postmortem_dir == Path("postmortems")
    assert config.templates_dir is None


@pytest.mark.parametrize(
    ("severity", "update", "respond", "resolve", "postmortem"),
    [
        (1, timedelta(minutes=15), timedelta(minutes=5), timedelta(hours=1), timedelta(hours=48)),
        (2, timedelta(minutes=30), timedelta(minutes=15), timedelta(hours=4), timedelta(hours=48)),
        (3, timedelta(minutes=60), timedelta(hours=1), timedelta(hours=24), None),
        (4, timedelta(minutes=60), timedelta(hours=4), timedelta(hours=72), None),
    ],
)
def test_default_severity_policies(
    severity: int,
    update: timedelta,
    respond: timedelta,
    resolve: timedelta,
    postmortem: timedelta | None,
) -> None:
    policy = IncidentConfig().policy(severity)
    assert policy.update_every == update
    assert policy.respond_within == respond
    assert policy.resolve_within == resolve
    assert policy.postmortem_within == postmortem
    assert policy.escalation == []


@pytest.mark.parametrize("severity", [0, 5, -1])
def test_policy_outside_one_to_four_is_refused(severity: int) -> None:
    with pytest.raises(ValueError, match="severity must be 1, 2, 3 or 4"):
        IncidentConfig().policy(severity)


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    assert load_config(write_toml(tmp_path, "")) == IncidentConfig()


# --- TOML config: values -------------------------------------------------------------------


def test_full_example_from_the_spec(tmp_path: Path) -> None:
    templates = tmp_path / "my-templates"
    templates.mkdir()
    config = load_config(
        write_toml(
            tmp_path,
            f"""
timezone = "Europe/Berlin"
channel_prefix = "sev"
announcements_channel = "#ops-incidents"
status_channel = "C0123ABCD"
approvers = ["U012AB3CD", "S0SQUADLEAD", "W0ENTERPRISE"]
escalate_after = 3
archive_after = "2d"
postmortem_dir = "docs/postmortems"
templates_dir = "{templates.as_posix()}"

[severities.SEV-1]
update_every = "15m"
respond_within = "5m"
resolve_within = "1h"
postmortem_within = "48h"
escalation = [
    {{ after = "30m", notify = ["U0HEADENG"] }},
    {{ after = "15m", notify = ["S0SQUADLEAD"] }},
]
""",
        )
    )
    assert config.tz == ZoneInfo("Europe/Berlin")
    assert config.channel_prefix == "sev"
    assert config.announcements_channel == "ops-incidents"
    assert config.status_channel == "C0123ABCD"
    assert config.approvers == ["U012AB3CD", "S0SQUADLEAD", "W0ENTERPRISE"]
    assert config.escalate_after == 3
    assert config.archive_after == timedelta(days=2)
    assert config.postmortem_dir == Path("docs/postmortems")
    assert config.templates_dir == templates
    # Steps come out in time order whatever order the file gives them.
    assert config.policy(1).escalation == [
        EscalationStep(after=timedelta(minutes=15), notify=["S0SQUADLEAD"]),
        EscalationStep(after=timedelta(minutes=30), notify=["U0HEADENG"]),
    ]


def test_severity_table_overrides_only_its_own_keys(tmp_path: Path) -> None:
    config = load_config(
        write_toml(
            tmp_path,
            """
[severities.SEV-2]
update_every = "20m"

[severities.SEV-3]
postmortem_within = "5d"
""",
        )
    )
    assert config.policy(2).update_every == timedelta(minutes=20)
    assert config.policy(2).respond_within == timedelta(minutes=15)
    assert config.policy(2).postmortem_within == timedelta(hours=48)
    assert config.policy(3).postmortem_within == timedelta(days=5)
    assert config.policy(3).update_every == timedelta(minutes=60)
    assert config.policy(1) == IncidentConfig().policy(1)


def test_postmortem_reminder_can_be_switched_off(tmp_path: Path) -> None:
    config = load_config(write_toml(tmp_path, '[severities.SEV-1]\npostmortem_within = "never"\n'))
    assert config.policy(1).postmortem_within is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("#incidents", "incidents"),
        ("incidents", "incidents"),
        ("#Incidents", "incidents"),
        ("C0123ABCD", "C0123ABCD"),
        ("G01ABCDEF", "G01ABCDEF"),
        ("#c0123abcd", "c0123abcd"),
    ],
)
def test_channels_by_name_or_id(given: str, expected: str) -> None:
    assert IncidentConfig(announcements_channel=given).announcements_channel == expected


def test_channel_id_or_name() -> None:
    assert is_channel_id("C0123ABCD")
    assert not is_channel_id("incidents")
    assert not is_channel_id("GENERAL")


def test_empty_templates_dir_means_built_in_templates(tmp_path: Path) -> None:
    assert load_config(write_toml(tmp_path, 'templates_dir = ""')).templates_dir is None


# --- TOML config: refusals -----------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: no such file"):
        load_config(path)


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'timezone = "UTC"\nescalate_after = \n')
    assert message.startswith(f"{tmp_path / 'incident-bot.toml'}: not valid TOML: ")
    assert "line 2" in message


def test_unknown_key(tmp_path: Path) -> None:
    path = tmp_path / "incident-bot.toml"
    message = config_error(tmp_path, 'timezone = "UTC"\nannouncement_channel = "x"\n')
    assert message == f"{path}: announcement_channel: unknown key"


def test_unknown_key_inside_a_severity(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[severities.SEV-1]\nupdate_evry = "10m"\n')
    assert message.endswith(": severities.SEV-1.update_evry: unknown key")


def test_unknown_severity(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[severities.SEV-5]\nupdate_every = "10m"\n')
    assert message.endswith(': severities: unknown severity "SEV-5"; the severities are SEV-1, SEV-2, SEV-3, SEV-4')


def test_bad_duration_names_the_key_path(tmp_path: Path) -> None:
    path = tmp_path / "incident-bot.toml"
    message = config_error(tmp_path, '[severities.SEV-1]\nupdate_every = "15x"\n')
    assert message == (
        f'{path}: severities.SEV-1.update_every: "15x" is not a duration; use a number '
        'followed by s, m, h or d, e.g. "90s", "15m", "1h", "2d"'
    )
    assert "pydantic" not in message


def test_every_problem_gets_its_own_line(tmp_path: Path) -> None:
    message = config_error(
        tmp_path,
        """
timezone = "Mars/Olympus"
channel_prefix = "Inc!"
status_channel = "status page"
approvers = ["U012AB3CD", "bob"]
escalate_after = 0
archive_after = 15
templates_dir = "does/not/exist"

[severities.SEV-3]
update_every = "0m"
escalation = [{ after = "1h", notify = [] }, { after = "2h", notify = ["U1"] }]
""",
    )
    keys = [line.split(": ")[1] for line in message.splitlines()]
    assert keys == [
        "timezone",
        "channel_prefix",
        "status_channel",
        "approvers[1]",
        "escalate_after",
        "archive_after",
        "templates_dir",
        "severities.SEV-3.update_every",
        "severities.SEV-3.escalation[0].notify",
        "severities.SEV-3.escalation[1].notify[0]",
    ]
    assert '"Mars/Olympus" is not a known time zone' in message
    assert '"bob" is not a Slack user or user-group ID' in message
    assert "escalate_after: Input should be greater than or equal to 1 (got 0)" in message
    assert 'archive_after: 15 is not a duration; write it as a string, e.g. "15m"' in message
    assert '"does/not/exist" is not an existing directory' in message
    assert '"0m" is zero' in message
    assert "errors.pydantic.dev" not in message


def test_escalate_after_must_be_a_whole_number(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'escalate_after = "2"\n')
    assert ": escalate_after: Input should be a valid integer" in message
    assert '(got "2")' in message


def test_severity_must_be_a_table(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[severities]\nSEV-1 = 5\n")
    assert ": severities.SEV-1: " in message
    assert "(got 5)" in message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "incident-bot.toml"
    path.write_bytes(b'timezone = "\xff"\n')
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_drills_escalate_nobody_unless_the_drills_table_says_so(tmp_path: Path) -> None:
    assert IncidentConfig().drills.escalate is False
    assert load_config(write_toml(tmp_path, "[drills]\nescalate = true\n")).drills.escalate is True
    assert "drills.escalate" in config_error(tmp_path, '[drills]\nescalate = "yes"\n')
    assert "drills.page" in config_error(tmp_path, "[drills]\npage = true\n")
