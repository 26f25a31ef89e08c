"""The small team and the channels the playground's workspace starts with.

Enough people to play every part of the process: an incident commander, a
communications lead, two responders, and an outsider who is in none of it. Each
lives in another time zone, so times shown with ``<!date^…>`` differ by reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.local_slack import FakeSlack

BOT_TOKEN = "xoxb-playground"
SIGNING_SECRET = "playground-signing-secret"
ONCALL_GROUP = "S0ONCALL"
"""The responders' user group, called in by the escalation matrix."""


@dataclass(frozen=True, slots=True)
class Person:
    """A member of the seeded team and the part they usually play."""

    id: str
    handle: str
    name: str
    part: str
    tz: str


TEAM: tuple[Person, ...] = (
    Person("U01ISABEL", "isabel", "Isabel Chen", "incident commander", "Europe/Berlin"),
    Person("U02COLM", "colm", "Colm Byrne", "communications lead", "Europe/Dublin"),
    Person("U03RAVI", "ravi", "Ravi Patel", "responder", "Asia/Kolkata"),
    Person("U04ROSA", "rosa", "Rosa Díaz", "responder", "America/Mexico_City"),
    Person("U05OTTO", "otto", "Otto Weber", "outsider", "America/New_York"),
)
COMMANDER, COMMS_LEAD, RESPONDER, SECOND_RESPONDER, OUTSIDER = TEAM
CHANNELS = ("general", "incidents", "status")
"""Everyone is in all three; the bot is invited to #incidents and #status, as the README asks."""


def seed(slack: FakeSlack) -> None:
    """Fill an empty workspace with the team, its user group and its channels."""
    for person in TEAM:
        slack.add_user(person.id, person.handle, tz=person.tz, real_name=person.name)
    slack.add_usergroup(ONCALL_GROUP, "oncall", [RESPONDER.id, SECOND_RESPONDER.id])
    everyone = [person.id for person in TEAM]
    slack.add_channel("general", members=everyone)
    for name in ("incidents", "status"):
        slack.add_channel(name, members=[slack.bot_user_id, *everyone])


def part_of(user_id: str) -> str:
    """The part a person plays ("" for someone outside the seeded team)."""
    return next((person.part for person in TEAM if person.id == user_id), "")
