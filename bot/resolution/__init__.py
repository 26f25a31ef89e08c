"""Resolving and after: resolve and reopen, the post-mortem, follow-up reminders, archiving.
May import bot.incidents.records, bot.status, bot.reminders.cadence, bot.slack, storage.
"""
