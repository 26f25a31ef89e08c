"""Outside services the incident process reaches: PagerDuty, alerts, trackers, Confluence.
May import bot.incidents, bot.consequences, bot.slack, storage; each service's HTTP client lives here.
"""
