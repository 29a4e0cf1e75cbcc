"""Phone numbers are stored in E.164; anything else is refused with invalidPhoneNumber."""

from __future__ import annotations

import pytest

from parley.domain.errors import InvalidRequest
from parley.domain.phone import normalize_e164


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+4915112345678", None, "+4915112345678"),
        ("+49 151 1234 5678", None, "+4915112345678"),
        ("  +49 (151) 123-456.78 ", None, "+4915112345678"),
        ("015112345678", "DE", "+4915112345678"),
        ("0049 151 12345678", "DE", "+4915112345678"),
        ("+1 202-555-0143", "DE", "+12025550143"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("+44 7911 123456", None, "+447911123456"),
    ],
)
def test_valid_numbers_become_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalize_e164(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("", None),
        ("   ", None),
        ("015112345678", None),
        ("+49", None),
        ("+1 555 555 0100", None),
        ("12345", "DE"),
        ("+1 800 FLOWERS", None),
        ("+4915112345678 ext. 12", None),
        ("tel:+4915112345678", None),
        ("+49 151 1234567890123456789", None),
        ("not a number", "DE"),
        ("015112345678", "XX"),
    ],
)
def test_invalid_numbers_are_refused(raw: str, region: str | None) -> None:
    with pytest.raises(InvalidRequest) as caught:
        normalize_e164(raw, region)
    assert caught.value.reason == "invalidPhoneNumber"
    assert caught.value.problems[0].scope == "phoneNumber"


def test_the_problem_names_the_given_scope_and_the_number() -> None:
    with pytest.raises(InvalidRequest) as caught:
        normalize_e164("12", scope="contactAddress")
    problem = caught.value.problems[0]
    assert problem.scope == "contactAddress"
    assert "'12'" in problem.message
    assert "country code" in problem.message
