"""Update reminders: the cadence, the prompts, and escalation of missed updates.
May import bot.incidents.records, bot.slack, bot.runtime.runner.scheduler, storage.
"""
