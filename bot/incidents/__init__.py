"""Incidents themselves: declaring, phase, severity, roles, people, access, the summary.
May import bot.config.settings, bot.slack, bot.metrics.prometheus.milestones, storage; never slack_bolt or slack_sdk.
"""
