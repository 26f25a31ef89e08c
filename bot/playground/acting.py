"""Acting as a person: what they do on the page becomes what Slack would send the bot.

A typed ``/incident …`` is a signed slash command; a pressed button a signed
``block_actions``; a submitted modal a ``view_submission`` whose answer opens, updates,
stacks or closes views as Slack's client would; a :pushpin: a ``reaction_added`` event.
Every trigger_id and response_url is minted on the local Slack for the person acting,
so the modals the bot opens and the ephemeral answers it sends reach them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from bot.local_slack import FakeSlack, SignedRequests, person
from bot.local_slack.params import SlackError
from bot.local_slack.requests import Answer
from bot.local_slack.response_url import use_response_url
from bot.local_slack.shapes import message_json
from bot.local_slack.state import Channel, Message, Workspace
from bot.playground import forms, wording

COMMAND = "/incident"
REACTION = "pushpin"


@dataclass(frozen=True, slots=True)
class Notice:
    """A line Slack's client shows one person in a channel (a failed command, an unknown one)."""

    ts: str
    channel_id: str
    user_id: str
    text: str


@dataclass(slots=True)
class FormProblems:
    """A submitted modal that stays open: the values entered and the errors to show under fields."""

    view_id: str
    values: forms.StateValues
    errors: dict[str, str]


@dataclass
class Actor:
    """Plays Slack's client for whoever is chosen in *Acting as*."""

    slack: FakeSlack
    requests: SignedRequests
    notices: list[Notice] = field(default_factory=list)
    problems: dict[str, FormProblems] = field(default_factory=dict)

    @property
    def ws(self) -> Workspace:
        return self.slack.workspace

    # the message box ------------------------------------------------------------

    async def say(self, user_id: str, channel_id: str, text: str) -> None:
        """A message or, when it starts with "/", a slash command typed in a channel."""
        channel = self._channel(user_id, channel_id)
        if not text.strip():
            return
        if not text.startswith("/"):
            try:
                person.post_as(self.ws, channel, user_id, text)
            except SlackError as refused:
                self._notify(user_id, channel_id, wording.notice("not_sent", error=refused.error))
            self.slack.changes.note()
            return
        command, _, rest = text.strip().partition(" ")
        if command != COMMAND:
            typed = person.escape(command)
            self._notify(user_id, channel_id, wording.notice("unknown_command", command=typed, app_command=COMMAND))
            return
        answer = await self.requests.command(
            person.command_text(self.ws, rest.strip()), user_id=user_id, channel_id=channel_id,
            trigger_id=self._trigger(user_id), response_url=self._response_url(user_id, channel_id),
        )
        self._show_ack(user_id, channel_id, answer, failed="command_failed")

    # buttons ----------------------------------------------------------------------

    async def press(self, user_id: str, action: dict[str, Any], *, channel_id: str | None = None,
                    message_ts: str | None = None, view_id: str | None = None,
                    entries: Iterable[forms.Entry] = ()) -> None:
        """A button in a message (or an ephemeral message, `message_ts` None) or in a view."""
        pressed = {"type": "button", "action_ts": f"{time.time():.6f}", **action}
        view = None
        if view_id is not None:
            stored = self.ws.views[view_id]
            view = {**stored.data, "state": {"values": forms.state_values(stored.data, entries, tz=self._tz(user_id))}}
            channel_id = None
        elif channel_id is not None:
            self._channel(user_id, channel_id)
        response_url = None if channel_id is None else self._response_url(user_id, channel_id, message_ts)
        answer = await self.requests.block_actions(
            user_id=user_id, action_id=pressed["action_id"], block_id=pressed.get("block_id", ""),
            value=pressed.get("value", ""), channel_id=channel_id, message_ts=message_ts, view=view,
            trigger_id=self._trigger(user_id), response_url=response_url, action=pressed,
        )
        if channel_id is not None:
            self._show_ack(user_id, channel_id, answer)

    # modals -------------------------------------------------------------------------

    async def submit(self, user_id: str, view_id: str, entries: Iterable[forms.Entry]) -> None:
        """Submit the open modal: checked as Slack's client checks it, then sent; its answer applied."""
        stored = self.ws.views.get(view_id)
        if stored is None or person.open_modal(self.ws, user_id) is not stored:
            return
        values = forms.state_values(stored.data, entries, tz=self._tz(user_id))
        errors = forms.client_errors(stored.data, values)
        if not errors:
            answer = await self.requests.view_submission(
                callback_id=stored.data.get("callback_id", ""), user_id=user_id, values=values,
                private_metadata=stored.data.get("private_metadata", ""), view_id=view_id,
                trigger_id=self._trigger(user_id),
            )
            errors = self._answer(user_id, view_id, answer)
        if errors:
            self.problems[user_id] = FormProblems(view_id, values, errors)
        else:
            self.problems.pop(user_id, None)
        self.slack.changes.note()

    async def cancel(self, user_id: str, view_id: str) -> None:
        """Close the modal; the app hears of it only if the view asked to (notify_on_close)."""
        stored = self.ws.views.get(view_id)
        if stored is None or not person.close_modal(self.ws, user_id, view_id):
            return
        self.problems.pop(user_id, None)
        self.slack.changes.note()
        if stored.data.get("notify_on_close"):
            payload_view = {**stored.data, "state": {"values": {}}}
            await self.requests.view_closed(user_id=user_id, view=payload_view)

    # message shortcuts, reactions, App Home ----------------------------------------

    async def shortcut(self, user_id: str, channel_id: str, message_ts: str, callback_id: str) -> None:
        """A message shortcut (⋮ on a message)."""
        message = self._message(user_id, channel_id, message_ts)
        answer = await self.requests.message_shortcut(
            callback_id=callback_id, user_id=user_id, channel_id=channel_id,
            message=message_json(self.ws, message), trigger_id=self._trigger(user_id),
            response_url=self._response_url(user_id, channel_id, message_ts),
        )
        self._show_ack(user_id, channel_id, answer)

    async def react(self, user_id: str, channel_id: str, message_ts: str, name: str = REACTION) -> None:
        """Add (or take back) a reaction; adding one is delivered as a reaction_added event."""
        message = self._message(user_id, channel_id, message_ts)
        added = person.toggle_reaction(self.ws, message, user_id, name)
        self.slack.changes.note()
        if added:
            await self.requests.event({
                "type": "reaction_added", "user": user_id, "reaction": name, "item_user": message.user,
                "item": {"type": "message", "channel": channel_id, "ts": message.ts},
                "event_ts": f"{time.time():.6f}",
            })

    async def open_home(self, user_id: str) -> None:
        """The person opens the app's Home tab: app_home_opened, so the bot publishes it afresh."""
        dm = self.ws.open_dm(user_id)
        event: dict[str, Any] = {"type": "app_home_opened", "user": user_id, "channel": dm.id, "tab": "home",
                                 "event_ts": f"{time.time():.6f}"}
        home = person.home_of(self.ws, user_id)
        if home is not None:
            event["view"] = home.data
        await self.requests.event(event)

    def dismiss(self, user_id: str, key: str) -> None:
        """Take an ephemeral message (key "e…") or a notice ("n…") off the person's screen."""
        kind, ts = key[:1], key[1:]
        if kind == "e":
            person.dismiss(self.ws, user_id, ts)
        else:
            self.notices = [n for n in self.notices if not (n.user_id == user_id and n.ts == ts)]
        self.slack.changes.note()

    # helpers --------------------------------------------------------------------------

    def _channel(self, user_id: str, channel_id: str) -> Channel:
        channel = self.ws.channels.get(channel_id)
        if channel is None or not person.can_read(self.ws, channel, user_id):
            raise LookupError(f"{user_id} cannot see channel {channel_id}")
        return channel

    def _message(self, user_id: str, channel_id: str, ts: str) -> Message:
        found = self.ws.find_message(self._channel(user_id, channel_id), ts)
        if found is None:
            raise LookupError(f"no message {ts} in {channel_id}")
        return found

    def _tz(self, user_id: str) -> ZoneInfo:
        return ZoneInfo(self.ws.users[user_id].tz)

    def _trigger(self, user_id: str) -> str:
        return self.slack.new_trigger_id(user_id=user_id)

    def _response_url(self, user_id: str, channel_id: str, message_ts: str | None = None) -> str:
        return self.slack.new_response_url(channel_id=channel_id, message_ts=message_ts, user_id=user_id)

    def _notify(self, user_id: str, channel_id: str, text: str) -> None:
        self.notices.append(Notice(self.ws.next_ts(), channel_id, user_id, text))
        self.slack.changes.note()

    def _answer(self, user_id: str, view_id: str, answer: Answer) -> dict[str, str]:
        """Apply the app's answer to a submitted view; the errors to show ({} when it closed or moved on)."""
        if answer.status_code != 200:
            return {"": wording.notice("form_failed", status=answer.status_code)}
        try:
            return person.answer_submission(self.ws, user_id, view_id, _ack_body(answer))
        except SlackError as refused:
            return {"": wording.notice("answer_refused", error=refused.error)}

    def _show_ack(self, user_id: str, channel_id: str, answer: Answer, *, failed: str = "action_failed") -> None:
        """What Slack shows for the app's HTTP answer: a failure, or a reply carried in the ack body."""
        if answer.status_code != 200:
            self._notify(user_id, channel_id, wording.notice(failed, status=answer.status_code, app_command=COMMAND))
            return
        body = _ack_body(answer)
        if body.get("text") or body.get("blocks"):
            use_response_url(self.ws, self.ws.new_response_url(channel_id=channel_id, user_id=user_id), body)
            self.slack.changes.note()


def _ack_body(answer: Answer) -> dict[str, Any]:
    """The JSON in an ack ({} when empty); a plain-text ack is a reply's text."""
    if not answer.content.strip():
        return {}
    try:
        body = json.loads(answer.content)
    except ValueError:
        return {"text": answer.text}
    return body if isinstance(body, dict) else {}
