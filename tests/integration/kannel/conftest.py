"""Real Kannel (bearerbox + smsbox) on free ports, a handset on its fake SMSC, a webhook recorder."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from parley.adapters.channels.kannel.config import KannelConfig
from parley.adapters.channels.kannel.process import BEARERBOX, KannelProcess
from parley.adapters.channels.kannel.transport import KannelSmsTransport
from tests.integration.kannel.fake_smsc import FakeSmscClient

from .webhook import WebhookRecorder

SECRET = "webhook-secret"

needs_kannel = pytest.mark.skipif(
    not Path(BEARERBOX).exists(), reason=f"Kannel is not installed ({BEARERBOX}): run scripts/install-kannel.sh"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def kannel_config(webhook_port: int) -> KannelConfig:
    return KannelConfig(
        webhook_url=f"http://127.0.0.1:{webhook_port}/sms/kannel",
        webhook_secret=SECRET,
        password="sendsms-password",
        admin_password="admin-password",
        admin_port=free_port(),
        smsbox_port=free_port(),
        sendsms_port=free_port(),
        fake_smsc_port=free_port(),
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def webhook() -> AsyncIterator[WebhookRecorder]:
    recorder = WebhookRecorder()
    await recorder.start()
    yield recorder
    await recorder.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def kannel(webhook: WebhookRecorder, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KannelProcess]:
    async with KannelProcess(kannel_config(webhook.port), tmp_path_factory.mktemp("kannel")) as process:
        yield process


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def handset(kannel: KannelProcess) -> AsyncIterator[FakeSmscClient]:
    async with await FakeSmscClient.connect(kannel.config.fake_smsc_port) as client:
        yield client


@pytest_asyncio.fixture(loop_scope="module")
async def transport(kannel: KannelProcess, handset: FakeSmscClient) -> AsyncIterator[KannelSmsTransport]:
    sms = KannelSmsTransport(kannel.config)
    yield sms
    await sms.aclose()
