"""Handing incident roles to people, keeping who held them before."""

from __future__ import annotations

from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.slack.subcommands import COMMANDS
from bot.consequences.messages import post_once
from bot.context import BotContext
from bot.errors import IncidentError
from bot.incidents.records import load_incident, row_for_update
from bot.slack.messages import ROLE_LABELS
from bot.incidents.people import require_person
from storage import queries
from storage.models import FollowUpWork, Incident, Role


async def assign_role(ctx: BotContext, incident: Incident, role: Role, user_id: str, *, actor: str) -> Incident:
    """Give a role to a person, ending the previous holder's term (the history stays).

    The person is checked with Slack first (they must exist, be active and be
    human); the change is logged on the timeline, and the work that follows it
    (inviting them to the channel, announcing the handover there, the summary)
    is recorded with it.
    """
    name = await require_person(ctx, user_id, usage=COMMANDS["role"].usage)
    label = ROLE_LABELS[role]
    assert incident.id is not None
    incident_id = incident.id
    async with ctx.incident_locks[incident_id]:
        async with row_for_update(ctx, incident_id) as (session, current):
            previous = await queries.assign_role(session=session, incident_id=incident_id, role=role,
                                                 user_id=user_id, assigned_by=actor, at=ctx.clock.now())
            if previous == user_id:
                raise IncidentError(f"{name} is already the {label} of {current.reference}; nothing was changed.")
            handover = f", taking over from <@{previous}>" if previous else ""
            await queries.add_timeline(
                session=session, incident_id=incident_id, kind="role_assigned", actor=actor, at=ctx.clock.now(),
                text=f"<@{user_id}> is now {label}{handover}",
                data={"role": role.value, "user": user_id, "previous": previous},
            )
            await follow_with(ctx, session, Work.ANNOUNCE_ROLE, incident_id=incident_id, requested_by=actor,
                              payload={"role": role.value, "user": user_id, "previous": previous, "actor": actor})
            await follow_with(ctx, session, Work.REFRESH_SUMMARY, incident_id=incident_id)
    return current


async def announce_role(ctx: BotContext, work: FollowUpWork) -> None:
    """Invite the new role holder to the channel, then tell the channel (with any invite problem)."""
    assert work.incident_id is not None
    incident = await load_incident(ctx, work.incident_id)
    if incident.channel_id is None:
        return
    payload = work.payload
    user_id = str(payload["user"])
    failed = await ctx.slack.invite(incident.channel_id, [user_id])
    text = ctx.render.slack("role_assigned", incident=incident, label=ROLE_LABELS[Role(payload["role"])],
                            user=user_id, previous=payload.get("previous"), actor=payload["actor"],
                            invite_error=failed.get(user_id))
    await post_once(ctx, work, incident.channel_id, text)
