"""The MT lines bearerbox writes to a fake SMSC client, as observed from Kannel 1.4.5."""

from __future__ import annotations

import pytest

from parley.domain.sms import SmsEncoding
from tests.integration.kannel.fake_smsc import Concatenation, parse_mt_line


def test_a_gsm7_mt_is_raw_utf8_text() -> None:
    mt = parse_mt_line("12345 +4915112345678 text Hello [x] €\n".encode())
    assert (mt.sender, mt.receiver, mt.kind, mt.udh, mt.text()) == (
        "12345",
        "+4915112345678",
        "text",
        None,
        "Hello [x] €",
    )


def test_a_ucs2_mt_is_url_encoded_utf16_with_plus_for_space() -> None:
    mt = parse_mt_line(b"1 2 ucs-2 %00E%00m%00o%00j%00i%00+%D8%3D%DE%00\n")
    assert (mt.kind, mt.text()) == ("ucs-2", "Emoji \N{GRINNING FACE}")


def test_a_segment_carries_its_udh_and_needs_the_encoding_to_be_read() -> None:
    mt = parse_mt_line(b"1 2 udh %05%00%03%AB%02%02 data %E2%82%ACbb%5B\n")
    assert (mt.kind, mt.udh) == ("udh", b"\x05\x00\x03\xab\x02\x02")
    assert mt.concatenation == Concatenation(reference=0xAB, total=2, part=2)
    assert mt.text(SmsEncoding.GSM7) == "€bb["
    with pytest.raises(ValueError, match="pass the encoding"):
        mt.text()


def test_a_16_bit_reference_after_another_element_is_found() -> None:
    mt = parse_mt_line(b"1 2 udh %0A%05%04%0B%84%23%F0%08%04%01%02%03%01 data x\n")
    assert mt.concatenation == Concatenation(reference=0x0102, total=3, part=1)


def test_an_empty_text_mt_is_read() -> None:
    assert parse_mt_line(b"1 2 text \n").payload == b""


@pytest.mark.parametrize("line", [b"\n", b"1 2 text\n", b"1 2 binary x\n", b"1 2 udh %05 x\n"])
def test_other_lines_are_refused(line: bytes) -> None:
    with pytest.raises(ValueError, match="not a fake SMSC MT line"):
        parse_mt_line(line)
