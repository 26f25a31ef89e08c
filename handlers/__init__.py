"""Slack listeners, one module per surface; :func:`register_all` wires them to the app."""

from slack_bolt.async_app import AsyncApp

from bot.context import BotContext
from handlers import commands, errors, modals
from handlers import resolve
from handlers import events, home, shortcuts
from handlers import drafts
from handlers import actions


def register_all(app: AsyncApp, ctx: BotContext) -> None:
    for module in (errors, commands, modals, resolve, events, home, shortcuts, drafts, actions):
        module.register(app, ctx)
