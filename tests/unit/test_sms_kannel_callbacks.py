"""Reading Kannel's MO and delivery-report webhook calls."""

from __future__ import annotations

import pytest

from parley.adapters.channels.kannel.callbacks import parse_dlr, parse_mo
from parley.domain.errors import InvalidRequest, Unauthenticated

MO = "secret=k&from=%2B4915112345678&to=%2B4930901820&id=8c0c-5a94&time=1795708743"


@pytest.mark.parametrize(
    ("text", "coding", "charset", "expected"),
    [
        ("Gr%C3%BC%C3%9Fe+%E2%82%AC", "0", "UTF-8", "Grüße €"),
        ("Line1%0ALine2", "1", "8-BIT", "Line1\nLine2"),
        ("%00H%00i%D8%3D%DE%00", "2", "UTF-16BE", "Hi\N{GRINNING FACE}"),
        ("%80+caf%E9", "0", "WINDOWS-1252", "€ café"),
        ("%FF%FEok", "1", "8-BIT", "\ufffd\ufffdok"),
        ("a%00b", "0", "UTF-8", "a\ufffdb"),
    ],
)
def test_an_mo_text_is_decoded_with_the_charset_kannel_names(
    text: str, coding: str, charset: str, expected: str
) -> None:
    inbound = parse_mo(f"{MO}&text={text}&coding={coding}&charset={charset}", "k")
    assert inbound.text == expected
    assert (inbound.sender, inbound.receiver) == ("+4915112345678", "+4930901820")
    assert (inbound.gateway_id, inbound.sent_at) == ("8c0c-5a94", 1795708743.0)


@pytest.mark.parametrize("query", [MO.replace("secret=k", "secret=x"), MO.replace("secret=k&", ""), "text=hi"])
def test_a_call_without_the_right_secret_is_refused(query: str) -> None:
    with pytest.raises(Unauthenticated):
        parse_mo(query, "k")


def test_an_mo_whose_gateway_id_holds_a_nul_is_refused() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_mo(MO.replace("id=8c0c-5a94", "id=8c0c%00"), "k")
    assert caught.value.problems[0].scope == "id"


def test_an_mo_without_a_sender_is_refused() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_mo(MO.replace("from=%2B4915112345678", "from="), "k")
    assert caught.value.problems[0].scope == "from"


@pytest.mark.parametrize(
    ("status", "state"), [("1", "delivered"), ("2", "failed"), ("4", None), ("8", "sent"), ("16", "failed")]
)
def test_delivery_report_statuses_map_to_delivery_states(status: str, state: str | None) -> None:
    report = parse_dlr(f"secret=k&messageId=msg_1&status={status}&answer=ACK%2F&smscId=&time=1", "k")
    assert (report.message_id, report.state, report.code, report.answer) == ("msg_1", state, int(status), "ACK/")
    assert (report.part, report.parts) == (None, None)


def test_a_segment_report_carries_its_part() -> None:
    report = parse_dlr("secret=k&messageId=msg_1&status=1&answer=&part=2&parts=3", "k")
    assert (report.part, report.parts) == (2, 3)


@pytest.mark.parametrize("status", ["", "3", "x", "1.5"])
def test_an_unknown_status_is_refused(status: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_dlr(f"secret=k&messageId=msg_1&status={status}", "k")
