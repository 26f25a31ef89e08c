"""SignedRequests: plays Slack's side of `POST /slack/events` against our bot.

Every request is signed the way Slack signs them (`v0=` HMAC-SHA256 of
`v0:{timestamp}:{body}` with the signing secret), so the bot's real verification runs.
Given a FakeSlack, trigger_ids and response_urls are minted on it, so views.open and
response_url posts the bot makes in reply are checked and recorded there.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from . import payloads
from .server import FakeSlack
from .shapes import message_json
from .state import Workspace

EVENTS_PATH = "/slack/events"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
REQUEST_TIMEOUT_SECONDS = 10.0
OFFLINE_RESPONSE_URL = "https://hooks.slack.com/commands/{team}/0/stub"
"""Used when no FakeSlack is given: a well-formed response_url nobody listens to."""


@dataclass(frozen=True, slots=True)
class Answer:
    """The bot's HTTP answer to one request: what Slack would read from it."""

    status_code: int
    content: bytes
    headers: dict[str, str]

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON (a modal submission's ack carries its response_action here)."""
        return json.loads(self.content)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A signed request ready to POST to the bot (the load benchmark sends these from another process)."""

    body: bytes
    headers: dict[str, str]


def _interaction_body(payload: dict[str, Any]) -> bytes:
    """Interactions arrive as a form with one JSON `payload` field."""
    return urlencode({"payload": json.dumps(payload)}).encode()


class SignedRequests:
    """Sends signed, Slack-shaped commands, interactions and events to the bot."""

    def __init__(
        self, *, bot_url: str, signing_secret: str, team_id: str = "T0TEST", slack: FakeSlack | None = None
    ) -> None:
        self.url = bot_url.rstrip("/") + EVENTS_PATH
        self.team_id = team_id
        self.slack = slack
        self._verifier = SignatureVerifier(signing_secret)
        self._session: aiohttp.ClientSession | None = None
        self._event_ids = itertools.count(1)

    async def aclose(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SignedRequests:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # Slack's requests -------------------------------------------------------

    async def command(self, text: str, **fields: Any) -> Answer:
        """A slash command (fields as for :meth:`prepare_command`)."""
        return await self.send(self.prepare_command(text, **fields))

    def prepare_command(
        self,
        text: str,
        *,
        user_id: str,
        channel_id: str,
        channel_name: str | None = None,
        command: str = "/incident",
        trigger_id: str | None = None,
        response_url: str | None = None,
    ) -> Prepared:
        """A signed slash command, not yet sent; the channel name defaults to the stub's (else `general`)."""
        form = payloads.slash_command(
            self._sender(user_id),
            command=command,
            text=text,
            channel_id=channel_id,
            channel_name=channel_name or self._channel_name(channel_id) or "general",
            trigger_id=trigger_id or self._trigger(user_id),
            response_url=response_url or self._response_url(channel_id=channel_id),
        )
        return self.sign(urlencode(form).encode(), content_type=FORM)

    async def view_submission(
        self,
        *,
        callback_id: str,
        user_id: str,
        values: dict[str, dict[str, dict[str, Any]]],
        private_metadata: str = "",
        view_id: str = "V0TEST",
        trigger_id: str | None = None,
    ) -> Answer:
        """Submit a modal; when the stub knows `view_id`, its blocks and metadata are sent back."""
        sender = self._sender(user_id)
        opened = self.slack.views.get(view_id) if self.slack is not None else None
        view = payloads.submitted_view(
            opened,
            sender=sender,
            view_id=view_id,
            callback_id=callback_id,
            private_metadata=private_metadata,
            values=values,
        )
        payload = payloads.view_submission(sender, view=view, trigger_id=trigger_id or self._trigger(user_id))
        return await self._interaction(payload)

    async def view_closed(self, *, user_id: str, view: dict[str, Any], is_cleared: bool = False) -> Answer:
        """A modal closed by the person (Slack sends this only for views with `notify_on_close`)."""
        return await self._interaction(payloads.view_closed(self._sender(user_id), view=view, is_cleared=is_cleared))

    async def block_actions(self, **fields: Any) -> Answer:
        """A button press (fields as for :meth:`prepare_block_actions`)."""
        return await self.send(self.prepare_block_actions(**fields))

    def prepare_block_actions(
        self,
        *,
        user_id: str,
        action_id: str,
        value: str = "",
        block_id: str = "b",
        channel_id: str | None = None,
        message_ts: str | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        action: dict[str, Any] | None = None,
    ) -> Prepared:
        """A signed button press, not yet sent, in a message (channel_id + message_ts) or a view.

        `message` defaults to the stub's copy of the message at `message_ts`; `action`
        overrides fields of the default button action (e.g. a select's `selected_option`).
        """
        channel = None
        if channel_id is not None:
            channel = {"id": channel_id, "name": self._channel_name(channel_id) or channel_id}
            message = message or self._message(channel_id, message_ts)
        url = response_url
        if url is None and view is None and channel_id is not None:
            url = self._response_url(channel_id=channel_id, message_ts=message_ts)
        payload = payloads.block_actions(
            self._sender(user_id),
            action={**payloads.button_action(action_id=action_id, block_id=block_id, value=value), **(action or {})},
            trigger_id=trigger_id or self._trigger(user_id),
            channel=channel,
            message=message,
            view=view,
            response_url=url,
        )
        return self.sign(_interaction_body(payload), content_type=FORM)

    async def message_shortcut(
        self,
        *,
        callback_id: str,
        user_id: str,
        channel_id: str,
        message: dict[str, Any],
        trigger_id: str | None = None,
        response_url: str | None = None,
    ) -> Answer:
        """A message shortcut on `message` (needs at least `ts`, `user`, `text`)."""
        payload = payloads.message_action(
            self._sender(user_id),
            callback_id=callback_id,
            channel={"id": channel_id, "name": self._channel_name(channel_id) or channel_id},
            message={"type": "message", **message},
            trigger_id=trigger_id or self._trigger(user_id),
            response_url=response_url or self._response_url(channel_id=channel_id, message_ts=message.get("ts")),
        )
        return await self._interaction(payload)

    async def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> Answer:
        """An Events API delivery; a retry carries X-Slack-Retry-Num/Reason like Slack's."""
        envelope = payloads.event_callback(
            event,
            team_id=self.team_id,
            api_app_id=self._workspace_value("app_id", "A0TEST"),
            bot_user_id=self._workspace_value("bot_user_id", "U0BOT"),
            event_id=event_id or f"Ev{next(self._event_ids):08d}{secrets.token_hex(2).upper()}",
        )
        headers = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        return await self.raw(json.dumps(envelope).encode(), content_type=JSON, headers=headers)

    async def raw(
        self,
        body: bytes,
        *,
        content_type: str,
        timestamp: int | str | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """POST a body; signed correctly unless `signature` is given (for refusal tests)."""
        return await self.send(self.sign(body, content_type=content_type, timestamp=timestamp, signature=signature,
                                         headers=headers))

    def sign(
        self,
        body: bytes,
        *,
        content_type: str,
        timestamp: int | str | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Prepared:
        """A request as Slack would send it: the body and its signed headers."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        sent_signature = signature or self._verifier.generate_signature(timestamp=stamp, body=body) or ""
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sent_signature,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            **(headers or {}),
        }
        return Prepared(body=body, headers=all_headers)

    async def send(self, prepared: Prepared) -> Answer:
        """POST a prepared request and read the whole answer (the session opens on first use, in the running loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS))
        async with self._session.post(self.url, data=prepared.body, headers=prepared.headers) as response:
            return Answer(status_code=response.status, content=await response.read(), headers=dict(response.headers))

    # helpers ----------------------------------------------------------------

    async def _interaction(self, payload: dict[str, Any]) -> Answer:
        return await self.raw(_interaction_body(payload), content_type=FORM)

    def _sender(self, user_id: str) -> payloads.Sender:
        user = self.slack.users.get(user_id) if self.slack is not None else None
        return payloads.Sender(
            team_id=self.team_id,
            team_domain=Workspace.team_domain,
            api_app_id=self._workspace_value("app_id", "A0TEST"),
            user_id=user_id,
            user_name=user.name if user is not None else user_id.lower(),
        )

    def _workspace_value(self, name: str, default: str) -> str:
        return str(getattr(self.slack.workspace, name)) if self.slack is not None else default

    def _channel_name(self, channel_id: str) -> str | None:
        channel = self.slack.channels.get(channel_id) if self.slack is not None else None
        return channel.name if channel is not None else None

    def _message(self, channel_id: str, message_ts: str | None) -> dict[str, Any] | None:
        """The stub's copy of a message, else a bare one carrying the ts."""
        if message_ts is None:
            return None
        if self.slack is not None and channel_id in self.slack.channels:
            found = Workspace.find_message(self.slack.channels[channel_id], message_ts)
            if found is not None:
                return message_json(self.slack.workspace, found)
        return {"type": "message", "ts": message_ts, "text": ""}

    def _trigger(self, user_id: str) -> str:
        if self.slack is None:
            return f"{int(time.time())}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
        return self.slack.new_trigger_id(user_id=user_id)

    def _response_url(self, *, channel_id: str | None = None, message_ts: str | None = None) -> str:
        if self.slack is None:
            return OFFLINE_RESPONSE_URL.format(team=self.team_id)
        return self.slack.new_response_url(channel_id=channel_id, message_ts=message_ts)
