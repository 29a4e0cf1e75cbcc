"""GSM-7 / UCS-2 choice, unit counting and segmenting of SMS texts."""

from __future__ import annotations

import random

import pytest
from gsm0338 import Codec

from parley.domain.errors import RuleViolation
from parley.domain.sms import (
    MAX_SEGMENTS,
    MULTIPART_SEGMENT_UNITS,
    SmsEncoding,
    check_sms_length,
    plan_sms,
)

GSM7 = SmsEncoding.GSM7
UCS2 = SmsEncoding.UCS2
EMOJI = "\N{GRINNING FACE}"
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = "€[]{}~^|\\\f"


def units(segment: str, encoding: SmsEncoding) -> int:
    """Counted independently of the code under test: the library's septets, or UTF-16 units."""
    if encoding is GSM7:
        return len(Codec().encode(segment)[0])
    return len(segment.encode("utf-16-be")) // 2


def lengths(text: str) -> list[int]:
    return [len(segment) for segment in plan_sms(text).segments]


def test_every_basic_gsm_character_is_one_septet() -> None:
    plan = plan_sms(GSM_BASIC)
    assert plan.encoding == "GSM-7"
    assert plan.units == plan.characters == len(GSM_BASIC) == 127
    assert plan.characters_forcing_ucs2 == []


@pytest.mark.parametrize("char", list(GSM_EXTENSION))
def test_extension_characters_are_two_septets(char: str) -> None:
    plan = plan_sms(f"a{char}")
    assert (plan.encoding, plan.characters, plan.units) == (GSM7, 2, 3)


@pytest.mark.parametrize("char", ["ç", "á", "`", "\N{RIGHT SINGLE QUOTATION MARK}", "ł", "中", "\x1b", EMOJI])
def test_a_character_outside_gsm_forces_ucs2(char: str) -> None:
    plan = plan_sms(f"Hello {char}")
    assert plan.encoding == "UCS-2"
    assert plan.characters_forcing_ucs2 == [char]


def test_empty_text_has_no_segments() -> None:
    plan = plan_sms("")
    assert (plan.encoding, plan.segments, plan.segment_count, plan.units) == (GSM7, [], 0, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, [160]),
        ("a" * 161, [153, 8]),
        ("€" * 80, [80]),
        ("€" * 80 + "a", [76, 5]),
        ("a" * 159 + "€", [153, 7]),
        ("a" * 152 + "€" + "a" * 10, [152, 11]),
        ("a" * 153 + "€" * 4, [153, 4]),
        ("a" * 306, [153, 153]),
        ("a" * 307, [153, 153, 1]),
        ("a" * 305 + "€", [153, 152, 1]),
        ("a" * 304 + "€", [153, 152]),
    ],
)
def test_gsm7_segment_boundaries(text: str, expected: list[int]) -> None:
    plan = plan_sms(text)
    assert plan.encoding == "GSM-7"
    assert lengths(text) == expected
    assert plan.segment_count == len(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ł" * 70, [70]),
        ("ł" * 71, [67, 4]),
        (EMOJI * 35, [35]),
        (EMOJI * 35 + "a", [33, 3]),
        ("ł" * 66 + EMOJI + "ł" * 10, [66, 11]),
        ("ł" * 67 + EMOJI + "ł" * 2, [67, 3]),
        ("ł" * 65 + EMOJI + "ł" * 10, [66, 10]),
    ],
)
def test_ucs2_segment_boundaries(text: str, expected: list[int]) -> None:
    plan = plan_sms(text)
    assert plan.encoding == "UCS-2"
    assert lengths(text) == expected


@pytest.mark.parametrize("parts", range(2, MAX_SEGMENTS + 1))
def test_every_multipart_boundary_holds_for_gsm7(parts: int) -> None:
    full = "a" * (153 * parts)
    assert plan_sms(full).segment_count == parts
    assert plan_sms(full + "a").segment_count == parts + 1
    straddling = "a" * (153 * parts - 1) + "€"
    assert plan_sms(straddling).segments[-1] == "€"
    assert plan_sms(straddling).segment_count == parts + 1


@pytest.mark.parametrize("parts", range(2, MAX_SEGMENTS + 1))
def test_every_multipart_boundary_holds_for_ucs2(parts: int) -> None:
    full = "ł" * (67 * parts)
    assert plan_sms(full).segment_count == parts
    assert plan_sms(full + "ł").segment_count == parts + 1
    straddling = "ł" * (67 * parts - 1) + EMOJI
    assert plan_sms(straddling).segments[-1] == EMOJI


def test_characters_count_code_points_and_units_count_utf16() -> None:
    plan = plan_sms(f"Hello {EMOJI} €")
    assert (plan.encoding, plan.characters, plan.units) == (UCS2, 9, 10)


def test_characters_forcing_ucs2_are_distinct_in_order_of_appearance() -> None:
    plan = plan_sms(f"á{EMOJI}á€çb{EMOJI}")
    assert plan.characters_forcing_ucs2 == ["á", EMOJI, "ç"]


def test_random_texts_keep_every_invariant() -> None:
    rng = random.Random(20240607)
    alphabets = ["a€", "a€[ ", "ał", f"ł{EMOJI}", f"a€ł{EMOJI}"]
    for _ in range(400):
        text = "".join(rng.choice(rng.choice(alphabets)) for _ in range(rng.randint(0, 800)))
        plan = plan_sms(text)
        assert "".join(plan.segments) == text
        assert plan.units == units(text, plan.encoding)
        if plan.segment_count > 1:
            limit = MULTIPART_SEGMENT_UNITS[plan.encoding]
            sizes = [units(segment, plan.encoding) for segment in plan.segments]
            assert all(0 < size <= limit for size in sizes)
            # Greedy packing: each segment is full up to the next character.
            for segment, following in zip(plan.segments, plan.segments[1:], strict=False):
                assert units(segment + following[0], plan.encoding) > limit


@pytest.mark.parametrize(
    ("text", "allowed"),
    [
        ("a" * 1530, True),
        ("a" * 1531, False),
        ("€" * 760, True),
        ("€" * 766, False),
        ("ł" * 670, True),
        ("ł" * 671, False),
        (EMOJI * 330, True),
        (EMOJI * 336, False),
    ],
)
def test_at_most_ten_segments_are_allowed(text: str, allowed: bool) -> None:
    if allowed:
        assert check_sms_length(text).segment_count <= MAX_SEGMENTS
        return
    with pytest.raises(RuleViolation) as caught:
        check_sms_length(text)
    problem = caught.value.problems[0]
    assert (problem.scope, problem.reason) == ("text", "textTooLong")
    assert "at most 10 SMS segments (1530 GSM-7 characters / 670 UCS-2" in problem.message
    assert f"needs {plan_sms(text).segment_count} segments" in problem.message
