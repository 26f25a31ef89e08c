"""Arguments of a Web API call, and the error a method raises to refuse it.

Slack clients send arguments as a query string, a form or JSON, so values arrive as
strings (`"true"`, `"1"`, `"20"`) or as JSON types; these helpers read both.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

JSON_FIELDS = ("blocks", "view", "attachments", "files", "metadata")
"""Arguments that form-encoded clients send as JSON text."""


class SlackError(Exception):
    """Raised by a method handler; becomes `{"ok": false, "error": code, **extra}`."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON answer Slack gives for this error."""
        return {"ok": False, "error": self.error, **self.extra}


def invalid_arguments(*messages: str) -> SlackError:
    """Slack's answer to missing or malformed arguments, with its explanations."""
    return SlackError("invalid_arguments", response_metadata={"messages": list(messages)})


def decode_json_fields(params: dict[str, Any]) -> dict[str, Any]:
    """Decode JSON-text arguments; undecodable text is kept so handlers can refuse it."""
    decoded = dict(params)
    for name in JSON_FIELDS:
        value = decoded.get(name)
        if isinstance(value, str) and value.strip():
            with contextlib.suppress(json.JSONDecodeError):
                decoded[name] = json.loads(value)
    return decoded


class Params:
    """Typed reads over one call's merged arguments."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) is not None

    def raw(self, name: str) -> Any:
        """The value as sent (decoded JSON for JSON fields), or None."""
        return self.values.get(name)

    def text(self, name: str) -> str | None:
        """A string argument; empty strings count as missing, as in Slack."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)

    def flag(self, name: str) -> bool:
        """A boolean argument: `true`/`1` (any case) or a JSON true."""
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in {"1", "true"} if value is not None else False

    def number(self, name: str, default: int) -> int:
        """An integer argument, or `default` when missing or not a number."""
        try:
            return int(self.values.get(name, default))
        except (TypeError, ValueError):
            return default

    def ids(self, name: str) -> list[str]:
        """A comma-separated (or JSON list) argument as a list without blanks."""
        value = self.values.get(name)
        items = value if isinstance(value, list) else str(value or "").split(",")
        return [str(item).strip() for item in items if str(item).strip()]
