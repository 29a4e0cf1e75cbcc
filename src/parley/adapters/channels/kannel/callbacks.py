"""Reading Kannel's webhook calls: the query strings of ``config.mo_url`` and ``config.dlr_url``."""

from __future__ import annotations

import codecs
import hmac
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import parse_qsl

from parley.adapters.channels.kannel.config import DLR_PATH, MO_PATH, SECRET_PARAM
from parley.domain.errors import InvalidRequest, ParleyError, Unauthenticated
from parley.domain.sms_records import DeliveryReport, InboundSms, ReportState

N = TypeVar("N", int, float)

# Kannel's %d values. 4 (buffered at the SMSC) changes nothing a user needs to see.
_DLR_STATES: dict[int, ReportState | None] = {1: "delivered", 2: "failed", 4: None, 8: "sent", 16: "failed"}


__all__ = ["DeliveryReport", "InboundSms", "KannelWebhooks", "parse_dlr", "parse_mo"]


class KannelWebhooks:
    """Implements ``SmsWebhooks``: Kannel's ``get-url`` (an SMS from a handset) and ``dlr-url``."""

    inbound_path = MO_PATH
    report_path = DLR_PATH

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def inbound(self, query: str) -> InboundSms:
        return parse_mo(query, self.secret)

    def report(self, query: str) -> DeliveryReport:
        return parse_dlr(query, self.secret)


def parse_mo(query: str, secret: str) -> InboundSms:
    """The inbound SMS in a ``get-url`` call; refuses a wrong secret or missing fields."""
    params = _params(query, secret)
    charset = _text(params, "charset")
    raw = params.get("text", "").encode("latin-1")
    return InboundSms(
        gateway_id=_required(params, "id"),
        sender=_required(params, "from"),
        receiver=_required(params, "to"),
        # NUL is no character a person typed, and PostgreSQL cannot store it.
        text=raw.decode(_codec(charset), errors="replace").replace("\x00", "\ufffd"),
        sent_at=_number(params, "time", float),
    )


def parse_dlr(query: str, secret: str) -> DeliveryReport:
    params = _params(query, secret)
    code = _number(params, "status", int)
    if code not in _DLR_STATES:
        raise _bad("status", f"unknown delivery report status {code}")
    return DeliveryReport(
        message_id=_required(params, "messageId"),
        state=_DLR_STATES[code],
        code=code,
        answer=_text(params, "answer"),
        part=_number(params, "part", int),
        parts=_number(params, "parts", int),
    )


def _params(query: str, secret: str) -> dict[str, str]:
    # latin-1 keeps every byte as one character, so the message text can be decoded later with
    # the charset Kannel names for it.
    params = dict(parse_qsl(query, keep_blank_values=True, encoding="latin-1"))
    given = params.get(SECRET_PARAM, "").encode("latin-1")
    if not hmac.compare_digest(given, secret.encode()):
        raise Unauthenticated.of(SECRET_PARAM, "invalidSecret", "the gateway webhook secret is wrong")
    return params


def _codec(charset: str) -> str:
    # 8-BIT and other charsets Python does not know: most handsets send text, so try UTF-8.
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return "utf-8"


def _text(params: dict[str, str], name: str) -> str:
    return params.get(name, "").encode("latin-1").decode("utf-8", errors="replace")


def _required(params: dict[str, str], name: str) -> str:
    value = _text(params, name)
    if not value:
        raise _bad(name, f"the gateway did not send {name}")
    if "\x00" in value:
        raise _bad(name, f"{name} may not contain NUL characters")
    return value


def _number(params: dict[str, str], name: str, kind: Callable[[str], N]) -> N | None:
    value = params.get(name, "")
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        raise _bad(name, f"{name} must be a number") from None


def _bad(name: str, message: str) -> ParleyError:
    return InvalidRequest.of(name, "invalidValue", message)
