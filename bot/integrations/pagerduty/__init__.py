"""PagerDuty: paging the on-call through the Events API v2, and reading its V3 webhooks.
The webhook's incidents become alerts handled by :mod:`bot.integrations.alerts`.
"""
