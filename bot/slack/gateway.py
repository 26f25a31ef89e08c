"""The one door to Slack's Web API.

Every Web API call the bot makes goes through :class:`SlackGateway`, so that
retries (rate limits with Retry-After, 5xx, dropped connections), the base URL
(GovSlack, the tests' local Slack) and error translation live in one place.
The rest of the bot sees :class:`SlackCallFailed` with Slack's error code (or
one of :mod:`bot.slack.transport`'s when no answer came, which also says what is
retried) and never imports slack_sdk's client.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from aiohttp import ClientSession, ClientTimeout
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.config.fields import is_channel_id
from bot.errors import SlackCallFailed
from bot.slack.rate_limits import CallKey, RateLimitHolds
from bot.slack.transport import (
    OUTCOME_UNKNOWN,
    RETRY_COUNT,
    TRANSPORT_ERRORS,
    backoff_interval,
    call_in_flight,
    retry_handlers,
    slack_failure,
)

log = logging.getLogger(__name__)

Blocks = Sequence[Block | dict[str, Any]]

POST_KEY_EVENT = "incident_bot_post"
"""event_type of the metadata the gateway gives a post that came without any."""
HARMLESS_INVITE_ERRORS = frozenset({"already_in_channel", "cant_invite_self"})


@dataclass(frozen=True, slots=True)
class Posted:
    """Where a message landed."""

    channel: str
    ts: str


def _block_dicts(blocks: Blocks | None) -> list[dict[str, Any]] | None:
    if blocks is None:
        return None
    return [b.to_dict() if isinstance(b, Block) else b for b in blocks]


def _view_dict(view: View | dict[str, Any]) -> dict[str, Any]:
    return view.to_dict() if isinstance(view, View) else view


class SlackGateway:
    """Narrow, typed wrappers over the Web API methods the bot uses.

    ``holds`` is shared by every call this gateway (and Bolt's clients, which
    copy its retry handlers) makes; ``backoff`` is the first wait before a
    connection or server error is retried, doubled on each further try.
    """

    def __init__(
        self, *, token: str, base_url: str, timeout: float = 10, backoff: float = 0.5,
        holds: RateLimitHolds | None = None,
    ) -> None:
        self.holds = holds or RateLimitHolds()
        self._retry_handlers = retry_handlers(self.holds, backoff=backoff)
        self._backoff = backoff_interval(backoff)
        self.client = AsyncWebClient(
            token=token, base_url=base_url, timeout=timeout, retry_handlers=self._retry_handlers
        )
        self._timeout = timeout
        self._session: ClientSession | None = None
        self._identity: dict[str, Any] | None = None
        self._channel_ids: dict[str, str] = {}
        self._channel_lock = asyncio.Lock()

    async def open(self) -> None:
        """Share one HTTP session, and its kept-alive connections, across every call.

        Without it slack-sdk opens a session, and a TLS connection to Slack, per
        call. Bolt's per-request clients copy the session from this client.
        The timeout bounds connecting and each wait for Slack's answer, not the
        time a call queues for a free connection in a burst.
        """
        if self._session is None:
            self._session = ClientSession(
                timeout=ClientTimeout(total=None, sock_connect=self._timeout, sock_read=self._timeout))
            self.client.session = self._session

    async def close(self) -> None:
        """Close the shared session; calls made after this open their own again."""
        if self._session is not None:
            self.client.session = None
            await self._session.close()
            self._session = None

    async def _call(self, method: str, **params: Any) -> dict[str, Any]:
        """Call one Web API method through slack-sdk's typed wrapper.

        The typed wrappers know which methods Slack wants as GET, form or JSON.
        The call waits out any rate-limit hold on its method (and channel);
        Slack's refusals, exhausted retries and transport errors become
        SlackCallFailed.
        """
        call = getattr(self.client, method.replace(".", "_"))
        key = CallKey.for_call(method, params.get("channel"))
        in_flight = call_in_flight.set(key)
        try:
            async with self.holds.turn(key):
                response = await call(**_drop_none(params))
        except TRANSPORT_ERRORS as exc:
            raise slack_failure(method, exc) from exc
        finally:
            call_in_flight.reset(in_flight)
        return dict(response.data)  # type: ignore[arg-type]

    # -- identity -----------------------------------------------------------
    async def identity(self) -> dict[str, Any]:
        """auth.test's answer, asked once and remembered (the token does not change while running)."""
        if self._identity is None:
            self._identity = await self._call("auth.test")
        return self._identity

    async def user_info(self, user_id: str) -> dict[str, Any]:
        return (await self._call("users.info", user=user_id))["user"]

    # -- channels -----------------------------------------------------------
    async def create_channel(self, name: str, *, private: bool) -> str:
        data = await self._call("conversations.create", name=name, is_private=private)
        return str(data["channel"]["id"])

    async def find_channel(self, name: str) -> dict[str, Any] | None:
        """Look a channel up by name among those the bot can see (archived too)."""
        cursor: str | None = None
        while True:
            data = await self._call(
                "conversations.list",
                types="public_channel,private_channel",
                exclude_archived=False,
                limit=1000,
                cursor=cursor,
            )
            for channel in data.get("channels", []):
                if channel.get("name") == name:
                    return dict(channel)
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None

    async def resolve_channel(self, name_or_id: str) -> str:
        """A configured channel (name or ID) as an ID; names are looked up once and cached."""
        if is_channel_id(name_or_id):
            return name_or_id
        async with self._channel_lock:
            if name_or_id not in self._channel_ids:
                found = await self.find_channel(name_or_id)
                if found is None:
                    raise SlackCallFailed("conversations.list", "channel_not_found")
                self._channel_ids[name_or_id] = str(found["id"])
            return self._channel_ids[name_or_id]

    async def join(self, channel: str) -> None:
        await self._call("conversations.join", channel=channel)

    async def invite(self, channel: str, users: Iterable[str]) -> dict[str, str]:
        """Invite users; returns those that could not be invited, with Slack's reason.

        One call for all of them; if Slack refuses the batch, each is tried
        alone so one unknown user does not keep the others out.
        """
        wanted = sorted(set(users))
        if not wanted:
            return {}
        try:
            await self._call("conversations.invite", channel=channel, users=",".join(wanted))
            return {}
        except SlackCallFailed as batch_error:
            if len(wanted) == 1:
                return {} if batch_error.error in HARMLESS_INVITE_ERRORS else {wanted[0]: batch_error.error}
        failed: dict[str, str] = {}
        for user in wanted:
            try:
                await self._call("conversations.invite", channel=channel, users=user)
            except SlackCallFailed as exc:
                if exc.error not in HARMLESS_INVITE_ERRORS:
                    failed[user] = exc.error
        return failed

    async def set_topic(self, channel: str, topic: str) -> None:
        await self._call("conversations.setTopic", channel=channel, topic=topic[:250])

    async def archive(self, channel: str) -> None:
        await self._call("conversations.archive", channel=channel)

    async def members(self, channel: str) -> set[str]:
        members: set[str] = set()
        cursor: str | None = None
        while True:
            data = await self._call("conversations.members", channel=channel, limit=1000, cursor=cursor)
            members.update(data.get("members", []))
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return members

    # -- messages -----------------------------------------------------------
    async def post_message(
        self, channel: str, *, text: str, blocks: Blocks | None = None, thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None, join: bool = False,
    ) -> Posted:
        """Post a message once, even when Slack's answer is lost on the way back.

        Every post carries message metadata by which it can be found again:
        the caller's, which must name this one post (an incident and a step,
        a draft), or else a unique post key added here. With ``join``, a public
        channel the bot is not in is joined first: naming an announcements or
        status channel should be enough to make it work.
        """
        metadata = metadata or {"event_type": POST_KEY_EVENT, "event_payload": {"post_key": uuid4().hex}}
        try:
            return await self._post(channel, text=text, blocks=blocks, thread_ts=thread_ts, metadata=metadata)
        except SlackCallFailed as exc:
            if not join or exc.error != "not_in_channel":
                raise
        await self.join(channel)
        return await self._post(channel, text=text, blocks=blocks, thread_ts=thread_ts, metadata=metadata)

    async def _post(
        self, channel: str, *, text: str, blocks: Blocks | None, thread_ts: str | None,
        metadata: dict[str, Any],
    ) -> Posted:
        """Send the post; when its answer was lost, look for it before sending it again.

        slack-sdk does not re-send a post whose connection broke after the
        request went out (:data:`bot.slack.transport.NOT_REPEATABLE`): Slack
        may have stored it. It is looked for by its metadata in the channel (or
        thread) and sent again only when it is not there.
        """
        params = {"channel": channel, "text": text, "blocks": _block_dicts(blocks), "thread_ts": thread_ts,
                  "metadata": metadata, "unfurl_links": False}
        for attempt in range(RETRY_COUNT):
            try:
                return _posted(await self._call("chat.postMessage", **params))
            except SlackCallFailed as exc:
                if exc.error not in OUTCOME_UNKNOWN:
                    raise
                lost = exc
            log.warning("the answer to a post in %s was lost (%s); looking for it", channel, lost.error)
            await asyncio.sleep(self._backoff.calculate_sleep_duration(attempt))
            try:
                found = await self.find_own_message(channel, metadata, thread_ts=thread_ts)
            except SlackCallFailed as lookup:
                raise lost from lookup
            if found is not None:
                return Posted(channel=channel, ts=found)
        return _posted(await self._call("chat.postMessage", **params))

    async def update_message(self, channel: str, ts: str, *, text: str, blocks: Blocks | None = None) -> None:
        await self._call("chat.update", channel=channel, ts=ts, text=text, blocks=_block_dicts(blocks) or [])

    async def post_ephemeral(self, channel: str, user: str, *, text: str, blocks: Blocks | None = None) -> None:
        await self._call("chat.postEphemeral", channel=channel, user=user, text=text, blocks=_block_dicts(blocks))

    async def pin(self, channel: str, ts: str) -> None:
        try:
            await self._call("pins.add", channel=channel, timestamp=ts)
        except SlackCallFailed as exc:
            if exc.error != "already_pinned":
                raise

    async def add_bookmark(self, channel: str, *, title: str, link: str) -> None:
        await self._call("bookmarks.add", channel_id=channel, title=title, type="link", link=link)

    async def bookmark_links(self, channel: str) -> set[str]:
        """The links already bookmarked in a channel (to add one only once)."""
        data = await self._call("bookmarks.list", channel_id=channel)
        return {str(bookmark.get("link")) for bookmark in data.get("bookmarks", [])}

    async def find_own_message(
        self, channel: str, metadata: dict[str, Any], *, thread_ts: str | None = None, limit: int = 100
    ) -> str | None:
        """The ts of a recent message this bot posted with exactly this metadata, if any.

        Flows that may be interrupted between Slack accepting a message and the
        bot saving its ts tag the message with metadata and look here before
        posting again, so a resumed step never posts twice. Replies are looked
        for in their thread (``thread_ts``); in a channel the bot is not in, none.
        """
        identity = await self.identity()
        method = "conversations.history" if thread_ts is None else "conversations.replies"
        thread = {} if thread_ts is None else {"ts": thread_ts}
        try:
            data = await self._call(method, channel=channel, limit=limit, include_all_metadata=True, **thread)
        except SlackCallFailed as exc:
            if exc.error == "not_in_channel":
                return None
            raise
        for message in data.get("messages", []):
            if message.get("user") == identity.get("user_id") and message.get("metadata") == metadata:
                return str(message["ts"])
        return None

    async def permalink(self, channel: str, ts: str) -> str:
        return str((await self._call("chat.getPermalink", channel=channel, message_ts=ts))["permalink"])

    # -- timeline capture ------------------------------------------
    async def fetch_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One message by its ts, top-level or in a thread; None when it is gone.

        conversations.history only holds top-level messages, so a reply in a
        thread is looked up with conversations.replies. Each answer is
        searched for the exact ts, because both methods may return neighbours.
        """
        window = {"latest": ts, "oldest": ts, "inclusive": True}
        history = await self._call("conversations.history", channel=channel, limit=1, **window)
        found = _with_ts(history.get("messages", []), ts)
        if found is not None:
            return found
        try:
            thread = await self._call("conversations.replies", channel=channel, ts=ts, limit=2, **window)
        except SlackCallFailed as exc:
            if exc.error in {"thread_not_found", "message_not_found"}:
                return None
            raise
        return _with_ts(thread.get("messages", []), ts)

    async def respond(
        self, response_url: str, *, text: str, blocks: Blocks | None = None, replace_original: bool = False
    ) -> None:
        """Answer through a command's or action's response_url (reaches non-members too)."""
        webhook = AsyncWebhookClient(response_url, timeout=self._timeout, session=self._session,
                                     retry_handlers=self._retry_handlers)
        try:
            response = await webhook.send(
                text=text,
                blocks=_block_dicts(blocks),
                response_type="ephemeral",
                replace_original=replace_original,
            )
        except TRANSPORT_ERRORS as exc:
            raise slack_failure("response_url", exc) from exc
        if response.status_code >= 300:
            raise SlackCallFailed("response_url", f"HTTP {response.status_code}: {response.body}")

    # -- views --------------------------------------------------------------
    async def open_view(self, trigger_id: str, view: View | dict[str, Any]) -> str:
        data = await self._call("views.open", trigger_id=trigger_id, view=_view_dict(view))
        return str(data["view"]["id"])

    async def publish_home(self, user_id: str, view: View | dict[str, Any]) -> None:
        await self._call("views.publish", user_id=user_id, view=_view_dict(view))

    # -- status drafts ------------------------------------------------
    async def usergroup_members(self, usergroup: str) -> set[str]:
        """Members of a user group (an approver list may name groups)."""
        data = await self._call("usergroups.users.list", usergroup=usergroup)
        return set(data.get("users", []))

    # -- files --------------------------------------------------------------
    async def upload_markdown(self, channel: str, *, filename: str, title: str, content: str, comment: str) -> None:
        """Share a Markdown file in a channel (slack-sdk's files_upload_v2: reserve, upload, complete).

        The last step shares the file as a message, so like a post it is not
        sent again once its request went out; a lost answer fails the upload.
        """
        for method in ("files.getUploadURLExternal", "files.completeUploadExternal"):
            await self.holds.wait(CallKey(method))
        try:
            await self.client.files_upload_v2(
                channel=channel, filename=filename, title=title, content=content,
                initial_comment=comment, snippet_type="markdown",
            )
        except TRANSPORT_ERRORS as exc:
            raise slack_failure("files.completeUploadExternal", exc) from exc


def _posted(data: dict[str, Any]) -> Posted:
    return Posted(channel=str(data["channel"]), ts=str(data["ts"]))


def _drop_none(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _with_ts(messages: list[dict[str, Any]], ts: str) -> dict[str, Any] | None:
    return next((dict(m) for m in messages if m.get("ts") == ts), None)

