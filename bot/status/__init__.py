"""Status updates and what customers read: drafts, their wording and messages, publication, the status page, Statuspage.
May import bot.incidents, bot.slack, bot.reminders, storage.
"""
