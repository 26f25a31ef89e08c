"""Everything shaped like Slack: the Web API gateway, Block Kit builders, ids, modal reading, mrkdwn, messages.
The gateway is the only importer of slack_sdk; the rest imports bot.config and storage.
"""
