"""SMS conversations end to end: a handset on Kannel's fake SMSC, real Kannel, a real ``parley serve``.

The tests run in file order on one conversation: a handset's SMS opens it, an agent answers in
every encoding, receipts come back, the handset opts out and in, and finally the gateway is
stopped so that a message retries and then fails where the agent can see it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
import pytest_asyncio

from parley.adapters.channels.kannel.process import KannelProcess
from parley.domain.sms import SmsEncoding, plan_sms
from tests.e2e.server import Agent, Org, ServerProcess, free_port, start_server
from tests.integration.kannel.fake_smsc import FakeMt, FakeSmscClient

from .conftest import kannel_config, needs_kannel

pytestmark = [pytest.mark.kannel, needs_kannel, pytest.mark.asyncio(loop_scope="module")]

SECRET = "sms-webhook-secret-for-tests"
ORG_NUMBER = "+4930901820"
HANDSET = "+4915112345678"
EMOJI = "\N{GRINNING FACE}"


@dataclass
class Line:
    """The running pieces: Kannel, the server, the organization, its agent, the handset."""

    kannel: KannelProcess
    server: ServerProcess
    org: Org
    agent: Agent
    handset: FakeSmscClient
    interaction_id: str = ""

    async def answer(self, text: str) -> tuple[str, list[FakeMt]]:
        """The agent sends ``text``; returns its message id and the segments the handset got."""
        r = self.agent.send_text(self.interaction_id, text)
        assert r.status_code == 202, r.text
        parts = [await self.handset.read_mt() for _ in plan_sms(text).segments]
        assert {(mt.sender, mt.receiver) for mt in parts} == {(ORG_NUMBER, HANDSET)}
        return r.headers["x-message-id"], parts

    def webhook(self, path: str, **params: str) -> httpx.Response:
        query = urlencode({"secret": SECRET, **params})
        return self.org.http.get(f"/sms/kannel/{path}?{query}")


@pytest.fixture(scope="module")
def server_port() -> int:
    return free_port()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kannel(server_port: int, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KannelProcess]:
    config = dataclasses.replace(kannel_config(server_port), webhook_secret=SECRET)
    async with KannelProcess(config, tmp_path_factory.mktemp("kannel")) as process:
        yield process


@pytest.fixture(scope="module")
def server(
    kannel: KannelProcess, server_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    data: Path = tmp_path_factory.mktemp("parley")
    env = {
        "PARLEY_DATABASE_URL": f"sqlite:///{data / 'parley.db'}",
        "PARLEY_SMS_GATEWAY": f"kannel://parley:{kannel.config.password}@127.0.0.1:{kannel.config.sendsms_port}",
        "PARLEY_SMS_WEBHOOK_SECRET": SECRET,
        "PARLEY_SMS_RETRY_ATTEMPTS": "3",
        "PARLEY_SMS_RETRY_BACKOFF_SECONDS": "0.2",
    }
    server = start_server(data, env, port=server_port)
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def line(kannel: KannelProcess, server: ServerProcess) -> AsyncIterator[Line]:
    creds = server.bootstrap("acme")
    assert server.cli("admin", "number", "add", "acme", "+49 30 901820").strip() == f"{ORG_NUMBER} now belongs to acme"
    org = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
    agent = org.agent(org.create_user("Ada", "Lovelace"))
    assert agent.ready(max_concurrent=2).status_code == 202
    async with await FakeSmscClient.connect(kannel.config.fake_smsc_port) as handset:
        yield Line(kannel, server, org, agent, handset)
    org.http.close()


async def test_an_sms_from_a_handset_is_offered_to_an_agent_as_an_sms_interaction(line: Line) -> None:
    await line.handset.send_mo(HANDSET, ORG_NUMBER, "Hello, where is my parcel?")

    offer = line.agent.wait_for("engagementCenter.Offered")["payload"]
    assert (offer["channelType"], offer["contactAddress"], offer["contactName"]) == ("sms", HANDSET, HANDSET)
    line.interaction_id = offer["interactionId"]
    r = line.agent.post(
        f"/engagementCenter/interactions/{line.interaction_id}/accept", {"ehubSessionId": offer["ehubSessionId"]}
    )
    assert r.status_code == 202, r.text
    line.agent.wait_for("engagementCenter.Active", interactionId=line.interaction_id)
    transcript = line.agent.org.http.get(
        f"{line.org.base}/engagementCenter/interactions/{line.interaction_id}/transcript",
        headers=line.org.headers(line.agent.session_id),
    ).json()
    assert [(m["entityType"], m["text"]) for m in transcript["messages"]] == [("Contact", "Hello, where is my parcel?")]


@pytest.mark.parametrize(
    ("text", "encoding", "segments"),
    [
        ("Your parcel arrives tomorrow.", SmsEncoding.GSM7, 1),
        ("It costs 12€ [incl. VAT].", SmsEncoding.GSM7, 1),
        (f"Thanks for waiting {EMOJI}", SmsEncoding.UCS2, 1),
        ("Receipt: " + "€[" * 60 + " done", SmsEncoding.GSM7, 2),
        (f"{EMOJI} " * 40, SmsEncoding.UCS2, 2),
    ],
    ids=["gsm7", "gsm7-extension", "ucs2-emoji", "gsm7-extension-2-segments", "ucs2-emoji-2-segments"],
)
async def test_an_agent_answer_reaches_the_handset_in_its_encoding_and_segments(
    line: Line, text: str, encoding: SmsEncoding, segments: int
) -> None:
    _, parts = await line.answer(text)

    assert len(parts) == segments
    if segments == 1:
        [mt] = parts
        assert (mt.kind, mt.text()) == ("text" if encoding is SmsEncoding.GSM7 else "ucs-2", text)
    else:
        assert [(c.total, c.part) for c in (mt.concatenation for mt in parts) if c] == [(2, 1), (2, 2)]
        assert "".join(mt.text(encoding) for mt in parts) == text


async def test_delivery_reports_reach_the_agent_as_delivery_status(line: Line) -> None:
    message_id, _ = await line.answer("Tracking: parcel is out for delivery")

    delivered = line.agent.wait_for("messaging.DeliveryStatus", messageId=message_id, status="delivered")
    # The SMSC's "sent" may come with "delivered" and be passed over; a status never goes back.
    earlier = [
        e["payload"]["status"]
        for e in line.agent.drain()
        if e["eventType"] == "messaging.DeliveryStatus" and e["payload"]["messageId"] == message_id
    ]
    assert delivered["payload"] == {
        "interactionId": line.interaction_id,
        "messageId": message_id,
        "channelType": "sms",
        "status": "delivered",
        "segments": 1,
        "errorCode": None,
    }
    assert set(earlier) <= {"sent"}


async def test_typing_reaches_users_but_never_the_handset(line: Line) -> None:
    r = line.agent.post(
        f"/messaging/users/{line.agent.user_id}/notification",
        {"interactionId": line.interaction_id, "entityName": "Ada", "entityType": "Agent", "state": "composing"},
    )
    assert r.status_code == 202, r.text

    _, [mt] = await line.answer("Anything else?")  # the next thing the handset gets is this text

    assert mt.text() == "Anything else?"


async def test_a_later_sms_from_the_handset_joins_the_same_interaction(line: Line) -> None:
    await line.handset.send_mo(HANDSET, ORG_NUMBER, "No, thanks a lot")

    got = line.agent.wait_for("messaging.Text", entityType="Contact", text="No, thanks a lot")["payload"]
    assert (got["interactionId"], got["channelType"]) == (line.interaction_id, "sms")
    assert "engagementCenter.Offered" not in [e["eventType"] for e in line.agent.drain()]


async def test_stop_blocks_the_next_send_with_opted_out_and_start_lifts_it(line: Line) -> None:
    await line.handset.send_mo(HANDSET, ORG_NUMBER, "STOP")
    stop_reply = await line.handset.read_mt()
    refused = line.agent.send_text(line.interaction_id, "Are you sure?")
    await line.handset.send_mo(HANDSET, ORG_NUMBER, "Start")
    start_reply = await line.handset.read_mt()
    _, [mt] = await line.answer("Welcome back")

    assert "Reply START" in stop_reply.text()
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"scope": "interactionId", "reason": "optedOut", "message": refused.json()["errors"][0]["message"]}
    ]
    assert "Reply STOP" in start_reply.text()
    assert mt.text() == "Welcome back"


async def test_the_preview_reports_encoding_segments_and_what_forces_ucs2(line: Line) -> None:
    r = line.org.http.post(
        f"{line.org.base}/messaging/sms/preview", json={"text": f"Grüße ç {EMOJI} €"}, headers=line.org.headers()
    )
    unauthenticated = line.org.http.post(f"{line.org.base}/messaging/sms/preview", json={"text": "hi"})

    assert r.status_code == 200, r.text
    assert r.json() == {"encoding": "UCS-2", "segments": 1, "characters": 11, "charactersForcingUcs2": ["ç", EMOJI]}
    assert unauthenticated.status_code == 401


async def test_the_webhooks_refuse_a_wrong_secret_and_unknown_numbers_and_take_a_repeat_once(line: Line) -> None:
    mo = {"from": HANDSET, "to": ORG_NUMBER, "text": "Sent twice", "id": "kannel-repeat-1", "charset": "UTF-8"}

    wrong = line.org.http.get("/sms/kannel/mo?" + urlencode({**mo, "secret": "guess"}))
    unknown = line.webhook("mo", **{**mo, "to": "+4930901899", "id": "kannel-unknown-1"})
    first, again = line.webhook("mo", **mo), line.webhook("mo", **mo)

    assert (wrong.status_code, wrong.json()["code"], wrong.json()["errors"][0]["reason"]) == (401, 401, "invalidSecret")
    assert (unknown.status_code, unknown.json()["errors"][0]["reason"]) == (404, "unknownNumber")
    assert "+4930901899" in line.server.log()
    assert (first.status_code, again.status_code) == (200, 200)
    line.agent.wait_for("messaging.Text", text="Sent twice")
    assert [e for e in line.agent.drain(wait=1) if e["payload"].get("text") == "Sent twice"] == []


async def test_operators_list_and_remove_sender_numbers(line: Line) -> None:
    line.server.cli("admin", "number", "add", "acme", "+4930901821")

    listed = json.loads(line.server.cli("admin", "number", "list", "acme", "--json"))
    removed = line.server.cli("admin", "number", "remove", "acme", "+49 30 901821")

    assert listed == {"orgId": "acme", "numbers": [ORG_NUMBER, "+4930901821"]}
    assert removed.strip() == "removed +4930901821 from acme"
    assert line.server.cli("admin", "number", "list", "acme").split() == [ORG_NUMBER]


async def test_a_stopped_gateway_makes_a_message_retry_then_fail_visibly(line: Line) -> None:
    await line.kannel.stop()

    r = line.agent.send_text(line.interaction_id, "Are you still there?")

    assert r.status_code == 202, r.text
    failed = line.agent.wait_for("messaging.DeliveryStatus", messageId=r.headers["x-message-id"])["payload"]
    assert (failed["status"], failed["reason"], failed["errorCode"]) == ("failed", "gatewayUnavailable", None)
    assert line.server.log().count("failed (SMS gateway unreachable") == 2  # two retries, then the verdict
