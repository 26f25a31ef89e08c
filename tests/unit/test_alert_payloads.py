"""Reading webhook deliveries: PagerDuty's signature and V3 events, Alertmanager's token and groups."""

import json

import pytest

from bot.integrations.alerts.alertmanager import bearer_matches, read_group
from bot.integrations.alerts.events import BadPayload, Change
from bot.integrations.pagerduty.webhook import Ignored, read_event, signed_by_pagerduty
from tests.alert_senders import (
    PAGERDUTY_SECRET,
    alert,
    alertmanager_group,
    grafana_group,
    pagerduty_event,
    pagerduty_ping,
    pagerduty_signature,
)


def body_of(payload: dict) -> bytes:
    return json.dumps(payload).encode()


# --- PagerDuty's signature -------------------------------------------------------------------


def test_a_body_signed_with_the_secret_is_pagerduty_s() -> None:
    body = body_of(pagerduty_event())
    assert signed_by_pagerduty(body, pagerduty_signature(body, PAGERDUTY_SECRET), PAGERDUTY_SECRET)


def test_any_one_of_several_signatures_may_match_while_a_secret_is_rotated() -> None:
    body = body_of(pagerduty_event())
    header = pagerduty_signature(body, "the-old-secret", PAGERDUTY_SECRET)
    assert "," in header
    assert signed_by_pagerduty(body, header, PAGERDUTY_SECRET)
    assert signed_by_pagerduty(body, header.replace(",", ", "), PAGERDUTY_SECRET)


@pytest.mark.parametrize("header", [None, "", "v1=", "v1=00ff", "v0=abc", "sha256=abc", "v1=é"])
def test_a_missing_or_foreign_signature_is_not_pagerduty_s(header: str | None) -> None:
    assert not signed_by_pagerduty(body_of(pagerduty_event()), header, PAGERDUTY_SECRET)


def test_a_signature_over_another_body_or_with_another_secret_does_not_match() -> None:
    body = body_of(pagerduty_event())
    assert not signed_by_pagerduty(body, pagerduty_signature(body, "another-secret"), PAGERDUTY_SECRET)
    tampered = body.replace(b"The server is on fire.", b"The server is fine.")
    assert not signed_by_pagerduty(tampered, pagerduty_signature(body, PAGERDUTY_SECRET), PAGERDUTY_SECRET)


# --- PagerDuty's events ----------------------------------------------------------------------


def test_a_triggered_incident_reads_as_an_alert_firing() -> None:
    event = read_event(body_of(pagerduty_event(event_id="01ABC", urgency="low", incident_key="INC-7")))
    assert not isinstance(event, Ignored)
    assert (event.source, event.key, event.delivery, event.change) == ("pagerduty", "PT4KHLK", "pagerduty:01ABC",
                                                                       Change.FIRING)
    assert event.title == "The server is on fire."
    assert event.severity_labels == ("low",)
    assert event.started_at.isoformat() == "2026-05-20T14:00:00+00:00"
    assert event.assignees == ("Earline Greenholt",)
    assert event.page_key == "INC-7"
    assert [(link.text, link.url) for link in event.links] == [
        ("PagerDuty incident #1234", "https://acme.pagerduty.com/incidents/PT4KHLK")]
    assert "service My Mail Service" in event.details and "priority P1" in event.details


@pytest.mark.parametrize(("event_type", "change"), [
    ("incident.acknowledged", Change.ACKNOWLEDGED), ("incident.resolved", Change.RESOLVED),
    ("incident.reopened", Change.REOPENED), ("incident.unacknowledged", Change.UNACKNOWLEDGED),
    ("incident.escalated", Change.REASSIGNED), ("incident.reassigned", Change.REASSIGNED),
])
def test_later_incident_events_read_as_their_change(event_type: str, change: Change) -> None:
    event = read_event(body_of(pagerduty_event(event_type, agent="Tenex Engineer")))
    assert not isinstance(event, Ignored)
    assert event.change == change and event.actor == "Tenex Engineer"


@pytest.mark.parametrize("event_type", ["incident.annotated", "incident.priority_updated", "service.updated"])
def test_pagerduty_events_that_change_nothing_here_are_ignored(event_type: str) -> None:
    assert read_event(body_of(pagerduty_event(event_type))) == Ignored(event_type)


def test_the_test_ping_is_ignored() -> None:
    assert read_event(body_of(pagerduty_ping())) == Ignored("pagey.ping")


@pytest.mark.parametrize(("body", "reason"), [
    (b"not json", "the body is not JSON"),
    (b"[]", "the body: should be a JSON object"),
    (body_of({"event": "x"}), "event: should be a JSON object"),
    (body_of({"event": {"id": "x", "event_type": "incident.triggered", "occurred_at": "2026-05-20T14:00:00Z"}}),
     "event.data: field required"),
    (body_of({"event": {**pagerduty_event()["event"], "event_type": "invoice.paid"}}),
     "event.event_type: 'invoice.paid' is not a PagerDuty event type"),
    (body_of({"event": {**pagerduty_event()["event"], "occurred_at": "yesterday"}}), "event.occurred_at:"),
    (body_of({"event": {**pagerduty_event()["event"], "data": {"type": "incident", "created_at": "2026-05-20T14:00:00Z"}}}),
     "event.data.id: field required"),
])
def test_a_body_that_is_not_the_documented_shape_says_what_is_wrong_in_one_line(body: bytes, reason: str) -> None:
    with pytest.raises(BadPayload) as refused:
        read_event(body)
    assert str(refused.value).startswith(reason)
    assert "\n" not in str(refused.value)


# --- Alertmanager ----------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "matches"), [
    ("Bearer s3cret", True), ("Bearer  s3cret ", True), ("Bearer wrong", False), ("bearer s3cret", False),
    ("Basic s3cret", False), ("s3cret", False), ("", False), (None, False), ("Bearer é", False),
])
def test_the_bearer_token_must_be_exactly_the_configured_one(header: str | None, matches: bool) -> None:
    assert bearer_matches(header, "s3cret") is matches


def test_a_firing_group_reads_as_an_alert_firing() -> None:
    event = read_group(body_of(alertmanager_group(alert(severity="critical"))))
    assert (event.source, event.change, event.firing) == ("alertmanager", Change.FIRING, 1)
    assert event.title == "BlackBox Probe Failure: https://server.example.org"
    assert event.severity_labels == ("critical",)
    assert event.started_at.isoformat() == "2026-05-20T13:58:45.828000+00:00"
    assert [link.text for link in event.links] == ["Source", "Runbook", "Alertmanager"]
    assert "has been down for over 5m" in event.details


def test_the_same_group_in_the_same_state_is_the_same_delivery_and_any_change_is_another() -> None:
    first = read_group(body_of(alertmanager_group(alert(), alert(instance="https://b.example.org"))))
    again = read_group(body_of(alertmanager_group(alert(), alert(instance="https://b.example.org"))))
    more = read_group(body_of(alertmanager_group(alert(), alert(instance="https://c.example.org"))))
    resolved = read_group(body_of(alertmanager_group(alert(status="resolved", ends_at="2026-05-20T14:30:00Z"))))
    assert first.delivery == again.delivery
    assert len({first.delivery, more.delivery, resolved.delivery}) == 3
    assert first.key == more.key == resolved.key, "one group is one alert, whatever it reports"
    assert resolved.change == Change.RESOLVED and resolved.occurred_at is not None


def test_a_group_without_a_common_summary_is_named_by_its_alert_and_grouping() -> None:
    body = alertmanager_group(alert(instance="https://a.example.org"), alert(instance="https://b.example.org"),
                              name="HighErrorRate")
    body["alerts"][0]["labels"]["alertname"] = body["alerts"][1]["labels"]["alertname"] = "HighErrorRate"
    body["groupLabels"] = {"alertname": "HighErrorRate", "service": "checkout"}
    event = read_group(body_of(body))
    assert event.title == "HighErrorRate (service=checkout)"
    assert event.firing == 2


def test_grafana_s_contact_point_is_read_as_the_same_shape() -> None:
    event = read_group(body_of(grafana_group(alert(severity="warning"))))
    assert event.source == "grafana"
    assert event.severity_labels == ("warning",)
    assert "Silence" in [link.text for link in event.links]


@pytest.mark.parametrize(("payload", "reason"), [
    ({**alertmanager_group(), "version": "3"}, "version: '3' is not a supported payload version"),
    ({**alertmanager_group(), "alerts": []}, "alerts: list should have at least 1 item"),
    ({**alertmanager_group(), "status": "pending"}, "status: input should be 'firing' or 'resolved'"),
    ({k: v for k, v in alertmanager_group().items() if k != "groupKey"}, "groupKey: field required"),
    ({**alertmanager_group(), "alerts": [{**alert(), "startsAt": "soon"}]}, "alerts.0.startsAt:"),
])
def test_an_alertmanager_body_of_another_shape_says_what_is_wrong(payload: dict, reason: str) -> None:
    with pytest.raises(BadPayload) as refused:
        read_group(body_of(payload))
    assert str(refused.value).startswith(reason)


def test_links_are_only_web_addresses() -> None:
    body = alertmanager_group(alert())
    body["alerts"][0]["generatorURL"] = "javascript:alert(1)"
    body["externalURL"] = "ftp://example.org"
    assert [link.text for link in read_group(body_of(body)).links] == ["Runbook"]
