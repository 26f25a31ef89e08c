"""The Slack app manifest is valid and declares exactly what the product uses."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from jsonschema.validators import validator_for

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifest.yml"
# Slack's published schema lives in the team's shared/ folder, beside the repository checkout.
_CANDIDATES = [Path(__file__).resolve().parents[3] / "shared", Path("/work/shared")]
SCHEMA = next((c for c in _CANDIDATES if c.is_dir()), _CANDIDATES[0]) / "slack" / "manifest.schema.1.0.0.json"
EVENTS_URL = "https://example.com/slack/events"

LEAST_BOT_SCOPES = {
    "commands",
    "chat:write",
    "channels:manage",
    "groups:write",
    "channels:read",
    "groups:read",
    "channels:join",
    "channels:history",
    "groups:history",
    "pins:write",
    "reactions:read",
    "users:read",
    "usergroups:read",
    "files:write",
    "bookmarks:write",
    "users:read.email",
}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.skipif(not SCHEMA.exists(), reason="Slack's manifest schema is not available here")
def test_manifest_matches_slacks_schema(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator_class = validator_for(schema, default=Draft7Validator)
    validator_class.check_schema(schema)
    problems = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator_class(schema).iter_errors(manifest)
    ]
    assert problems == []


def test_identity(manifest: dict[str, Any]) -> None:
    assert manifest["display_information"]["name"] == "Incident Bot"
    bot_user = manifest["features"]["bot_user"]
    assert bot_user == {"display_name": "Incident Bot", "always_online": True}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_slash_command(manifest: dict[str, Any]) -> None:
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/incident"
    assert command["should_escape"] is True
    assert "declare" in command["usage_hint"]
    assert command["url"] == EVENTS_URL


def test_message_shortcut(manifest: dict[str, Any]) -> None:
    [shortcut] = manifest["features"]["shortcuts"]
    assert shortcut == {
        "name": "Add to incident timeline",
        "type": "message",
        "callback_id": "add_to_timeline",
        "description": shortcut["description"],
    }


def test_events_and_transport(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"] == {"is_enabled": True, "request_url": EVENTS_URL}
    assert settings["event_subscriptions"]["request_url"] == EVENTS_URL
    assert sorted(settings["event_subscriptions"]["bot_events"]) == [
        "app_home_opened",
        "reaction_added",
    ]


def test_least_bot_scopes(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    assert set(scopes) == {"bot"}, "the bot needs no user token"
    assert len(scopes["bot"]) == len(set(scopes["bot"]))
    assert set(scopes["bot"]) == LEAST_BOT_SCOPES


def test_every_scope_and_event_says_why() -> None:
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    wanted = LEAST_BOT_SCOPES | {"app_home_opened", "reaction_added"}
    justified = {match.group(1) for line in lines if (match := re.fullmatch(r"\s*-\s+([a-z_:.]+)\s+#\s*\S.*", line))}
    assert wanted <= justified
