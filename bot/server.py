"""The HTTP side: Slack's request URL, health, metrics.

Starlette serves ``POST /slack/events`` next to the endpoints operators and
load balancers use. Requests whose ack says only "received" are verified and
acked at once and worked on afterwards (:mod:`bot.intake`); the rest go
through Bolt, which verifies them and answers with what the listener acked.
"""

from __future__ import annotations

from slack_bolt.adapter.starlette.async_handler import to_async_bolt_request, to_starlette_response
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import status_page
from bot.context import BotContext
from bot.intake import Intake, acks_early
from bot.metrics import CONTENT_TYPE, Metrics


def create_web_app(ctx: BotContext, app: AsyncApp, intake: Intake) -> Starlette:
    """The ASGI app; start-up and shutdown are the Runtime's job, not a lifespan's."""
    metrics = Metrics()

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_request = to_async_bolt_request(request, body)
        if not acks_early(bolt_request):
            return to_starlette_response(await app.async_dispatch(bolt_request))
        if not intake.verified(body, request.headers):
            return Response(status_code=401)
        intake.accept(bolt_request)
        return Response(status_code=200)

    async def healthz(_: Request) -> Response:
        if await ctx.db.ping():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "database unreachable"}, status_code=503)

    async def prometheus(_: Request) -> Response:
        return Response(await metrics.render(ctx), media_type=CONTENT_TYPE)

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", prometheus, methods=["GET"]),
            *status_page.routes(ctx),  # the public status page (issue 5)
        ]
    )
