"""Channel adapters: the SMS gateways behind the ``SmsTransport`` port, picked by URL."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from parley.service.ports import SmsTransport, SmsWebhooks

KANNEL_SENDSMS_PORT = 13013


def open_sms_transport(gateway_url: str, webhook_url: str, webhook_secret: str) -> SmsTransport:
    """A transport for ``kannel://USER:PASSWORD@HOST:PORT`` (a ``sendsms-user`` of smsbox).

    ``webhook_url`` is where the gateway reaches Parley's SMS webhooks; each message's delivery
    reports are asked for below it, carrying ``webhook_secret``.
    """
    parts = urlsplit(gateway_url)
    if parts.scheme != "kannel" or not parts.hostname or not parts.username or parts.password is None:
        raise ValueError(f"unsupported SMS gateway URL {gateway_url!r}: use kannel://USER:PASSWORD@HOST:PORT")
    from parley.adapters.channels.kannel.config import KannelConfig
    from parley.adapters.channels.kannel.transport import KannelSmsTransport

    config = KannelConfig(
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        password=unquote(parts.password),
        admin_password="",
        username=unquote(parts.username),
        sendsms_host=parts.hostname,
        sendsms_port=parts.port or KANNEL_SENDSMS_PORT,
    )
    return KannelSmsTransport(config)


def open_sms_webhooks(webhook_secret: str) -> SmsWebhooks:
    """How Kannel, the one gateway that calls back, reaches Parley, checked with ``webhook_secret``."""
    from parley.adapters.channels.kannel.callbacks import KannelWebhooks

    return KannelWebhooks(webhook_secret)


__all__ = ["open_sms_transport", "open_sms_webhooks"]
