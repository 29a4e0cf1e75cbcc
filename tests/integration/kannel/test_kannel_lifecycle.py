"""Starting and stopping Kannel, and what a sender sees when the gateway is down."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from parley.adapters.channels.kannel import SmsGatewayError
from parley.adapters.channels.kannel.process import KannelProcess, KannelStartError
from parley.adapters.channels.kannel.transport import KannelSmsTransport

from .conftest import kannel_config, needs_kannel

pytestmark = [pytest.mark.kannel, needs_kannel]


async def test_a_stopped_gateway_makes_send_raise_a_temporary_error(tmp_path: Path) -> None:
    process = KannelProcess(kannel_config(webhook_port=9), tmp_path)
    await process.start()
    sms = KannelSmsTransport(process.config)
    try:
        await sms.send("+4930901820", "+4915112345678", "before", message_id="msg_up")
        await process.stop()
        with pytest.raises(SmsGatewayError) as caught:
            await sms.send("+4930901820", "+4915112345678", "after", message_id="msg_down")
    finally:
        await sms.aclose()
        await process.stop()
    assert caught.value.status is None
    assert caught.value.temporary


async def test_an_smsbox_that_cannot_open_its_port_is_reported_and_kannel_stopped(tmp_path: Path) -> None:
    config = kannel_config(webhook_port=9)
    process = KannelProcess(config, tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", config.sendsms_port))
        taken.listen()
        with pytest.raises(KannelStartError, match="smsbox exited"):
            await process.start()
    assert "Failed to open HTTP socket" in (tmp_path / "smsbox.log").read_text()
