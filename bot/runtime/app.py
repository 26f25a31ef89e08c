"""Building the Bolt app and the shared context from settings."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

from bot.clock import Clock, SystemClock
from bot.config.settings import IncidentConfig, Settings
from bot.context import BotContext
from bot.slack.gateway import SlackGateway
from bot.config.render import Renderer
from handlers import register_all
from storage.db import Database


def build_context(settings: Settings, config: IncidentConfig, *, clock: Clock | None = None) -> BotContext:
    """Everything the listeners and jobs share; nothing here talks to the network yet."""
    return BotContext(
        settings=settings,
        config=config,
        db=Database(settings.database_url),
        slack=SlackGateway(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url),
        render=Renderer(timezone=config.tz, override_dir=config.templates_dir),
        clock=clock or SystemClock(),
    )


def build_app(ctx: BotContext) -> AsyncApp:
    """The Bolt app with every listener, sharing the gateway's client; both transports feed it.

    Authorization answers from the identity that start-up already proved with
    auth.test, so no request ever waits on a Web API call before its ack.

    It runs each listener to the end before returning (``process_before_response``):
    the intake (:mod:`bot.runtime.intake`) has already acknowledged the requests
    whose ack is empty, and the listeners of the others ack first and hand their
    remaining work to :meth:`BotContext.after_ack`. So no listener runs unseen in
    the background, and a graceful stop can wait for all of them.

    It does not check signatures: the HTTP endpoint verifies every request before
    Bolt sees it, and Socket Mode requests arrive over an authenticated socket.
    """
    token = ctx.settings.slack_bot_token.get_secret_value()

    async def authorize() -> AuthorizeResult:
        identity = await ctx.slack.identity()
        return AuthorizeResult(
            enterprise_id=identity.get("enterprise_id"), team_id=identity.get("team_id"),
            bot_user_id=identity.get("user_id"), bot_id=identity.get("bot_id"), bot_token=token,
        )

    app = AsyncApp(
        name="incident-bot",  # without a name, Bolt reads the whole call stack to make one up
        client=ctx.slack.client,
        authorize=authorize,
        process_before_response=True,
        request_verification_enabled=False,
        logger=logging.getLogger("slack_bolt"),
    )
    register_all(app, ctx)
    return app
