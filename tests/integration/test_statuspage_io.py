"""The Statuspage client against a local stand-in of Statuspage's REST API."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config.settings import ConfigError, IncidentConfig, StatuspageConfig, load_config, load_settings
from bot.status.statuspage_client import StatuspageClient, StatuspageError, StatuspageUpdate, check_configured, client_for
from tests.statuspage_stub import FakeStatuspage

FAST = timedelta(milliseconds=20)


@pytest.fixture
async def statuspage() -> AsyncIterator[FakeStatuspage]:
    async with FakeStatuspage() as fake:
        yield fake


def client(fake: FakeStatuspage, *, attempts: int = 3, key: str | None = None,
           components: tuple[str, ...] = ("cmp0checkout",)) -> StatuspageClient:
    config = StatuspageConfig(page_id=fake.page_id, api_url=fake.api_url, component_ids=list(components),
                              attempts=attempts, retry_delay=FAST)
    return StatuspageClient(config, api_key=key or fake.api_key)


def update(status: str = "investigating", body: str = "We are looking into it.", severity: int = 2) -> StatuspageUpdate:
    return StatuspageUpdate(name="Checkout errors", status=status, body=body, severity=severity)


async def test_create_then_update_maps_status_impact_and_components(statuspage: FakeStatuspage) -> None:
    async with client(statuspage) as sp:
        incident_id = await sp.create_incident(update())
        stored = statuspage.incidents[incident_id]
        assert stored["status"] == "investigating" and stored["impact"] == "major"
        assert statuspage.components["cmp0checkout"] == "partial_outage"
        assert statuspage.components["cmp0payments"] == "operational"
        await sp.update_incident(incident_id, update("resolved", "All fixed."))
    assert stored["status"] == "resolved"
    assert [u["body"] for u in stored["incident_updates"]] == ["We are looking into it.", "All fixed."]
    assert statuspage.components["cmp0checkout"] == "operational"
    create = statuspage.writes()[0].body["incident"]
    assert create["component_ids"] == ["cmp0checkout"] and create["deliver_notifications"] is True


async def test_severity_one_is_a_major_outage_with_critical_impact(statuspage: FakeStatuspage) -> None:
    async with client(statuspage) as sp:
        incident_id = await sp.create_incident(update(severity=1))
    assert statuspage.incidents[incident_id]["impact"] == "critical"
    assert statuspage.components["cmp0checkout"] == "major_outage"


async def test_server_errors_are_retried_with_backoff(statuspage: FakeStatuspage) -> None:
    statuspage.fail_next(2, status=503)
    async with client(statuspage, attempts=3) as sp:
        incident_id = await sp.create_incident(update())
    assert incident_id in statuspage.incidents
    assert [c.status for c in statuspage.calls] == [503, 503, 201]


async def test_rate_limit_waits_for_retry_after(statuspage: FakeStatuspage) -> None:
    statuspage.fail_next(1, status=429, retry_after=1)
    started = time.monotonic()
    async with client(statuspage) as sp:
        await sp.create_incident(update())
    assert time.monotonic() - started >= 0.9
    assert [c.status for c in statuspage.calls] == [429, 201]


async def test_giving_up_after_the_last_attempt(statuspage: FakeStatuspage) -> None:
    statuspage.fail_next(5, status=500)
    async with client(statuspage, attempts=2) as sp:
        with pytest.raises(StatuspageError) as caught:
            await sp.create_incident(update())
    assert caught.value.retryable and "HTTP 500" in caught.value.message
    assert len(statuspage.calls) == 2 and not statuspage.incidents


async def test_a_wrong_key_fails_at_once(statuspage: FakeStatuspage) -> None:
    async with client(statuspage, key="wrong") as sp:
        with pytest.raises(StatuspageError) as caught:
            await sp.create_incident(update())
    assert not caught.value.retryable and "401" in caught.value.message
    assert len(statuspage.calls) == 1


async def test_an_unknown_component_is_refused(statuspage: FakeStatuspage) -> None:
    async with client(statuspage, components=("cmp0nothere",)) as sp:
        with pytest.raises(StatuspageError, match="422"):
            await sp.create_incident(update())


async def test_unreachable_provider_is_retried_then_reported(statuspage: FakeStatuspage) -> None:
    sp = client(statuspage, attempts=2)
    await statuspage.stop()
    async with sp:
        with pytest.raises(StatuspageError) as caught:
            await sp.create_incident(update())
    assert caught.value.retryable and "unreachable" in caught.value.message


async def test_lookups_used_after_a_crash(statuspage: FakeStatuspage) -> None:
    async with client(statuspage) as sp:
        incident_id = await sp.create_incident(update())
        assert await sp.find_unresolved("Checkout errors") == incident_id
        assert await sp.find_unresolved("Something else") is None
        await sp.update_incident(incident_id, update("identified", "Found it."))
        assert await sp.latest_body(incident_id) == "Found it."
        await sp.update_incident(incident_id, update("resolved", "Fixed."))
        assert await sp.find_unresolved("Checkout errors") is None


def test_the_statuspage_table_is_optional_and_validated(tmp_path: Path) -> None:
    assert IncidentConfig().statuspage is None
    good = tmp_path / "good.toml"
    good.write_text('[statuspage]\npage_id = "kctbh9vrtdwd"\ncomponent_ids = ["8kbf7d35c070"]\n'
                    'retry_delay = "3s"\n')
    config = load_config(good).statuspage
    assert config is not None and config.page_id == "kctbh9vrtdwd" and config.attempts == 5
    assert config.api_url == "https://api.statuspage.io/v1" and config.retry_delay == timedelta(seconds=3)
    bad = tmp_path / "bad.toml"
    bad.write_text('[statuspage]\npage_id = "Not An Id"\napi_url = "ftp://x"\nattempts = 0\n')
    with pytest.raises(ConfigError) as caught:
        load_config(bad)
    message = str(caught.value)
    for key in ("statuspage.page_id", "statuspage.api_url", "statuspage.attempts"):
        assert key in message


def test_a_configured_statuspage_needs_its_api_key() -> None:
    config = IncidentConfig.model_validate({"statuspage": {"page_id": "kctbh9vrtdwd"}})
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    with pytest.raises(ConfigError, match="STATUSPAGE_API_KEY"):
        check_configured(load_settings(env), config)
    settings = load_settings({**env, "STATUSPAGE_API_KEY": "k"})
    check_configured(settings, config)
    assert client_for(settings, config) is not None
    assert client_for(settings, IncidentConfig()) is None
