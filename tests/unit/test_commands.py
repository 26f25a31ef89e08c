"""The /incident parser: every spelling people type, and no input that can crash it."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.slack.subcommands import (
    COMMANDS,
    AddAction,
    AddNote,
    AssignRole,
    CompleteAction,
    Help,
    ListIncidents,
    SetPhase,
    SetSeverity,
    ShowTimeline,
    parse,
)
from bot.errors import UsageError
from storage.models import Phase, Role


@pytest.mark.parametrize(
    "text",
    ["sev 2", "sev2", "SEV-2", "severity 2", "Sev 2", "sev-2", "SEV2", "severity2", "severity SEV-2",
     "sev SEV-2", "sev  2", "sev\t2", "  sev 2  ", "severity-2", "sev 02"],
)
def test_every_severity_spelling(text: str) -> None:
    assert parse(text)[1] == SetSeverity(severity=2)


@pytest.mark.parametrize("text", ["sev 9", "sev 0", "sev", "sev two", "sev 2 now", "SEV-5", "sev -", "sev ２",
                                  "sev 99999999999999999999999"])
def test_bad_severities_show_the_usage(text: str) -> None:
    with pytest.raises(UsageError, match=r"Usage: `/incident sev <1-4>`"):
        parse(text)


@pytest.mark.parametrize("phase", list(Phase))
def test_every_phase(phase: Phase) -> None:
    assert parse(f"status {phase.value.upper()}")[1] == SetPhase(phase=phase)
    assert parse(f"phase {phase.value}")[1] == SetPhase(phase=phase)


def test_unknown_phase_shows_the_phases() -> None:
    with pytest.raises(UsageError, match="investigating|identified|monitoring|resolved"):
        parse("status fixed")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("role tech <@U0BOB>", AssignRole(Role.TECH, "U0BOB")),
        ("role comms <@U0BOB|bob>", AssignRole(Role.COMMS, "U0BOB")),
        ("role SCRIBE <@W0ENT>", AssignRole(Role.SCRIBE, "W0ENT")),
        ("role ic <@U0BOB>", AssignRole(Role.IC, "U0BOB")),
        ("ic <@U0BOB|bob>", AssignRole(Role.IC, "U0BOB")),
    ],
)
def test_roles(text: str, expected: AssignRole) -> None:
    assert parse(text)[1] == expected


@pytest.mark.parametrize("text", ["role", "role tech", "role chef <@U0BOB>", "role tech bob", "role tech @bob",
                                  "ic", "ic bob", "role tech <!subteam^S1|oncall>", "role tech <@U0BOB> <@U0CAROL>"])
def test_bad_roles_show_the_usage(text: str) -> None:
    with pytest.raises(UsageError, match="Usage:"):
        parse(text)


def test_note_keeps_the_text() -> None:
    assert parse("note  DB failover started <@U0BOB>  ")[1] == AddNote("DB failover started <@U0BOB>")
    with pytest.raises(UsageError, match="needs the text"):
        parse("note   ")
    with pytest.raises(UsageError, match="too long"):
        parse("note " + "x" * 3001)


@pytest.mark.parametrize(("text", "page"), [("timeline", 1), ("timeline 3", 3)])
def test_timeline_pages(text: str, page: int) -> None:
    assert parse(text)[1] == ShowTimeline(page=page)


@pytest.mark.parametrize("text", ["timeline 0", "timeline two", "timeline ²", "timeline -1", "timeline 1 2"])
def test_bad_timeline_pages(text: str) -> None:
    with pytest.raises(UsageError, match=r"Usage: `/incident timeline \[page\]`"):
        parse(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("action Rotate the keys", AddAction("Rotate the keys", None, None)),
        ("action Rotate the keys <@U0BOB>", AddAction("Rotate the keys", "U0BOB", None)),
        ("action Rotate the keys <@U0BOB|bob> due 2031-02-03", AddAction("Rotate the keys", "U0BOB", date(2031, 2, 3))),
        ("action Rotate the keys due 2031-02-03 <@U0BOB>", AddAction("Rotate the keys", "U0BOB", date(2031, 2, 3))),
        ("action Rotate the keys DUE 2031-02-03", AddAction("Rotate the keys", None, date(2031, 2, 3))),
        ("action Ask <@U0BOB> about the due dates today", AddAction("Ask <@U0BOB> about the due dates today", None, None)),
        ("action done 2", CompleteAction(2)),
        ("action done #12", CompleteAction(12)),
        ("action close 3", CompleteAction(3)),
        ("action Close the firewall port", AddAction("Close the firewall port", None, None)),
    ],
)
def test_action_items(text: str, expected: object) -> None:
    assert parse(text)[1] == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("action", "needs the text"),
        ("action <@U0BOB> due 2031-01-01", "needs the text"),
        ("action Fix it due tomorrow", "not a date"),
        ("action Fix it due 2031-02-30", "not a date"),
        ("action Fix it due 20310201", "not a date"),
        ("action Fix it due 2031-W05-1", "not a date"),
        ("action done", "needs the number"),
        ("action done two", "needs the number"),
        ("action " + "x" * 501, "too long"),
    ],
)
def test_bad_action_items_show_the_usage(text: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem) as caught:
        parse(text)
    assert "Usage: `/incident action" in caught.value.message


def test_list_help_and_unknown() -> None:
    assert parse("list")[1] == ListIncidents()
    assert parse("")[1] == Help()
    with pytest.raises(UsageError, match="not an /incident subcommand"):
        parse("explode")
    with pytest.raises(UsageError, match="takes no arguments"):
        parse("list everything")


def test_every_subcommand_says_whether_it_needs_an_incident_channel() -> None:
    in_channel = {name for name, sub in COMMANDS.items() if sub.in_channel}
    assert {"status", "sev", "role", "ic", "note", "timeline", "action"} <= in_channel
    assert not {"help", "declare", "list", "stats"} & in_channel


_WORDS = st.sampled_from([*COMMANDS, "severity", "phase", "sev2", "SEV-3", "done", "due", "2031-01-01", "<@U0BOB>",
                          "<@U0BOB|bob>", "<!channel>", "#3", "1", "0", "-1", "²", "٣", "９", "\u200b", "\n", "`"])


@settings(max_examples=600, deadline=None)
@given(st.one_of(st.text(), st.lists(st.one_of(_WORDS, st.text(max_size=6)), max_size=6).map(" ".join)))
@example("sev " + "9" * 5000)
@example("timeline " + "1" * 5000)
@example("action x due " + "2" * 5000)
def test_no_input_crashes_the_parser(text: str) -> None:
    """Whatever is typed, the parser answers with a request or a usage error, never anything else."""
    try:
        subcommand, request = parse(text)
    except UsageError as exc:
        assert exc.message
        return
    assert subcommand in COMMANDS.values()
    assert request is not None
