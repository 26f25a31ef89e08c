"""The post-mortem document: gathered from what the bot recorded, rendered, uploaded and saved.

The document is a starting point for the review, not its result: everything
the bot knows (timeline, roles, changes, updates, action items, response
metrics against the severity's targets) is filled in, and the parts only
people can write (contributing factors, five whys, lessons) are left as
prompts. It is uploaded to the incident channel as a Markdown file and
written to ``postmortem_dir`` as ``YYYY-MM-DD-<slug>.md``; a directory the bot
cannot write to never stops the upload. Where ``[confluence]`` is set, each
publication also records the work of publishing it as a page, except for a
private incident, whose post-mortem stays with its members.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.consequences.kinds import Work
from bot.consequences.record import follow_with
from bot.slack import blocks
from bot.config.fields import CHANNEL_ID
from bot.config.render import drill_labelled
from bot.context import BotContext
from bot.errors import IncidentError, SlackCallFailed
from bot.incidents.records import incident_in_channel, load_incident
from bot.slack.messages import ROLE_LABELS
from bot.incidents.slug import slugify
from bot.metrics.stats import incident_metrics
from storage import queries
from storage.models import Incident, Role, TimelineEvent

log = logging.getLogger(__name__)

USAGE = "/incident postmortem"
CHANGE_KINDS = frozenset({"declared", "phase_changed", "severity_changed", "resolved", "reopened"})
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(rf"<#({CHANNEL_ID.pattern})(?:\|([^>]*))?>")
_SUBTEAM = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|([^>]*))?>")


@dataclass(frozen=True, slots=True)
class Document:
    """A rendered post-mortem and the file name it is saved and uploaded under."""

    filename: str
    title: str
    content: str


@dataclass(frozen=True, slots=True)
class Published:
    """What became of one publication: the upload and the saved copy, each with its error if any."""

    document: Document
    uploaded: bool
    upload_error: str | None
    path: Path | None
    write_error: str | None


def filename_for(ctx: BotContext, incident: Incident) -> str:
    """``YYYY-MM-DD-<slug>.md``: the declaration date (configured zone) and the channel's slug.

    The channel's slug already carries the ``-2``, ``-3`` that tell apart two
    incidents of the same title on the same day, so their files never collide.
    """
    day = incident.declared_at.astimezone(ctx.config.tz).date()
    head = f"{ctx.config.channel_prefix}-{day:%Y%m%d}-"
    name = incident.channel_name or ""
    slug = name.removeprefix(head) if name.startswith(head) else slugify(incident.title, 60)
    return f"{day:%Y-%m-%d}-{slug}.md"


async def build_document(ctx: BotContext, incident_id: int) -> Document:
    """Gather everything recorded about the incident and render the Markdown document."""
    async with ctx.db.session() as session:
        incident = await queries.get_incident(session=session, incident_id=incident_id)
        if incident is None:
            raise LookupError(f"incident {incident_id} does not exist")
        events = list(await queries.timeline(session=session, incident_id=incident_id))
        assignments = list(await queries.role_history(session=session, incident_id=incident_id))
        current = await queries.current_roles(session=session, incident_id=incident_id)
        action_items = list(await queries.action_items(session=session, incident_id=incident_id))
        updates = list(await queries.status_updates(session=session, incident_id=incident_id))
    people = await _names(ctx, _people_in(incident, events, [a.user_id for a in assignments]
                                          + [i.owner for i in action_items if i.owner]
                                          + [u.posted_by for u in updates]))
    timeline = [_entry(e, people) for e in events]
    content = ctx.render.markdown(
        "postmortem.md",
        incident=incident,
        metrics=incident_metrics(ctx.config, incident),
        policy=ctx.config.policy(incident.severity),
        commander=current.get(Role.IC),
        roles=[{"label": ROLE_LABELS[a.role], "user": a.user_id, "from": a.assigned_at, "until": a.ended_at}
               for a in assignments],
        changes=[entry for entry in timeline if entry["kind"] in CHANGE_KINDS],
        timeline=timeline,
        updates=updates,
        action_items=action_items,
        people=people,
    )
    title = drill_labelled(f"Post-mortem {incident.reference}: {incident.title}", incident)
    return Document(filename=filename_for(ctx, incident), title=title[:250], content=content)


async def publish(ctx: BotContext, incident_id: int, *, requested_by: str) -> Published:
    """Render, upload to the incident channel, save to ``postmortem_dir``; log both on the timeline."""
    document = await build_document(ctx, incident_id)
    incident = await load_incident(ctx, incident_id)
    upload_error: str | None = None
    if incident.channel_id is not None:
        try:
            await ctx.slack.upload_markdown(
                incident.channel_id, filename=document.filename, title=document.title,
                content=document.content, comment=ctx.render.slack("postmortem_comment", incident=incident),
            )
        except SlackCallFailed as exc:
            upload_error = exc.error
    else:
        upload_error = "the incident has no channel"
    path, write_error = await _write(ctx.config.postmortem_dir, document)
    async with ctx.db.session() as session:
        await queries.add_timeline(
            session=session, incident_id=incident_id, kind="postmortem_generated", actor=requested_by,
            at=ctx.clock.now(),
            text=_outcome_text(document, upload_error, path, write_error),
            data={"filename": document.filename, "uploaded": upload_error is None,
                  "path": str(path) if path else None, "write_error": write_error},
        )
        if ctx.config.confluence is not None and not incident.private:
            await follow_with(ctx, session, Work.PUBLISH_POSTMORTEM_PAGE, incident_id=incident_id,
                              requested_by=requested_by)
    published = Published(document, upload_error is None, upload_error, path, write_error)
    if write_error is not None or upload_error is not None:
        await _tell_commander(ctx, incident, published)
    return published


async def regenerate(ctx: BotContext, *, channel_id: str, user_id: str) -> str:
    """`/incident postmortem`: publish again from the current record; the reply for the requester."""
    incident = await incident_in_channel(ctx, channel_id, USAGE)
    assert incident.id is not None
    if incident.is_open:
        raise IncidentError(
            f"{incident.reference} is still open; its post-mortem is generated when it is resolved "
            "(`/incident resolve`)."
        )
    published = await publish(ctx, incident.id, requested_by=user_id)
    return ctx.render.slack("postmortem_reply", incident=incident, published=published)


async def _write(directory: Path, document: Document) -> tuple[Path | None, str | None]:
    """Save the document atomically; a failure is returned as a sentence, never raised."""
    try:
        return await asyncio.to_thread(_write_file, directory, document), None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return None, f"could not write {directory / document.filename}: {reason}"


def _write_file(directory: Path, document: Document) -> Path:
    """Write through a temporary file and rename, so a reader never sees half a document.

    The file is created with the process's umask like any other, so the team can read it.
    """
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / document.filename
    temporary = directory / f".{document.filename}.{uuid.uuid4().hex}.tmp"
    try:
        with temporary.open("x", encoding="utf-8") as file:
            file.write(document.content)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target.resolve()


def _outcome_text(document: Document, upload_error: str | None, path: Path | None, write_error: str | None) -> str:
    parts = [f"Post-mortem {document.filename} " + ("uploaded" if upload_error is None
                                                       else f"not uploaded ({upload_error})")]
    parts.append(f"saved to {path}" if path is not None else str(write_error))
    return "; ".join(parts)


async def _tell_commander(ctx: BotContext, incident: Incident, published: Published) -> None:
    """A failed upload or save goes to the IC privately; if that fails too, to the channel."""
    assert incident.id is not None and incident.channel_id is not None
    async with ctx.db.session() as session:
        commander = (await queries.current_roles(session=session, incident_id=incident.id)).get(Role.IC)
    text = ctx.render.slack("postmortem_problem", incident=incident, published=published, commander=commander)
    try:
        if commander is None:
            raise SlackCallFailed("chat.postEphemeral", "no_commander")
        await ctx.slack.post_ephemeral(incident.channel_id, commander, text=text)
    except SlackCallFailed as exc:
        log.info("could not tell the IC privately (%s); telling the channel", exc.error)
        await ctx.slack.post_message(incident.channel_id, text=text, blocks=blocks.message(text))


def _people_in(incident: Incident, events: Iterable[TimelineEvent], holders: Iterable[str]) -> set[str]:
    found = {incident.declared_by, *incident.responders, *holders}
    if incident.resolved_by:
        found.add(incident.resolved_by)
    for event in events:
        if event.actor:
            found.add(event.actor)
        found.update(_MENTION.findall(event.text))
    return found


async def _names(ctx: BotContext, user_ids: Iterable[str]) -> dict[str, str]:
    """Display names for people, so the document reads without Slack; an unknown id stays an id."""

    async def one(user_id: str) -> tuple[str, str]:
        try:
            user = await ctx.slack.user_info(user_id)
        except SlackCallFailed:
            return user_id, user_id
        profile: dict[str, Any] = user.get("profile") or {}
        return user_id, str(profile.get("display_name") or user.get("real_name") or user.get("name") or user_id)

    return dict(await asyncio.gather(*(one(u) for u in sorted(user_ids))))


def _plain(text: str, people: dict[str, str]) -> str:
    """Slack markup in recorded texts as a reader of the file expects it: @name, #channel."""
    text = _MENTION.sub(lambda m: "@" + people.get(m.group(1), m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or m.group(1)), text)
    text = _SUBTEAM.sub(lambda m: "@" + (m.group(2) or m.group(1)).lstrip("@"), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _entry(event: TimelineEvent, people: dict[str, str]) -> dict[str, Any]:
    return {"at": event.at, "kind": event.kind, "text": _plain(event.text, people), "actor": event.actor}
