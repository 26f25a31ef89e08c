"""Helpers for the reminder and update tests: find prompts, press their buttons, fill the update modal."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

import httpx

from bot.local_slack.server import Call, FakeSlack
from bot.local_slack.state import Message
from bot.runtime.scheduler import ScheduledJob, scheduled
from bot.slack.ids import Action, Callback, UpdateField
from storage import queries
from storage.models import Incident, IncidentUpdate, ReminderState, TimelineEvent
from tests.support import ALICE, RunningBot

PROMPT_ACTIONS = {Action.REMINDER_POST_UPDATE, Action.REMINDER_NO_CHANGE, Action.REMINDER_SNOOZE}

SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
CADENCE = timedelta(minutes=30)
"""SEV-2's update cadence in the playbook."""


def button_ids(blocks: list[dict[str, Any]] | None) -> set[str]:
    """action_ids of every button in a message's blocks."""
    return {e["action_id"] for b in blocks or [] if b.get("type") == "actions" for e in b.get("elements", [])}


def is_prompt(call: Call) -> bool:
    return call.method == "chat.postMessage" and bool(PROMPT_ACTIONS & button_ids(call.params.get("blocks")))


def prompt_calls(slack: FakeSlack, channel_id: str | None) -> list[Call]:
    """Reminder prompts posted in a channel, oldest first."""
    return [c for c in slack.calls if is_prompt(c) and c.params.get("channel") == channel_id and c.ok]


async def wait_for_prompts(slack: FakeSlack, channel_id: str | None, count: int, timeout: float = 8.0) -> list[Call]:
    return await slack.wait_for("chat.postMessage", count=count, timeout=timeout,
                                where=lambda c: is_prompt(c) and c.params.get("channel") == channel_id)


def wall_time(call: Call) -> float:
    """When the stub received a call, as a Unix time (its clock is monotonic)."""
    return time.time() - (time.monotonic() - call.at)


def message(slack: FakeSlack, channel_id: str | None, ts: str) -> Message:
    assert channel_id is not None
    return next(m for m in slack.messages_in(channel_id) if m.ts == ts)


async def press(bot: RunningBot, incident: Incident, action: Action, prompt_ts: str, *, user: str = ALICE,
                response_url: str | None = None) -> httpx.Response:
    """Press a prompt's button as Slack would send it."""
    reply = await bot.requests.block_actions(
        user_id=user, action_id=action, value=str(incident.id), block_id="update_reminder",
        channel_id=incident.channel_id, message_ts=prompt_ts, response_url=response_url,
    )
    assert reply.status_code == 200, reply.text
    return reply


async def answer_prompt(bot: RunningBot, incident: Incident, action: Action, prompt: Call, *, shows: str) -> datetime:
    """Press one of a prompt's buttons and wait until the prompt says ``shows``; returns when it was pressed."""
    pressed_at = bot.clock.now()
    await press(bot, incident, action, prompt.response["ts"])
    await bot.wait_until(lambda: shows in message(bot.slack, incident.channel_id, prompt.response["ts"]).text)
    return pressed_at


async def refusal(bot: RunningBot, url: str) -> str:
    """The ephemeral text a press or command got back through its response_url."""
    replies = await bot.slack.wait_for_response(url)
    return str(replies[-1].get("text", ""))


async def state(bot: RunningBot, incident_id: int) -> ReminderState:
    async with bot.ctx.db.session() as session:
        found = await queries.reminder_state(session=session, incident_id=incident_id)
    assert found is not None
    return found


async def updates_of(bot: RunningBot, incident_id: int) -> list[IncidentUpdate]:
    from sqlmodel import select

    async with bot.ctx.db.session() as session:
        result = await session.exec(select(IncidentUpdate).where(IncidentUpdate.incident_id == incident_id))
        return list(result.all())


async def timeline_of(bot: RunningBot, incident_id: int) -> list[TimelineEvent]:
    async with bot.ctx.db.session() as session:
        return list(await queries.timeline(session=session, incident_id=incident_id))


def reminder_job(bot: RunningBot, incident_id: int) -> ScheduledJob | None:
    """The incident's reminder job as the bot's scheduler holds it."""
    return scheduled(bot.ctx, "reminder:").get(f"reminder:{incident_id}")


def update_values(*, phase: str | None = "identified", what: str | None = "Rolled back deploy 42",
                  next_steps: str | None = "Watch the error rate", eta: str | None = "30m",
                  customer_facing: bool | None = False) -> dict[str, dict[str, dict[str, Any]]]:
    """Slack's view.state.values for the update modal."""
    facing = None if customer_facing is None else {"value": "yes" if customer_facing else "no"}
    return {
        UpdateField.PHASE: {UpdateField.PHASE: {"type": "static_select",
                                                "selected_option": {"value": phase} if phase else None}},
        UpdateField.WHAT_CHANGED: {UpdateField.WHAT_CHANGED: {"type": "plain_text_input", "value": what}},
        UpdateField.NEXT_STEPS: {UpdateField.NEXT_STEPS: {"type": "plain_text_input", "value": next_steps}},
        UpdateField.ETA: {UpdateField.ETA: {"type": "plain_text_input", "value": eta}},
        UpdateField.CUSTOMER_FACING: {UpdateField.CUSTOMER_FACING: {"type": "radio_buttons",
                                                                    "selected_option": facing}},
    }


async def opened_modal(bot: RunningBot, before: int) -> Call:
    """The views.open call made after ``before`` earlier ones."""
    calls = await bot.slack.wait_for("views.open", count=before + 1)
    assert calls[-1].ok, calls[-1].response
    assert calls[-1].params["view"]["callback_id"] == Callback.UPDATE
    return calls[-1]


async def submit_update(bot: RunningBot, opened: Call, *, user: str = ALICE, **values: Any) -> httpx.Response:
    """Submit an opened update modal; field errors show in the answer's JSON."""
    view = opened.params["view"]
    reply = await bot.requests.view_submission(
        callback_id=Callback.UPDATE, user_id=user, values=update_values(**values),
        private_metadata=view.get("private_metadata", ""), view_id=opened.response["view"]["id"],
    )
    assert reply.status_code == 200, reply.text
    return reply


def field_errors(reply: httpx.Response) -> dict[str, str]:
    if not reply.content:
        return {}
    body = json.loads(reply.content)
    return dict(body.get("errors", {})) if body.get("response_action") == "errors" else {}


async def prompted_at(bot: RunningBot, incident_id: int) -> Any:
    """When the incident's latest prompt was posted, on the bot's clock."""
    return (await state(bot, incident_id)).prompted_at
