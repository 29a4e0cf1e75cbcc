"""What KannelSmsTransport asks of smsbox's sendsms, checked against a mock HTTP transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from urllib.parse import parse_qs, unquote_to_bytes, urlsplit

import httpx
import pytest

from parley.adapters.channels.kannel import SmsGatewayError
from parley.adapters.channels.kannel.config import KannelConfig
from parley.adapters.channels.kannel.transport import KannelSmsTransport
from parley.domain.errors import RuleViolation

CONFIG = KannelConfig("http://127.0.0.1:8080/sms/kannel", "k", password="pw", admin_password="a")
EMOJI = "\N{GRINNING FACE}"

Handler = Callable[[httpx.Request], httpx.Response]


class Gateway:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answer: Handler = lambda _: httpx.Response(202, text="0: Accepted for delivery")

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    def params(self, index: int = 0) -> dict[str, str]:
        query = parse_qs(self.requests[index].url.query.decode(), keep_blank_values=True)
        return {name: values[0] for name, values in query.items()}

    def udh(self, index: int) -> bytes:
        raw = self.requests[index].url.query.decode()
        [value] = [pair.split("=", 1)[1] for pair in raw.split("&") if pair.startswith("udh=")]
        return unquote_to_bytes(value)


@pytest.fixture
def gateway() -> Gateway:
    return Gateway()


@pytest.fixture
async def sms(gateway: Gateway) -> AsyncIterator[KannelSmsTransport]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(gateway)) as client:
        yield KannelSmsTransport(CONFIG, client=client)


async def test_a_short_gsm_text_is_one_request_with_coding_0(sms: KannelSmsTransport, gateway: Gateway) -> None:
    await sms.send("+4930901820", "+4915112345678", "Total 5€ [x]", message_id="msg_1")
    [request] = gateway.requests
    assert urlsplit(str(request.url))[:3] == ("http", "127.0.0.1:13013", "/cgi-bin/sendsms")
    assert gateway.params() == {
        "username": "parley",
        "password": "pw",
        "from": "+4930901820",
        "to": "+4915112345678",
        "charset": "UTF-8",
        "coding": "0",
        "dlr-mask": "31",
        "text": "Total 5€ [x]",
        "dlr-url": CONFIG.dlr_url("msg_1"),
    }


async def test_an_emoji_makes_it_ucs2(sms: KannelSmsTransport, gateway: Gateway) -> None:
    await sms.send("+4930901820", "+4915112345678", f"Hi {EMOJI}", message_id="msg_1", dlr_url="http://h/d?x=1")
    assert (gateway.params()["coding"], gateway.params()["text"]) == ("2", f"Hi {EMOJI}")
    assert gateway.params()["dlr-url"] == "http://h/d?x=1"


async def test_a_long_text_goes_segment_by_segment_with_our_own_udh(sms: KannelSmsTransport, gateway: Gateway) -> None:
    text = "ł" * 66 + EMOJI + "ł" * 70
    await sms.send("+4930901820", "+4915112345678", text, message_id="msg_long")
    assert [gateway.params(i)["text"] for i in range(3)] == ["ł" * 66, EMOJI + "ł" * 65, "ł" * 5]
    udhs = [gateway.udh(i) for i in range(3)]
    assert [udh[:3] for udh in udhs] == [b"\x05\x00\x03"] * 3
    assert len({udh[3] for udh in udhs}) == 1
    assert [udh[4:] for udh in udhs] == [b"\x03\x01", b"\x03\x02", b"\x03\x03"]
    assert [gateway.params(i)["dlr-url"] for i in range(3)] == [
        f"{CONFIG.dlr_url('msg_long')}&part={n}&parts=3" for n in (1, 2, 3)
    ]


async def test_a_text_over_ten_segments_is_refused_before_any_request(
    sms: KannelSmsTransport, gateway: Gateway
) -> None:
    with pytest.raises(RuleViolation):
        await sms.send("+4930901820", "+4915112345678", "a" * 1531, message_id="msg_1")
    assert gateway.requests == []


async def test_a_refusal_carries_the_gateway_answer(sms: KannelSmsTransport, gateway: Gateway) -> None:
    gateway.answer = lambda _: httpx.Response(403, text="Authorization failed for sendsms\n")
    with pytest.raises(SmsGatewayError) as caught:
        await sms.send("+4930901820", "+4915112345678", "hi", message_id="msg_1")
    assert (caught.value.status, caught.value.answer, caught.value.temporary) == (
        403,
        "Authorization failed for sendsms",
        False,
    )


async def test_an_unreachable_gateway_is_a_temporary_error(sms: KannelSmsTransport, gateway: Gateway) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    gateway.answer = refuse
    with pytest.raises(SmsGatewayError, match="unreachable: connection refused") as caught:
        await sms.send("+4930901820", "+4915112345678", "hi", message_id="msg_1")
    assert (caught.value.status, caught.value.temporary) == (None, True)


async def test_a_refused_segment_stops_the_rest(sms: KannelSmsTransport, gateway: Gateway) -> None:
    gateway.answer = lambda r: httpx.Response(503 if len(gateway.requests) == 2 else 202, text="Sending failed")
    with pytest.raises(SmsGatewayError) as caught:
        await sms.send("+4930901820", "+4915112345678", "a" * 400, message_id="msg_1")
    assert (len(gateway.requests), caught.value.status, caught.value.temporary) == (2, 503, True)
