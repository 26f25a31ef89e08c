"""Handing incident roles to people, keeping who held them before."""

from __future__ import annotations

from bot.consequences import follow
from bot.slack.subcommands import COMMANDS
from bot.context import BotContext
from bot.errors import IncidentError
from bot.incidents.records import row_for_update
from bot.slack.messages import ROLE_LABELS
from bot.incidents.people import require_person
from bot.slack.posting import tell_channel
from storage import queries
from storage.models import Incident, Role


async def assign_role(ctx: BotContext, incident: Incident, role: Role, user_id: str, *, actor: str) -> Incident:
    """Give a role to a person, ending the previous holder's term (the history stays).

    The person is checked with Slack first (they must exist, be active and be
    human), invited to the channel so the announcement reaches them, and the
    handover is announced in the channel and logged on the timeline.
    """
    name = await require_person(ctx, user_id, usage=COMMANDS["role"].usage)
    label = ROLE_LABELS[role]
    assert incident.id is not None
    incident_id = incident.id
    async with ctx.incident_locks[incident_id]:
        async with row_for_update(ctx, incident_id) as (session, current):
            previous = await queries.assign_role(session=session, incident_id=incident_id, role=role,
                                                 user_id=user_id, assigned_by=actor)
            if previous == user_id:
                raise IncidentError(f"{name} is already the {label} of {current.reference}; nothing was changed.")
            handover = f", taking over from <@{previous}>" if previous else ""
            await queries.add_timeline(
                session=session, incident_id=incident_id, kind="role_assigned", actor=actor,
                text=f"<@{user_id}> is now {label}{handover}",
                data={"role": role.value, "user": user_id, "previous": previous},
            )
        assert current.channel_id is not None
        failed = await ctx.slack.invite(current.channel_id, [user_id])
        text = ctx.render.slack("role_assigned", incident=current, label=label, user=user_id, previous=previous,
                                actor=actor, invite_error=failed.get(user_id))
        await tell_channel(ctx, current, text)
    await follow.after_roles_change(ctx, current, actor=actor)
    return current
