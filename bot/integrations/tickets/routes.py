"""``POST /webhooks/jira`` and ``POST /webhooks/linear``: a ticket closed in the tracker closes its item.

A delivery is refused with 401, changing nothing, unless the configured
tracker's signature checks out. A signed delivery is answered 200 whatever it
carries (the tracker would otherwise retry it); only a ticket of an open action
item changes anything, so a repeated delivery changes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.context import BotContext
from bot.integrations.tickets import webhooks
from bot.timeline.action_items import close_from_tracker

log = logging.getLogger(__name__)


def routes(ctx: BotContext) -> list[Route]:
    async def jira(request: Request) -> Response:
        body = await request.body()
        secret = _secret(ctx, "jira", ctx.settings.jira_webhook_secret)
        if secret is None or not webhooks.jira_signed(secret, body, request.headers.get(webhooks.JIRA_SIGNATURE_HEADER)):
            return Response(status_code=401)
        return await _close(ctx, body, "Jira", webhooks.jira_closed_ticket)

    async def linear(request: Request) -> Response:
        body = await request.body()
        secret = _secret(ctx, "linear", ctx.settings.linear_webhook_secret)
        signature = request.headers.get(webhooks.LINEAR_SIGNATURE_HEADER)
        if secret is None or not webhooks.linear_signed(secret, body, signature):
            return Response(status_code=401)
        payload = _json(body)
        if payload is None or not webhooks.linear_fresh(payload, ctx.clock.now()):
            return Response(status_code=401)
        return await _close(ctx, body, "Linear", webhooks.linear_closed_ticket)

    return [Route("/webhooks/jira", jira, methods=["POST"]), Route("/webhooks/linear", linear, methods=["POST"])]


def _secret(ctx: BotContext, provider: str, secret: SecretStr | None) -> str | None:
    """The webhook secret, only for the tracker this bot is configured with."""
    tickets = ctx.config.tickets
    if tickets is None or tickets.provider != provider or secret is None:
        return None
    return secret.get_secret_value()


async def _close(ctx: BotContext, body: bytes, tracker: str,
                 closed_ticket: Callable[[dict[str, Any]], str | None]) -> Response:
    payload = _json(body)
    if payload is None:
        return JSONResponse({"error": "the body is not a JSON object"}, status_code=400)
    ticket_id = closed_ticket(payload)
    closed = ticket_id is not None and await close_from_tracker(ctx, ticket_id, tracker=tracker)
    if closed:
        log.info("%s ticket %s closed; its action item is closed too", tracker, ticket_id)
    return JSONResponse({"ok": True, "closed_action_item": closed})


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None
