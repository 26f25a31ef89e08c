"""Incidents themselves: declaring, phase, severity, roles, people, access, the summary.
May import bot.config, bot.slack, bot.metrics.milestones, storage; never slack_bolt or slack_sdk.
"""
