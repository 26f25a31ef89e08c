"""SignedRequests: plays Slack's side of `POST /slack/events` against our bot.

Every request is signed the way Slack signs them (`v0=` HMAC-SHA256 of
`v0:{timestamp}:{body}` with the signing secret), so the bot's real verification runs.
Given a FakeSlack, trigger_ids and response_urls are minted on it, so views.open and
response_url posts the bot makes in reply are checked and recorded there.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from . import payloads
from .request_payloads import RequestPayloads
from .server import FakeSlack

EVENTS_PATH = "/slack/events"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
REQUEST_TIMEOUT_SECONDS = 10.0


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


class SignedRequests(RequestPayloads):
    """Sends signed, Slack-shaped commands, interactions and events to the bot."""

    def __init__(
        self, *, bot_url: str, signing_secret: str, team_id: str = "T0TEST", slack: FakeSlack | None = None
    ) -> None:
        super().__init__(team_id=team_id, slack=slack)
        self.url = bot_url.rstrip("/") + EVENTS_PATH
        self._verifier = SignatureVerifier(signing_secret)
        self._session: aiohttp.ClientSession | None = None

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
        """A slash command (fields as for :meth:`RequestPayloads.command_payload`)."""
        return await self.send(self.prepare_command(text, **fields))

    def prepare_command(self, text: str, **fields: Any) -> Prepared:
        """A signed slash command, not yet sent (fields as for :meth:`RequestPayloads.command_payload`)."""
        return self.sign(urlencode(self.command_payload(text, **fields)).encode(), content_type=FORM)

    async def view_submission(self, **fields: Any) -> Answer:
        """Submit a modal (fields as for :meth:`RequestPayloads.view_submission_payload`)."""
        return await self._interaction(self.view_submission_payload(**fields))

    async def view_closed(self, *, user_id: str, view: dict[str, Any], is_cleared: bool = False) -> Answer:
        """A modal closed by the person (Slack sends this only for views with `notify_on_close`)."""
        return await self._interaction(payloads.view_closed(self._sender(user_id), view=view, is_cleared=is_cleared))

    async def block_actions(self, **fields: Any) -> Answer:
        """A button press (fields as for :meth:`RequestPayloads.block_actions_payload`)."""
        return await self.send(self.prepare_block_actions(**fields))

    def prepare_block_actions(self, **fields: Any) -> Prepared:
        """A signed button press, not yet sent (fields as for :meth:`RequestPayloads.block_actions_payload`)."""
        return self.sign(_interaction_body(self.block_actions_payload(**fields)), content_type=FORM)

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
        envelope = self.event_payload(event, event_id=event_id)
        headers = {}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        return await self.raw(json.dumps(envelope).encode(), content_type=JSON, headers=headers)

    async def raw(self, body: bytes, **signing: Any) -> Answer:
        """POST a body (signing as for :meth:`sign`); signed correctly unless `signature` is given (for refusal tests)."""
        return await self.send(self.sign(body, **signing))

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

    async def _interaction(self, payload: dict[str, Any]) -> Answer:
        return await self.raw(_interaction_body(payload), content_type=FORM)
