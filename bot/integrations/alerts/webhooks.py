"""``POST /webhooks/pagerduty`` and ``POST /webhooks/alertmanager``: alerts coming in.

Each delivery is checked before its body is read as anything: PagerDuty's
``X-PagerDuty-Signature`` (HMAC of the raw body), Alertmanager's (or
Grafana's) ``Authorization: Bearer`` token. A refused delivery gets 401 or
400 with one line saying why, changes nothing, and is logged by that line
alone, never with the body. An accepted one is answered 202 once what it
changes is committed with the work that follows, which takes milliseconds:
PagerDuty gives a webhook 5 seconds. Verified deliveries are handled one at
a time in each process: each is short, and a burst of them would otherwise
make SQLite's writers wait on one another far longer than they queue here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.context import BotContext
from bot.integrations.alerts import alertmanager
from bot.integrations.alerts.events import AlertEvent, BadPayload
from bot.integrations.alerts.intake import receive_alert
from bot.integrations.pagerduty import webhook as pagerduty

log = logging.getLogger(__name__)

BODY_MAX = 1024 * 1024
"""PagerDuty sends at most 256 KB; an Alertmanager group of many alerts stays far below this."""

Endpoint = Callable[[Request], Awaitable[Response]]


class Refused(Exception):
    """A delivery answered ``status`` with a one-line ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def routes(ctx: BotContext) -> list[Route]:
    one_at_a_time = asyncio.Lock()

    async def from_pagerduty(request: Request) -> AlertEvent | pagerduty.Ignored:
        secret = ctx.settings.pagerduty_webhook_secret
        if ctx.config.pagerduty is None or secret is None:
            raise Refused(401, "PagerDuty webhooks are not configured here")
        body = await _body(request)
        if not pagerduty.signed_by_pagerduty(body, request.headers.get(pagerduty.SIGNATURE_HEADER),
                                             secret.get_secret_value()):
            raise Refused(401, f"{pagerduty.SIGNATURE_HEADER} is missing or does not match the body")
        return pagerduty.read_event(body)

    async def from_alertmanager(request: Request) -> AlertEvent:
        token = ctx.settings.alerts_webhook_token
        if ctx.config.alerts is None or token is None:
            raise Refused(401, "Alertmanager webhooks are not configured here")
        if not alertmanager.bearer_matches(request.headers.get("Authorization"), token.get_secret_value()):
            raise Refused(401, "the Authorization bearer token is missing or wrong")
        return alertmanager.read_group(await _body(request))

    return [
        Route("/webhooks/pagerduty", _endpoint(ctx, "PagerDuty", from_pagerduty, one_at_a_time), methods=["POST"]),
        Route("/webhooks/alertmanager", _endpoint(ctx, "Alertmanager", from_alertmanager, one_at_a_time),
              methods=["POST"]),
    ]


def _endpoint(ctx: BotContext, sender: str, read: Callable[[Request], Awaitable[AlertEvent | pagerduty.Ignored]],
              one_at_a_time: asyncio.Lock) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            event = await read(request)
        except Refused as refused:
            return _refuse(request, sender, refused.status, refused.reason)
        except BadPayload as problem:
            return _refuse(request, sender, 400, str(problem))
        if isinstance(event, pagerduty.Ignored):
            return JSONResponse({"status": "ignored", "detail": f"{event.what} changes nothing here"},
                                status_code=202)
        async with one_at_a_time:
            outcome = await receive_alert(ctx, event)
        log.info("%s webhook (%s, %s): %s", sender, event.change.value, event.delivery[:60], outcome)
        return JSONResponse({"status": "accepted", "detail": outcome}, status_code=202)

    return endpoint


async def _body(request: Request) -> bytes:
    """The raw body (signatures are over its exact bytes), refused past :data:`BODY_MAX`."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > BODY_MAX:
            raise Refused(413, f"the body is larger than {BODY_MAX // 1024} KB")
    return bytes(body)


def _refuse(request: Request, sender: str, status: int, reason: str) -> Response:
    client = request.client.host if request.client else "unknown"
    log.warning("refused a %s webhook from %s (%d): %s", sender, client, status, reason)
    return JSONResponse({"error": reason}, status_code=status)
