"""Local Slack for integration tests: a fake Web API and signed requests to the bot.

`FakeSlack` serves the Web API methods the bot calls and records them; `SignedRequests`
sends what Slack would send the bot (commands, interactions, events), correctly signed.
"""

from .requests import SignedRequests
from .server import DROPPED, Call, FakeSlack
from .state import Channel, Ephemeral, Message, StoredFile, User, Usergroup

__all__ = [
    "DROPPED",
    "Call",
    "Channel",
    "Ephemeral",
    "FakeSlack",
    "Message",
    "SignedRequests",
    "StoredFile",
    "User",
    "Usergroup",
]
