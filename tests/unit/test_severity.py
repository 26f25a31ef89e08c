"""Severities: the valid ones, how they are written, and what people may type."""

from __future__ import annotations

import pytest

from storage.severity import Severity


def test_the_playbook_severities_in_order_of_urgency() -> None:
    assert [severity.label for severity in Severity] == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    assert sorted([Severity.SEV3, Severity.SEV1]) == [Severity.SEV1, Severity.SEV3]
    assert Severity.SEV2 == 2  # stored and compared as the plain number


@pytest.mark.parametrize("text", ["2", "sev2", "SEV-2", "severity 2", " Sev 2 ", "sev 02"])
def test_typed_spellings(text: str) -> None:
    assert Severity.parse(text) is Severity.SEV2


@pytest.mark.parametrize("text", ["", "0", "5", "sev", "two", "SEV-2 now", "２"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Severity.parse(text)


@pytest.mark.parametrize("number", [0, 5, -1])
def test_a_number_outside_the_range_names_the_valid_ones(number: int) -> None:
    with pytest.raises(ValueError, match=f"severity must be 1, 2, 3 or 4, not {number}"):
        Severity.of(number)
