"""Slack listeners, one module per surface; :func:`register_all` wires them to the app."""

from slack_bolt.async_app import AsyncApp

from bot.context import BotContext
from handlers import actions, alerts, commands, drafts, errors, events, home, modals, resolve, shortcuts


def register_all(app: AsyncApp, ctx: BotContext) -> None:
    for module in (errors, commands, modals, resolve, events, home, shortcuts, drafts, actions, alerts):
        module.register(app, ctx)
