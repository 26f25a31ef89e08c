"""The HTTP side: Slack's request URL, health, metrics.

Starlette serves ``POST /slack/events`` through Bolt's own adapter (which
verifies signatures and acks within Slack's deadline) next to the endpoints
operators and load balancers use.
"""

from __future__ import annotations

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import status_page
from bot.context import BotContext
from bot.metrics import CONTENT_TYPE, Metrics


def create_web_app(ctx: BotContext, app: AsyncApp) -> Starlette:
    """The ASGI app; start-up and shutdown are the Runtime's job, not a lifespan's."""
    slack_handler = AsyncSlackRequestHandler(app)
    metrics = Metrics()

    async def slack_events(request: Request) -> Response:
        return await slack_handler.handle(request)

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
