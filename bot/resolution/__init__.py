"""Resolving and after: resolve and reopen, the post-mortem, follow-up reminders, archiving.
May import bot.incidents, bot.status, bot.reminders, bot.slack, storage.
"""
