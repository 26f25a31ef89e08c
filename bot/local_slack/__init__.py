"""The local Slack, used by the integration tests and by the playground: a Web API and signed requests.

`FakeSlack` serves the Web API methods the bot calls and records them; `SignedRequests`
sends what Slack would send the bot (commands, interactions, events), correctly signed;
`person` is a person's side (what their client shows, what their actions change) and
`snapshot` keeps a workspace between runs.
"""

from .requests import Answer, SignedRequests
from .server import DROPPED, Call, FakeSlack
from .state import Channel, Ephemeral, Message, StoredFile, User, Usergroup

__all__ = [
    "DROPPED",
    "Answer",
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
