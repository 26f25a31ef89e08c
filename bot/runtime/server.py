"""The HTTP side: Slack's request URL, health, metrics.

Starlette serves ``POST /slack/events`` next to the endpoints operators and
load balancers use. Every Slack request is verified here, once, with
slack-sdk's signature verifier, then handed to the intake
(:mod:`bot.runtime.intake`), whose ack becomes the HTTP response.
"""

from __future__ import annotations

from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.status import public_page
from bot.integrations.alerts import webhooks as alert_webhooks
from bot.integrations.tickets import routes as ticket_webhooks
from bot.context import BotContext
from bot.runtime.intake import Intake
from bot.metrics.prometheus import CONTENT_TYPE, Metrics


def create_web_app(ctx: BotContext, intake: Intake) -> Starlette:
    """The ASGI app; start-up and shutdown are the Runtime's job, not a lifespan's."""
    metrics = Metrics()
    verifier = SignatureVerifier(ctx.settings.slack_signing_secret.get_secret_value())

    def signed_by_slack(body: bytes, request: Request) -> bool:
        """Slack's signature over a timestamp under 5 minutes old; the Bolt app relies on this check."""
        try:
            return verifier.is_valid_request(body, dict(request.headers))
        except ValueError:  # a timestamp that is not a number
            return False

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        if not signed_by_slack(body, request):
            return Response(status_code=401)
        return to_starlette_response(await intake.receive(to_async_bolt_request(request, body)))

    async def healthz(_: Request) -> Response:
        if await ctx.db.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "database unreachable"}, status_code=503)

    async def prometheus(_: Request) -> Response:
        in_progress = intake.queued + len(ctx.acknowledged)
        return Response(await metrics.render(ctx, in_progress=in_progress), media_type=CONTENT_TYPE)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", prometheus, methods=["GET"]),
            *public_page.routes(ctx),  # the public status page
            *ticket_webhooks.routes(ctx),  # tickets closed in Jira or Linear
            *alert_webhooks.routes(ctx),  # alerts from PagerDuty and Alertmanager (or Grafana)
        ]
    )
