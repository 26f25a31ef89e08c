"""Slack listeners, one module per surface; :func:`register_all` wires them to the app."""

from slack_bolt.async_app import AsyncApp

from bot.context import BotContext
from handlers import commands, errors, modals
from handlers import resolve  # issue 6
from handlers import events, home, shortcuts  # issue 3
from handlers import drafts  # issue 5
from handlers import actions  # issue 4


def register_all(app: AsyncApp, ctx: BotContext) -> None:
    for module in (errors, commands, modals, resolve, events, home, shortcuts, drafts, actions):
        module.register(app, ctx)
