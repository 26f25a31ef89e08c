"""Helpers for status-draft tests: drive roles, phases and draft buttons through signed requests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.slack.ids import Action, Callback, DraftField
from storage import queries
from storage.models import DraftState, Incident, Phase, Role, StatusDraft, utcnow
from bot.local_slack.state import Message
from tests.support import ALICE, RunningBot


async def drafts_of(bot: RunningBot, incident_id: int) -> list[StatusDraft]:
    from sqlmodel import col, select

    async with bot.ctx.db.session() as session:
        result = await session.exec(select(StatusDraft).where(StatusDraft.incident_id == incident_id)
                                    .order_by(col(StatusDraft.id)))
        return list(result.all())


async def draft(bot: RunningBot, draft_id: int) -> StatusDraft:
    async with bot.ctx.db.session() as session:
        found = await queries.get_draft(session=session, draft_id=draft_id)
    assert found is not None
    return found


async def wait_drafts(bot: RunningBot, incident_id: int, count: int, *, posted: bool = True) -> list[StatusDraft]:
    """Wait until the incident has ``count`` drafts (posted in the channel, by default)."""

    async def ready() -> bool:
        found = await drafts_of(bot, incident_id)
        return len(found) >= count and (not posted or all(d.message_ts and d.copy_posted for d in found))

    await bot.wait_until(ready)
    return await drafts_of(bot, incident_id)


async def wait_state(bot: RunningBot, draft_id: int, state: DraftState, timeout: float = 5.0) -> StatusDraft:
    async def reached() -> bool:
        return (await draft(bot, draft_id)).state == state

    await bot.wait_until(reached, timeout=timeout)
    return await draft(bot, draft_id)


async def publications_done(bot: RunningBot) -> None:
    """Wait for the publications this bot started: they are follow-up work like any other."""
    await bot.settled()


async def command(bot: RunningBot, text: str, *, channel_id: str, user: str = ALICE) -> str:
    """Run a slash command; returns its response_url."""
    url = bot.slack.new_response_url(channel_id=channel_id)
    reply = await bot.requests.command(text, user_id=user, channel_id=channel_id, response_url=url)
    assert reply.status_code == 200, reply.text
    return url


async def assign(bot: RunningBot, incident: Incident, role: Role, user: str) -> None:
    incident_id = incident.id
    assert incident_id is not None and incident.channel_id is not None
    await command(bot, f"role {role.value} <@{user}>", channel_id=incident.channel_id)

    async def assigned() -> bool:
        async with bot.ctx.db.session() as session:
            return (await queries.current_roles(session=session, incident_id=incident_id)).get(role) == user

    await bot.wait_until(assigned)


async def set_phase(bot: RunningBot, incident: Incident, phase: str, *, user: str = ALICE) -> None:
    assert incident.channel_id is not None
    await command(bot, f"status {phase}", channel_id=incident.channel_id, user=user)


async def press(bot: RunningBot, found: StatusDraft, action: Action, *, user: str) -> str:
    """Press one of a draft message's buttons; returns the interaction's response_url."""
    assert found.message_channel_id is not None and found.message_ts is not None
    url = bot.slack.new_response_url(channel_id=found.message_channel_id, message_ts=found.message_ts)
    reply = await bot.requests.block_actions(
        user_id=user, action_id=action, value=str(found.id), block_id="status_draft_actions",
        channel_id=found.message_channel_id, message_ts=found.message_ts, response_url=url,
    )
    assert reply.status_code == 200, reply.text
    return url


async def submit_modal(bot: RunningBot, *, callback: Callback, field: DraftField, value: str, user: str,
                       view_id: str) -> dict[str, Any]:
    """Submit a draft modal; returns Slack's answer body ({} for a plain ack)."""
    reply = await bot.requests.view_submission(
        callback_id=callback, user_id=user, view_id=view_id,
        values={field: {field: {"type": "plain_text_input", "value": value}}},
    )
    assert reply.status_code == 200, reply.text
    return reply.json() if reply.content else {}


async def open_modal(bot: RunningBot, found: StatusDraft, action: Action, *, user: str) -> str:
    """Press Edit or Reject and return the id of the modal it opened."""
    before = len(bot.slack.calls_to("views.open"))
    await press(bot, found, action, user=user)
    calls = await bot.slack.wait_for("views.open", count=before + 1)
    assert calls[-1].ok, calls[-1].response
    return str(calls[-1].response["view"]["id"])


def message_of(bot: RunningBot, found: StatusDraft) -> Message:
    assert found.message_channel_id is not None
    return next(m for m in bot.slack.messages_in(found.message_channel_id) if m.ts == found.message_ts)


def has_buttons(message: Message) -> bool:
    return any(b["type"] == "actions" for b in message.blocks or [])


def status_posts(bot: RunningBot) -> list[Message]:
    channel = bot.slack.channel_by_name("status")
    assert channel is not None
    return [m for m in channel.messages if m.user == bot.slack.bot_user_id]


async def get(bot: RunningBot, path: str) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False) as client:
        return await client.get(bot.url + path)


async def add_incident(bot: RunningBot, title: str, *, severity: int = 2, private: bool = False,
                       drill: bool = False, declared_at: datetime | None = None,
                       resolved_at: datetime | None = None) -> int:
    """An incident stored directly: the page reads the database, not Slack."""
    async with bot.ctx.db.session() as session:
        incident = Incident(request_key=f"test:{title}:{utcnow().timestamp()}", title=title, severity=severity,
                            customer_facing=True, private=private, drill=drill, declared_by=ALICE,
                            declared_at=declared_at or utcnow() - timedelta(hours=1), resolved_at=resolved_at,
                            phase=Phase.RESOLVED if resolved_at else Phase.INVESTIGATING)
        session.add(incident)
        await session.flush()
        assert incident.id is not None
        return incident.id


async def add_draft(bot: RunningBot, incident_id: int, text: str, *, phase: Phase = Phase.INVESTIGATING,
                    state: DraftState = DraftState.PUBLISHED, published_at: datetime | None = None) -> int:
    public = state in (DraftState.APPROVED, DraftState.PUBLISHED)
    async with bot.ctx.db.session() as session:
        draft = StatusDraft(incident_id=incident_id, phase=phase, text=text, state=state, created_by=ALICE,
                            decided_by=ALICE if state != DraftState.PENDING else None,
                            published_at=(published_at or utcnow()) if public else None)
        session.add(draft)
        await session.flush()
        assert draft.id is not None
        return draft.id
