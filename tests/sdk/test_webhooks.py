"""Webhooks from the SDK: subscriptions in the client, ``parley_client.webhooks.verify``, and
``examples/webhook_receiver.py`` receiving a real delivery."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook as Signer

from parley_client import NotFound
from parley_client.webhooks import WebhookVerificationError, verify
from tests.e2e.server import free_port, open_chat
from tests.sdk.conftest import Org

RECEIVER = Path(__file__).parents[2] / "examples" / "webhook_receiver.py"


def test_the_client_manages_subscriptions_and_reads_their_deliveries(org: Org) -> None:
    with org.client() as client:
        made = client.create_webhook("https://hooks.example.com/in", ["messaging.Text"], description="CRM")
        assert made.secret is not None and made.secret.startswith("whsec_")
        assert [w.webhook_id for w in client.list_webhooks()] == [made.webhook_id]
        got = client.get_webhook(made.webhook_id)
        assert (got.url, got.event_types, got.description, got.secret) == (made.url, ["messaging.Text"], "CRM", None)
        rotated = client.rotate_webhook_secret(made.webhook_id)
        assert rotated.secret not in (None, made.secret)
        assert client.webhook_deliveries(made.webhook_id, status="failed") == []
        with pytest.raises(NotFound):
            client.retry_webhook_delivery(made.webhook_id, "dlv_unknown")
        client.delete_webhook(made.webhook_id)
        with pytest.raises(NotFound):
            client.get_webhook(made.webhook_id)


async def test_the_async_client_has_the_same_subscriptions(org: Org) -> None:
    async with org.async_client() as client:
        made = await client.create_webhook("https://hooks.example.com/in")
        assert made.event_types == ["*"]
        assert [w.webhook_id for w in await client.list_webhooks()] == [made.webhook_id]
        await client.delete_webhook(made.webhook_id)


def signed(secret: str, body: bytes, msg_id: str = "evt_1") -> dict[str, str]:
    import time
    from datetime import UTC, datetime

    now = time.time()
    signature = Signer(secret).sign(msg_id, datetime.fromtimestamp(now, UTC), body)
    return {"Webhook-Id": msg_id, "Webhook-Timestamp": str(int(now)), "Webhook-Signature": signature}


def test_verify_returns_the_envelope_of_a_genuine_delivery_only() -> None:
    secret, other = "whsec_" + "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0", "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    body = b'{"eventId": "evt_1", "payload": {"text": "hi"}}'
    headers = signed(secret, body)

    assert verify(headers, body, secret)["payload"] == {"text": "hi"}
    assert verify(headers, body, [other, secret])["eventId"] == "evt_1"  # during a rotation
    with pytest.raises(WebhookVerificationError):
        verify(headers, body.replace(b"hi", b"ho"), secret)
    with pytest.raises(WebhookVerificationError):
        verify(headers, body, other)
    with pytest.raises(WebhookVerificationError):
        verify({k: v for k, v in headers.items() if k != "Webhook-Signature"}, body, secret)


def test_the_example_receiver_takes_a_real_delivery_once(org: Org) -> None:
    port = free_port()
    with org.client() as client:
        webhook = client.create_webhook(f"http://127.0.0.1:{port}/parley", ["messaging.Text"])
    assert webhook.secret is not None
    command = [sys.executable, str(RECEIVER), "--port", str(port), "--secret", webhook.secret]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            assert "listening" in process.stdout.readline()
            ada = org.agent(org.create_user("Ada", "Receiver"))
            ada.ready()
            _, interaction = open_chat(org, ada)
            sent = ada.send_text(interaction, "to the CRM")
            assert sent.status_code == 202
            event = json.loads(process.stdout.readline())
            assert event["payload"]["messageId"] == sent.headers["x-message-id"]
            assert event["payload"]["text"] == "to the CRM"
            assert event["webhookId"] == webhook.webhook_id
        finally:
            process.terminate()
            process.wait(10)
