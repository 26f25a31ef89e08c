"""Everything shaped like Slack: the Web API gateway, Block Kit builders, ids, modal reading, mrkdwn, messages.
The gateway (gateway.py, with its transport.py) is the only importer of slack_sdk's client; the rest
imports bot.config and storage. rate_limits.py holds the 429 holds every Web API call waits out.
"""
