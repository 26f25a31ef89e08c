"""What Slack does with a POST to a command's or an interaction's response_url.

Slack allows 5 uses within 30 minutes. Beyond that it refuses; the stub answers 404
with `used_url` / `expired_url` (Slack's exact status and wording here are unconfirmed).
Accepted bodies can also change the channel: `replace_original` edits and
`delete_original` deletes the message the interaction came from, and
`response_type: in_channel` posts a visible message. An ephemeral answer is shown to
the person who acted when the URL knows who that was (the playground mints such URLs).
"""

from __future__ import annotations

from typing import Any

from .blocks import message_block_errors
from .state import Ephemeral, Message, ResponseUrl, Workspace

RESPONSE_URL_USES = 5
RESPONSE_URL_TTL_SECONDS = 30 * 60


def use_response_url(ws: Workspace, entry: ResponseUrl, body: Any) -> tuple[int, dict[str, Any]]:
    """Apply one POST; returns (HTTP status, JSON answer). Refused POSTs use nothing up."""
    if ws.clock() - entry.created > RESPONSE_URL_TTL_SECONDS:
        return 404, {"ok": False, "error": "expired_url"}
    if entry.uses >= RESPONSE_URL_USES:
        return 404, {"ok": False, "error": "used_url"}
    if not isinstance(body, dict):
        return 400, {"ok": False, "error": "invalid_payload"}
    blocks = body.get("blocks")
    if blocks is not None:
        errors = message_block_errors(blocks)
        if errors:
            return 400, {"ok": False, "error": "invalid_blocks", "errors": errors}
    if not body.get("delete_original") and not body.get("text") and not blocks:
        return 400, {"ok": False, "error": "no_text"}
    entry.uses += 1
    _apply(ws, entry, body)
    return 200, {"ok": True}


def _apply(ws: Workspace, entry: ResponseUrl, body: dict[str, Any]) -> None:
    """Change channel history the way Slack would for this body."""
    channel = ws.channels.get(entry.channel_id or "")
    if channel is None:
        return
    original = ws.find_message(channel, entry.message_ts)
    if body.get("delete_original"):
        if original is not None:
            channel.messages.remove(original)
        return
    if body.get("replace_original") and original is not None:
        original.history.append({"text": original.text, "blocks": original.blocks, "attachments": original.attachments})
        original.text = body.get("text", "")
        original.blocks = body.get("blocks")
        original.edited = True
        return
    if body.get("response_type") != "in_channel":
        if entry.user_id is not None:
            ws.ephemerals.append(
                Ephemeral(ws.next_ts(), channel.id, entry.user_id, body.get("text", ""), body.get("blocks"))
            )
        return
    channel.messages.append(
        Message(
            ts=ws.next_ts(),
            user=ws.bot_user_id,
            text=body.get("text", ""),
            blocks=body.get("blocks"),
            thread_ts=body.get("thread_ts"),
            bot_id=ws.bot_id,
        )
    )
