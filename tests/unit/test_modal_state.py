"""Reading submitted modals: each kind of input, answered, left empty, or missing from the payload."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import pytest

from bot.slack.modal_state import ModalState, read_metadata


def state(field: str, element: dict[str, Any]) -> ModalState:
    return ModalState({field: {field: element}})


def test_text_is_stripped_and_empty_when_left_blank() -> None:
    assert state("title", {"type": "plain_text_input", "value": "  Checkout down \n"}).text("title") == "Checkout down"
    assert state("title", {"type": "plain_text_input", "value": None}).text("title") == ""
    assert ModalState({}).text("title") == ""


def test_option_of_a_select_or_radio_buttons() -> None:
    picked = state("phase", {"type": "static_select", "selected_option": {"value": "identified"}})
    assert picked.option("phase") == "identified"
    assert state("phase", {"type": "static_select", "selected_option": None}).option("phase") is None
    assert ModalState({}).option("phase") is None


@pytest.mark.parametrize(
    ("element", "answer"),
    [
        ({"type": "radio_buttons", "selected_option": {"value": "yes"}}, True),
        ({"type": "radio_buttons", "selected_option": {"value": "no"}}, False),
        ({"type": "radio_buttons", "selected_option": None}, None),
        ({"type": "radio_buttons", "selected_option": {"value": "maybe"}}, None),
        ({"type": "static_select", "selected_option": {"value": "yes"}}, True),
        ({"type": "checkboxes", "selected_options": [{"value": "yes"}]}, True),
        ({"type": "checkboxes", "selected_options": []}, False),
    ],
)
def test_yes_no_from_radio_buttons_selects_and_checkboxes(element: dict[str, Any], answer: bool | None) -> None:
    assert state("drill", element).yes_no("drill") is answer


def test_unanswered_yes_no_question_missing_from_the_payload() -> None:
    assert ModalState({}).yes_no("drill") is None


def test_people() -> None:
    assert state("ic", {"type": "users_select", "selected_user": "U0ALICE"}).user("ic") == "U0ALICE"
    assert state("ic", {"type": "users_select", "selected_user": None}).user("ic") is None
    many = state("responders", {"type": "multi_users_select", "selected_users": ["U0BOB", "U0CAROL"]})
    assert many.users("responders") == ("U0BOB", "U0CAROL")
    assert ModalState({}).users("responders") == ()


def test_date_and_time_pickers() -> None:
    assert state("day", {"type": "datepicker", "selected_date": "2030-01-31"}).day("day") == date(2030, 1, 31)
    assert state("day", {"type": "datepicker", "selected_date": None}).day("day") is None
    assert state("day", {"type": "datepicker", "selected_date": "31/01/2030"}).day("day") is None
    assert state("at", {"type": "timepicker", "selected_time": "14:30"}).time_of_day("at") == time(14, 30)
    assert state("at", {"type": "timepicker", "selected_time": None}).time_of_day("at") is None


def test_date_time_picker_is_an_aware_utc_moment() -> None:
    picked = state("started", {"type": "datetimepicker", "selected_date_time": 1_900_000_000})
    assert picked.moment("started") == datetime(2030, 3, 17, 17, 46, 40, tzinfo=UTC)
    assert state("started", {"type": "datetimepicker", "selected_date_time": None}).moment("started") is None
    assert state("started", {"type": "datetimepicker", "selected_date_time": True}).moment("started") is None


@pytest.mark.parametrize(("raw", "expected"), [('{"incident_id": 7}', {"incident_id": 7}), ("", {}),
                                               ("not json", {}), ("[1, 2]", {})])
def test_private_metadata(raw: str, expected: dict[str, Any]) -> None:
    assert read_metadata(raw) == expected
