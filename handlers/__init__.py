"""Slack listeners, one module per surface; :func:`register_all` wires them to the app."""

from slack_bolt.async_app import AsyncApp

from bot.context import BotContext
from handlers import commands, errors, modals


def register_all(app: AsyncApp, ctx: BotContext) -> None:
    for module in (errors, commands, modals):
        module.register(app, ctx)
