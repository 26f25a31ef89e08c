"""Status drafts end to end: proposed, refused to outsiders, edited, approved once, published once."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from bot.status import draft_wording


from bot.config.settings import IncidentConfig
from bot.slack.ids import Action, Callback, DraftField
from storage.models import DraftState, Incident, Phase, Role, utcnow
from tests.draft_support import (
    assign,
    command,
    draft,
    drafts_of,
    get,
    has_buttons,
    message_of,
    open_modal,
    press,
    publications_done,
    set_phase,
    status_posts,
    submit_modal,
    wait_drafts,
    wait_state,
)
from tests.reminding import opened_modal, submit_update, updates_of
from tests.resolving import resolve
from tests.support import ALICE, BOB, CAROL, DAVE, RunningBot


async def post_update(bot: RunningBot, incident: Incident, *, user: str = ALICE, **values: object) -> None:
    """`/incident update`, then submit the modal with these values."""
    assert incident.channel_id is not None and incident.id is not None
    before = len(bot.slack.calls_to("views.open"))
    updates = len(await updates_of(bot, incident.id))
    await command(bot, "update", channel_id=incident.channel_id, user=user)
    reply = await submit_update(bot, await opened_modal(bot, before), user=user, **values)
    assert not reply.content, reply.text

    async def stored() -> bool:
        return len(await updates_of(bot, incident.id)) > updates

    await bot.wait_until(stored)


async def customer_facing_incident(bot: RunningBot, *, comms: str | None = BOB) -> Incident:
    incident = await bot.declare("Checkout errors", customer_impact=True, services="checkout",
                                 responders=[BOB, CAROL])
    if comms:
        await assign(bot, incident, Role.COMMS, comms)
    return incident


async def test_update_to_draft_to_refusal_edit_double_approval_and_one_publication(bot: RunningBot) -> None:
    incident = await customer_facing_incident(bot)
    await post_update(bot, incident, phase="identified", what="A bad deploy broke card payments; rolling back.",
                      customer_facing=True)
    [proposed] = await wait_drafts(bot, incident.id, 1)
    assert proposed.phase == "identified" and proposed.state == DraftState.PENDING
    assert "identified the cause of the problem affecting checkout" in proposed.text
    assert "A bad deploy broke card payments; rolling back." in proposed.text
    assert "We will post the next update by" in proposed.text

    message = message_of(bot, proposed)
    assert f"<@{BOB}>" in json.dumps(message.blocks) and has_buttons(message)
    [copies] = [m for m in bot.slack.messages_in(incident.channel_id) if m.thread_ts == proposed.message_ts]
    assert "STATUS UPDATE" in copies.text and "Customer e-mail (initial)" in copies.text

    # Someone who is neither comms lead, IC nor approver is refused, ephemerally; nothing changes.
    refused = await press(bot, proposed, Action.DRAFT_APPROVE, user=DAVE)
    assert "Only the communications lead" in (await bot.slack.wait_for_response(refused))[0]["text"]
    refused = await press(bot, proposed, Action.DRAFT_EDIT, user=CAROL)
    assert "Only the communications lead" in (await bot.slack.wait_for_response(refused))[0]["text"]
    assert (await draft(bot, proposed.id)).state == DraftState.PENDING and not status_posts(bot)

    # Edit: an emptied or overlong text is a field error; a good one is saved and stays pending.
    view_id = await open_modal(bot, proposed, Action.DRAFT_EDIT, user=BOB)
    answer = await submit_modal(bot, callback=Callback.DRAFT_EDIT, field=DraftField.TEXT, value="  \n ",
                                user=BOB, view_id=view_id)
    assert answer["response_action"] == "errors" and "cannot be empty" in answer["errors"][DraftField.TEXT]
    answer = await submit_modal(bot, callback=Callback.DRAFT_EDIT, field=DraftField.TEXT, value="x" * 2001,
                                user=BOB, view_id=view_id)
    assert "2001 characters; keep it to 2000" in answer["errors"][DraftField.TEXT]
    assert (await draft(bot, proposed.id)).text == proposed.text
    edited = "Card payments fail at checkout <b>sometimes</b>. We found why and are fixing it."
    assert await submit_modal(bot, callback=Callback.DRAFT_EDIT, field=DraftField.TEXT, value=edited,
                              user=BOB, view_id=view_id) == {}
    saved = await draft(bot, proposed.id)
    assert (saved.text, saved.state, saved.edited_by) == (edited, DraftState.PENDING, BOB)
    await bot.wait_until(lambda: "are fixing it" in json.dumps(message_of(bot, saved).blocks))
    assert has_buttons(message_of(bot, saved))

    # Approve twice at once (the comms lead and the IC): one wins, the other is told; one publication.
    first, second = await asyncio.gather(press(bot, saved, Action.DRAFT_APPROVE, user=BOB),
                                         press(bot, saved, Action.DRAFT_APPROVE, user=ALICE))
    published = await wait_state(bot, proposed.id, DraftState.PUBLISHED)
    await bot.wait_until(lambda: bot.slack.responses_to(first) or bot.slack.responses_to(second))
    await publications_done(bot)
    answers = [r["text"] for url in (first, second) for r in bot.slack.responses_to(url)]
    assert len(answers) == 1 and "already approved" in answers[0]
    [post] = status_posts(bot)
    assert "are fixing it" in post.text and "&lt;b&gt;sometimes&lt;/b&gt;" in post.text

    final = json.dumps(message_of(bot, published).blocks)
    assert not has_buttons(message_of(bot, published))
    assert f"Approved by <@{published.decided_by}> <!date^" in final and "the status page" in final

    late = await press(bot, published, Action.DRAFT_APPROVE, user=BOB)
    refusal = (await bot.slack.wait_for_response(late))[0]["text"]
    assert f"already approved (<!date^{int(published.decided_at.timestamp())}^" in refusal, "in the reader's zone"
    assert len(status_posts(bot)) == 1

    page = await get(bot, "/status")
    assert "are fixing it" in page.text and "&lt;b&gt;sometimes&lt;/b&gt;" in page.text
    [shown] = (await get(bot, "/status.json")).json()["incidents"]
    assert (shown["title"], shown["phase"], shown["severity"]) == ("Checkout errors", "identified", "SEV-2")
    assert [u["text"] for u in shown["updates"]] == [edited]
    feed = await get(bot, "/status/feed.atom")
    assert "are fixing it" in feed.text and "&lt;b&gt;sometimes&lt;/b&gt;" in feed.text


async def test_an_update_that_changes_the_phase_makes_one_draft(bot: RunningBot) -> None:
    incident = await customer_facing_incident(bot)
    await post_update(bot, incident, phase="monitoring", what="Fix deployed.", customer_facing=True)
    await wait_drafts(bot, incident.id, 1)
    await post_update(bot, incident, phase="monitoring", what="Error rate back to normal.", customer_facing=True)
    drafts = await wait_drafts(bot, incident.id, 2)
    assert [d.phase for d in drafts] == ["monitoring", "monitoring"]
    assert "Fix deployed." in drafts[0].text and "Error rate back to normal." in drafts[1].text
    assert (await bot.incident(incident.id)).phase == "monitoring"


async def test_a_phase_change_of_a_customer_facing_incident_makes_a_draft(bot: RunningBot) -> None:
    incident = await customer_facing_incident(bot, comms=None)
    await set_phase(bot, incident, "identified")
    [proposed] = await wait_drafts(bot, incident.id, 1)
    assert proposed.phase == "identified" and proposed.what_changed == ""
    # Without a comms lead, the IC is asked.
    assert "<@U0ALICE>, please approve" in json.dumps(message_of(bot, proposed).blocks)


async def test_no_public_draft_for_private_internal_or_drill_incidents(bot: RunningBot) -> None:
    private = await bot.declare("Secret breach", customer_impact=True, private=True)
    drill = await bot.declare("Game day", customer_impact=True, drill=True)
    internal = await bot.declare("Internal wiki down", customer_impact=False)
    for incident in (private, drill, internal):
        await set_phase(bot, incident, "identified")
    await post_update(bot, internal, phase="monitoring", what="Wiki restarted.", customer_facing=False)
    for incident in (private, drill, internal):
        await bot.wait_until(lambda i=incident: _phase_is(bot, i.id, ("identified", "monitoring")))
        assert await drafts_of(bot, incident.id) == []
    assert (await get(bot, "/status.json")).json() == {"incidents": []}
    assert not status_posts(bot)


async def _phase_is(bot: RunningBot, incident_id: int, phases: tuple[str, ...]) -> bool:
    return (await bot.incident(incident_id)).phase in phases


async def test_an_update_can_make_an_incident_customer_facing(bot: RunningBot) -> None:
    incident = await bot.declare("Search slow", customer_impact=False)
    await post_update(bot, incident, phase="identified", what="Slow index rebuild.", customer_facing=True)
    [proposed] = await wait_drafts(bot, incident.id, 1)
    assert "Slow index rebuild." in proposed.text


async def test_reject_with_a_reason_publishes_nothing(bot: RunningBot) -> None:
    incident = await customer_facing_incident(bot)
    await set_phase(bot, incident, "identified")
    [proposed] = await wait_drafts(bot, incident.id, 1)
    view_id = await open_modal(bot, proposed, Action.DRAFT_REJECT, user=BOB)
    answer = await submit_modal(bot, callback=Callback.DRAFT_REJECT, field=DraftField.REASON,
                                value="Too early <to say>", user=BOB, view_id=view_id)
    assert answer == {}
    rejected = await wait_state(bot, proposed.id, DraftState.REJECTED)
    assert (rejected.decided_by, rejected.reject_reason) == (BOB, "Too early <to say>")
    await bot.wait_until(lambda: not has_buttons(message_of(bot, rejected)))
    shown = json.dumps(message_of(bot, rejected).blocks)
    assert f"Rejected by <@{BOB}>" in shown and "Too early &lt;to say&gt;" in shown

    # The same reject modal submitted again, and a later approval, are refused; nothing is published.
    again = await submit_modal(bot, callback=Callback.DRAFT_REJECT, field=DraftField.REASON, value="",
                               user=BOB, view_id=view_id)
    assert "already rejected" in again["errors"][DraftField.REASON]
    late = await press(bot, rejected, Action.DRAFT_APPROVE, user=BOB)
    assert "already rejected" in (await bot.slack.wait_for_response(late))[0]["text"]
    assert (await draft(bot, proposed.id)).state == DraftState.REJECTED
    assert not status_posts(bot) and (await get(bot, "/status.json")).json() == {"incidents": []}
    assert "Too early" not in (await get(bot, "/status")).text


async def test_an_edit_modal_left_open_cannot_change_an_approved_draft(bot: RunningBot) -> None:
    incident = await customer_facing_incident(bot)
    await set_phase(bot, incident, "identified")
    [proposed] = await wait_drafts(bot, incident.id, 1)
    view_id = await open_modal(bot, proposed, Action.DRAFT_EDIT, user=BOB)
    await press(bot, proposed, Action.DRAFT_APPROVE, user=ALICE)
    await wait_state(bot, proposed.id, DraftState.PUBLISHED)
    answer = await submit_modal(bot, callback=Callback.DRAFT_EDIT, field=DraftField.TEXT, value="Changed later",
                                user=BOB, view_id=view_id)
    refusal = answer["errors"][DraftField.TEXT]
    assert "already approved" in refusal and " UTC)" in refusal and "<!date" not in refusal, "a field error is plain"
    assert "Changed later" not in (await draft(bot, proposed.id)).text


async def test_configured_approvers_and_user_groups_may_decide(make_bot: object) -> None:
    bot: RunningBot = await make_bot(IncidentConfig(approvers=["U0DAVE", "S0COMMS"]))  # type: ignore[operator]
    bot.slack.add_usergroup("S0COMMS", "comms-team", [CAROL])
    incident = await customer_facing_incident(bot)
    await set_phase(bot, incident, "identified")
    await set_phase(bot, incident, "monitoring")
    first, second = await wait_drafts(bot, incident.id, 2)
    await press(bot, second, Action.DRAFT_APPROVE, user=CAROL)
    assert (await wait_state(bot, second.id, DraftState.PUBLISHED)).decided_by == CAROL
    assert "usergroups.users.list" in {c.method for c in bot.slack.calls}
    # The older pending draft was superseded by the approval of the newer one.
    superseded = await draft(bot, first.id)
    assert superseded.state == DraftState.SUPERSEDED
    await bot.wait_until(lambda: not has_buttons(message_of(bot, superseded)))
    late = await press(bot, superseded, Action.DRAFT_APPROVE, user=DAVE)
    assert "replaced by a newer approved draft" in (await bot.slack.wait_for_response(late))[0]["text"]
    await publications_done(bot)
    assert len(status_posts(bot)) == 1


async def test_resolving_leaves_old_drafts_stale_and_drafts_the_resolution(bot: RunningBot) -> None:
    incident = await customer_facing_incident(bot)
    await set_phase(bot, incident, "identified")
    [stale] = await wait_drafts(bot, incident.id, 1)
    await resolve(bot, incident, summary="We rolled back the faulty release.")
    stale_again, resolution = await wait_drafts(bot, incident.id, 2)
    assert resolution.phase == "resolved" and "We rolled back the faulty release." in resolution.text
    assert "has been resolved" in resolution.text and "The problem lasted from" in resolution.text
    [copies] = [m for m in bot.slack.messages_in(incident.channel_id) if m.thread_ts == resolution.message_ts]
    assert "Customer e-mail (resolution)" in copies.text

    refused = await press(bot, stale, Action.DRAFT_APPROVE, user=BOB)
    assert "out of date" in (await bot.slack.wait_for_response(refused))[0]["text"]
    assert (await draft(bot, stale.id)).state == DraftState.PENDING

    await press(bot, resolution, Action.DRAFT_APPROVE, user=BOB)
    await wait_state(bot, resolution.id, DraftState.PUBLISHED)
    [shown] = (await get(bot, "/status.json")).json()["incidents"]
    assert shown["phase"] == "resolved" and shown["resolved_at"] is not None
    assert "All systems operational" in (await get(bot, "/status")).text

    # Reopening is a phase change too: the public hears about it only through a new draft.
    await command(bot, "reopen", channel_id=incident.channel_id)
    reopened = (await wait_drafts(bot, incident.id, 3))[-1]
    assert reopened.phase == "investigating" and reopened.state == DraftState.PENDING
    assert (await get(bot, "/status.json")).json()["incidents"][0]["phase"] == "resolved"


async def test_a_draft_slack_refused_is_posted_when_the_worker_tries_again(bot: RunningBot) -> None:
    incident = await customer_facing_incident(bot)
    await bot.settled()
    bot.slack.fail_next("chat.postMessage", "internal_error")
    await command(bot, "status identified", channel_id=incident.channel_id)
    [posted] = await wait_drafts(bot, incident.id, 1)
    assert has_buttons(message_of(bot, posted))
    drafts_posted = [m for m in bot.slack.messages_in(incident.channel_id)
                     if (m.metadata or {}).get("event_type") == "incident_status_draft"]
    assert len(drafts_posted) == 1

async def test_operator_templates_override_the_built_in_wording(make_bot: object, tmp_path: Path) -> None:
    (tmp_path / "status").mkdir()
    (tmp_path / "status" / "identified.j2").write_text("Custom: {{ affected }} · {{ what_changed }} · "
                                                       "{{ '{{ not evaluated }}' }}")
    bot: RunningBot = await make_bot(IncidentConfig(templates_dir=tmp_path))  # type: ignore[operator]
    incident = await customer_facing_incident(bot)
    await post_update(bot, incident, phase="identified", what="{{ 7 * 7 }} rows", customer_facing=True)
    [proposed] = await wait_drafts(bot, incident.id, 1)
    assert proposed.text == "Custom: checkout · {{ 7 * 7 }} rows · {{ not evaluated }}"


async def test_every_phase_template_reads_right_and_fits_the_limit(bot: RunningBot) -> None:
    incident = await bot.declare("Checkout errors", customer_impact=True, services="checkout")
    now = utcnow()
    for phase in Phase:
        text = draft_wording.public_text(bot.ctx, incident, phase, "Payments <fail>.", now=now)
        assert "checkout" in text and "Payments <fail>." in text, phase
        if phase == Phase.RESOLVED:
            assert "has been resolved" in text and "The problem lasted from" in text
        else:
            assert "We will post the next update by" in text and "UTC" in text
    long = draft_wording.public_text(bot.ctx, incident, Phase.IDENTIFIED, "word " * 900, now=now)
    assert len(long) <= 2000 and long.endswith("UTC.") and "…" in long
    assert draft_wording.spoken(timedelta(minutes=30)) == "30 minutes"
    assert draft_wording.spoken(timedelta(hours=1)) == "1 hour"
