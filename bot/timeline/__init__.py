"""The incident's record of events: notes, captured messages, action items.
May import bot.incidents, bot.slack, storage.
"""
