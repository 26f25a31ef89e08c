"""The pure parts of the tracker, Confluence and call-link integrations: configuration, signatures,
payloads, and the documents sent out."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest

from bot import cli
from bot.config.settings import ConfigError, IncidentConfig, load_config, load_settings
from bot.integrations.call_link import call_link
from bot.integrations.checks import check_configured
from bot.integrations.confluence.storage_format import storage_format
from bot.integrations.http import refusal_detail
from bot.integrations.tickets import webhooks
from bot.integrations.tickets.jira import document
from storage.models import Incident

REQUIRED_ENV = {"SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_SIGNING_SECRET": "shh-secret"}
JIRA = '[tickets]\nprovider = "jira"\nurl = "https://example.atlassian.net"\nproject = "OPS"\n'


def config_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def loaded(tmp_path: Path, text: str) -> IncidentConfig:
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return load_config(path)


# --- configuration -------------------------------------------------------------------


def test_a_jira_table_with_its_defaults(tmp_path: Path) -> None:
    tickets = loaded(tmp_path, JIRA).tickets
    assert tickets is not None
    assert (tickets.provider, tickets.url, tickets.project, tickets.issue_type, tickets.incident_ticket) == (
        "jira", "https://example.atlassian.net", "OPS", "Task", False)


def test_a_linear_table_with_its_defaults(tmp_path: Path) -> None:
    tickets = loaded(tmp_path, '[tickets]\nprovider = "linear"\nteam = "ENG"\nincident_ticket = true\n').tickets
    assert tickets is not None and tickets.api_url == "https://api.linear.app/graphql" and tickets.incident_ticket


@pytest.mark.parametrize(("table", "expected"), [
    ('provider = "asana"', 'tickets.provider: "asana" is not a tracker this bot knows; use "jira" or "linear"'),
    ('provider = "jira"\nproject = "OPS"', 'tickets: url is required with provider = "jira"'),
    ('provider = "jira"\nurl = "example.atlassian.net"\nproject = "OPS"',
     'tickets.url: "example.atlassian.net" is not an http:// or https:// URL'),
    ('provider = "jira"\nurl = "https://x.atlassian.net"\nproject = "ops team"',
     'tickets.project: "ops team" is not a Jira project key'),
    ('provider = "linear"\nteam = "ENG"\nproject = "OPS"', 'tickets: project is not a key of provider = "linear"'),
    ('provider = "linear"', 'tickets: team is required with provider = "linear"'),
    ('provider = "linear"\nteam = "ENG"\nurgency = 1', "tickets.urgency: unknown key"),
])
def test_a_bad_tickets_table_names_the_key(tmp_path: Path, table: str, expected: str) -> None:
    assert expected in config_error(tmp_path, f"[tickets]\n{table}\n")


@pytest.mark.parametrize(("text", "expected"), [
    ('[confluence]\nurl = "https://x.atlassian.net"', "confluence.space: is required but not set"),
    ('[confluence]\nurl = "x.atlassian.net"\nspace = "OPS"', 'confluence.url: "x.atlassian.net" is not an http'),
    ('[confluence]\nurl = "https://x.atlassian.net"\nspace = "OPS"\nparent_page_id = "home"',
     'confluence.parent_page_id: "home" is not a Confluence page id'),
    ('bridge_url = "meet.example.com/{reference}"', 'bridge_url: "meet.example.com/{reference}" is not an http'),
    ('bridge_url = "https://meet.example.com/{incident}"',
     'bridge_url: "https://meet.example.com/{incident}" has the placeholder {incident}'),
    ('bridge_url = "https://meet.example.com/{reference"', "has an unmatched { or }"),
])
def test_bad_confluence_and_bridge_settings_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in config_error(tmp_path, text + "\n")


def test_the_confluence_site_is_kept_without_its_wiki_path(tmp_path: Path) -> None:
    confluence = loaded(tmp_path, '[confluence]\nurl = "https://x.atlassian.net/wiki/"\nspace = "OPS"\n'
                                  "parent_page_id = 98304\n").confluence
    assert confluence is not None and confluence.url == "https://x.atlassian.net"
    assert confluence.parent_page_id == "98304"


def test_missing_secrets_stop_start_up_naming_each_variable(tmp_path: Path) -> None:
    config = loaded(tmp_path, JIRA + '\n[confluence]\nurl = "https://x.atlassian.net"\nspace = "OPS"\n')
    settings = load_settings({**REQUIRED_ENV, "JIRA_EMAIL": "bot@example.com", "JIRA_API_TOKEN": "secret-token"})
    with pytest.raises(ConfigError) as caught:
        check_configured(settings, config)
    lines = str(caught.value).splitlines()
    assert lines == [
        ('tickets: the [tickets] table (provider = "jira") needs JIRA_WEBHOOK_SECRET; set it in the environment, '
         "or remove the table"),
        "confluence: the [confluence] table needs CONFLUENCE_EMAIL; set it in the environment, or remove the table",
        "confluence: the [confluence] table needs CONFLUENCE_API_TOKEN; set it in the environment, or remove the table",
    ]
    assert "secret-token" not in str(caught.value) and "secret-token" not in repr(settings)


def test_nothing_is_needed_without_the_tables() -> None:
    check_configured(load_settings(REQUIRED_ENV), IncidentConfig())


# --- the call link -------------------------------------------------------------------


def test_the_call_link_fills_in_reference_and_channel() -> None:
    incident = Incident(id=42, request_key="k", title="t", severity=2, declared_by="U1", channel_name="inc-20260101-db")
    assert call_link("https://meet.example.com/{reference}/{channel}", incident) == (
        "https://meet.example.com/INC-42/inc-20260101-db")
    assert call_link(None, incident) is None


# --- webhooks --------------------------------------------------------------------------


def signed(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_jira_signatures() -> None:
    body = b'{"webhookEvent": "jira:issue_updated"}'
    assert webhooks.jira_signed("s3cret", body, "sha256=" + signed("s3cret", body))
    assert not webhooks.jira_signed("s3cret", body, signed("s3cret", body))
    assert not webhooks.jira_signed("s3cret", body + b" ", "sha256=" + signed("s3cret", body))
    assert not webhooks.jira_signed("s3cret", body, None)


def test_linear_signatures_and_freshness() -> None:
    body = b'{"type": "Issue"}'
    assert webhooks.linear_signed("s3cret", body, signed("s3cret", body))
    assert not webhooks.linear_signed("other", body, signed("s3cret", body))
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    stamp = int(now.timestamp() * 1000)
    assert webhooks.linear_fresh({"webhookTimestamp": stamp - 30_000}, now)
    assert not webhooks.linear_fresh({"webhookTimestamp": stamp - 61_000}, now)
    assert not webhooks.linear_fresh({"webhookTimestamp": "soon"}, now)


def test_which_jira_deliveries_close_a_ticket() -> None:
    done = {"webhookEvent": "jira:issue_updated",
            "issue": {"id": "10001", "key": "OPS-1", "fields": {"status": {"statusCategory": {"key": "done"}}}}}
    assert webhooks.jira_closed_ticket(done) == "10001"
    started = json.loads(json.dumps(done).replace('"done"', '"indeterminate"'))
    assert webhooks.jira_closed_ticket(started) is None
    assert webhooks.jira_closed_ticket({**done, "webhookEvent": "jira:issue_created"}) is None


def test_which_linear_deliveries_close_a_ticket() -> None:
    completed = {"action": "update", "type": "Issue", "data": {"id": "abc", "state": {"type": "completed"}}}
    assert webhooks.linear_closed_ticket(completed) == "abc"
    assert webhooks.linear_closed_ticket({**completed, "type": "Comment"}) is None
    assert webhooks.linear_closed_ticket({**completed, "action": "remove"}) is None
    started = {**completed, "data": {"id": "abc", "state": {"type": "started"}}}
    assert webhooks.linear_closed_ticket(started) is None


# --- what is sent out ---------------------------------------------------------------------


def test_jira_descriptions_are_atlassian_documents_with_links() -> None:
    doc = document("Fix it\n\nChannel: https://x.slack.com/archives/C1 now")
    assert doc["type"] == "doc" and doc["version"] == 1 and len(doc["content"]) == 2
    link = doc["content"][1]["content"][1]
    assert link == {"type": "text", "text": "https://x.slack.com/archives/C1",
                    "marks": [{"type": "link", "attrs": {"href": "https://x.slack.com/archives/C1"}}]}


def test_the_page_body_is_xhtml_and_never_markup_from_user_text() -> None:
    body = storage_format("# Post-mortem\n\n| a | b |\n|---|---|\n| one<br>two | <script>x</script> |\n\n"
                          '<ac:structured-macro ac:name="html">')
    ElementTree.fromstring(f"<root>{body}</root>")
    assert "<table>" in body and "one<br />two" in body
    assert "<script>" not in body and "&lt;ac:structured-macro" in body


def test_refusals_read_as_the_service_said_them() -> None:
    assert refusal_detail(400, '{"errorMessages": [], "errors": {"project": "valid project is required"}}') == (
        "project: valid project is required (HTTP 400)")
    assert refusal_detail(404, '{"statusCode": 404, "message": "No space with key : X"}') == (
        "No space with key : X (HTTP 404)")
    assert refusal_detail(401, "<html>nope</html>") == "the credentials were not accepted (HTTP 401)"
    assert refusal_detail(418, "") == "HTTP 418"


def test_check_config_refuses_a_table_whose_secret_is_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "bot.toml"
    policy.write_text('[confluence]\nurl = "https://example.atlassian.net"\nspace = "OPS"\n')
    for name, value in {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "INCIDENT_BOT_CONFIG": str(policy),
                        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}"}.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["check-config"]) == 2
    assert "CONFLUENCE_EMAIL" in capsys.readouterr().err
