"""The playground: the real bot against a built-in local Slack, with a Slack-like page to drive it.

``incident-bot playground`` needs no workspace, token or configuration. One process runs
the local Slack (:mod:`bot.local_slack`), the bot in HTTP mode (signed requests to its
``/slack/events``, every Web API call over HTTP to the local Slack) and the page a person
uses on ``http://127.0.0.1:3000/``.
"""
