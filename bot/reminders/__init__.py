"""Update reminders: the cadence, the prompts, and escalation of missed updates.
May import bot.incidents, bot.slack, bot.runtime.scheduler, storage.
"""
