"""The trackers' webhooks: checking who sent them and reading which ticket was closed (pure).

Jira signs the raw body with HMAC-SHA256 under the webhook's secret and sends
``X-Hub-Signature: sha256=<hex>``; Linear sends the bare hex digest in
``Linear-Signature`` and puts the sending time in the payload's
``webhookTimestamp`` (milliseconds), which must be recent so a captured
delivery cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

JIRA_SIGNATURE_HEADER = "X-Hub-Signature"
LINEAR_SIGNATURE_HEADER = "Linear-Signature"
LINEAR_FRESH_FOR = timedelta(minutes=1)
JIRA_DONE = "done"
LINEAR_CLOSED = frozenset({"completed", "canceled"})


def _digest(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def jira_signed(secret: str, body: bytes, header: str | None) -> bool:
    """``sha256=<hex HMAC of the raw body>``, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(header.removeprefix("sha256=").strip().lower(), _digest(secret, body))


def linear_signed(secret: str, body: bytes, header: str | None) -> bool:
    """The hex HMAC of the raw body, compared in constant time."""
    if not header:
        return False
    return hmac.compare_digest(header.strip().lower(), _digest(secret, body))


def linear_fresh(payload: dict[str, Any], now: datetime) -> bool:
    """Whether ``webhookTimestamp`` is within a minute of now."""
    stamp = payload.get("webhookTimestamp")
    if not isinstance(stamp, int | float) or isinstance(stamp, bool):
        return False
    return abs(now.timestamp() * 1000 - stamp) <= LINEAR_FRESH_FOR.total_seconds() * 1000


def jira_closed_ticket(payload: dict[str, Any]) -> str | None:
    """The id of the issue an ``issue_updated`` delivery shows in a status of the *done* category."""
    if payload.get("webhookEvent") != "jira:issue_updated":
        return None
    issue = payload.get("issue")
    if not isinstance(issue, dict) or issue.get("id") is None:
        return None
    status = (issue.get("fields") or {}).get("status") or {}
    category = status.get("statusCategory") if isinstance(status, dict) else None
    if isinstance(category, dict) and category.get("key") == JIRA_DONE:
        return str(issue["id"])
    return None


def linear_closed_ticket(payload: dict[str, Any]) -> str | None:
    """The id of the issue an Issue delivery shows in a completed (or cancelled) state."""
    if payload.get("type") != "Issue" or payload.get("action") not in ("create", "update"):
        return None
    data = payload.get("data")
    if not isinstance(data, dict) or data.get("id") is None:
        return None
    state = data.get("state")
    if isinstance(state, dict) and state.get("type") in LINEAR_CLOSED:
        return str(data["id"])
    return None
