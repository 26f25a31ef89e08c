"""Response metrics: milestones as they happen, /incident stats, the report, Prometheus.
May import bot.config, bot.slack, storage.
"""
