"""Helpers for the resolve, post-mortem and stats tests: drive the resolve modal like Slack does."""

from __future__ import annotations

from typing import Any

from bot.slack.ids import Action, Callback, ResolveField
from storage import queries
from storage.models import Incident
from bot.local_slack.server import Call
from tests.support import ALICE, RunningBot


def resolve_values(*, summary: str | None, root_cause: str | None = None,
                   affected: bool | None = True) -> dict[str, dict[str, dict[str, Any]]]:
    """Slack's view.state.values for the resolve modal."""
    option = None if affected is None else {"value": "yes" if affected else "no"}
    return {
        ResolveField.SUMMARY: {ResolveField.SUMMARY: {"type": "plain_text_input", "value": summary}},
        ResolveField.ROOT_CAUSE: {ResolveField.ROOT_CAUSE: {"type": "plain_text_input", "value": root_cause}},
        ResolveField.CUSTOMERS_AFFECTED: {
            ResolveField.CUSTOMERS_AFFECTED: {"type": "radio_buttons", "selected_option": option}
        },
    }


async def open_resolve_modal(bot: RunningBot, incident: Incident, *, user: str = ALICE,
                             via: str = "command") -> Call:
    """Open the resolve modal from `/incident resolve` or the summary's button; the views.open call."""
    assert incident.channel_id is not None
    before = len(bot.slack.calls_to("views.open"))
    if via == "command":
        reply = await bot.requests.command("resolve", user_id=user, channel_id=incident.channel_id)
    else:
        reply = await bot.requests.block_actions(user_id=user, action_id=Action.RESOLVE,
                                                 channel_id=incident.channel_id, message_ts=incident.summary_ts)
    assert reply.status_code == 200, reply.text
    calls = await bot.slack.wait_for("views.open", count=before + 1)
    assert calls[-1].ok, calls[-1].response
    return calls[-1]


async def submit_resolve(bot: RunningBot, opened: Call, *, user: str = ALICE, summary: str | None = "Rolled back",
                         root_cause: str | None = "A bad deploy", affected: bool | None = True) -> Any:
    """Submit an opened resolve modal; the HTTP answer (field errors show in its JSON)."""
    view = opened.params["view"]
    return await bot.requests.view_submission(
        callback_id=Callback.RESOLVE, user_id=user,
        values=resolve_values(summary=summary, root_cause=root_cause, affected=affected),
        private_metadata=view.get("private_metadata", ""), view_id=opened.response["view"]["id"],
    )


async def resolve(bot: RunningBot, incident: Incident, *, wait: bool = True, **fields: Any) -> Incident:
    """The whole resolve: command, modal, submission; waits until the post-mortem was uploaded."""
    uploads = len(bot.slack.calls_to("files.completeUploadExternal"))
    opened = await open_resolve_modal(bot, incident, user=fields.pop("user", ALICE), via=fields.pop("via", "command"))
    reply = await submit_resolve(bot, opened, **fields)
    assert reply.status_code == 200 and not reply.content, reply.text
    assert incident.id is not None
    if wait:
        await bot.slack.wait_for("files.completeUploadExternal", count=uploads + 1, timeout=10)
        await bot.wait_until(lambda: _published(bot, incident.id), timeout=10)
        await bot.settled()
    return await bot.incident(incident.id)


async def _published(bot: RunningBot, incident_id: int) -> bool:
    """The resolve's last step (the post-mortem) is logged on the timeline."""
    async with bot.ctx.db.session() as session:
        events = await queries.timeline(session=session, incident_id=incident_id)
    resolutions = [i for i, e in enumerate(events) if e.kind == "resolved"]
    return bool(resolutions) and any(e.kind == "postmortem_generated" for e in events[resolutions[-1]:])
