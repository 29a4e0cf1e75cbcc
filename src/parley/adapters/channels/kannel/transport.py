"""Outbound SMS through smsbox's ``sendsms`` HTTP interface.

Parley segments long texts itself and sends each segment with its own concatenation header:
Kannel's own splitting cuts UCS-2 texts every 134 octets, which can split an emoji's surrogate
pair between two segments.
"""

from __future__ import annotations

import zlib
from urllib.parse import urlencode

import httpx

from parley.adapters.channels.kannel import SmsGatewayError
from parley.adapters.channels.kannel.config import DLR_MASK, KannelConfig
from parley.domain.sms import SmsEncoding, check_sms_length

_CODING = {SmsEncoding.GSM7: 0, SmsEncoding.UCS2: 2}


def concatenation_udh(reference: int, total: int, part: int) -> bytes:
    """The user data header of segment ``part`` (from 1) of ``total``: IE 0x00, 8-bit reference."""
    return bytes((0x05, 0x00, 0x03, reference & 0xFF, total, part))


def part_dlr_url(dlr_url: str, part: int, total: int) -> str:
    separator = "&" if "?" in dlr_url else "?"
    return f"{dlr_url}{separator}part={part}&parts={total}"


class KannelSmsTransport:
    """Implements ``SmsTransport``. Close it with ``aclose`` unless the client was passed in."""

    def __init__(
        self,
        config: KannelConfig,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._config = config
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def send(self, sender: str, receiver: str, text: str, *, message_id: str, dlr_url: str | None = None) -> None:
        """Send ``text``; ``dlr_url`` overrides the webhook URL built from the configuration.

        A multipart text is sent segment by segment, each with ``part`` and ``parts`` added to
        its delivery-report URL. If the gateway refuses a segment, the error is raised and the
        remaining segments are not sent.
        """
        plan = check_sms_length(text)
        base: dict[str, str | int | bytes] = {
            "username": self._config.username,
            "password": self._config.password,
            "from": sender,
            "to": receiver,
            "charset": "UTF-8",
            "coding": _CODING[plan.encoding],
            "dlr-mask": DLR_MASK,
        }
        report_url = dlr_url if dlr_url is not None else self._config.dlr_url(message_id)
        segments = plan.segments or [""]
        if len(segments) == 1:
            await self._submit({**base, "text": segments[0], "dlr-url": report_url})
            return
        reference = zlib.crc32(message_id.encode())
        for part, segment in enumerate(segments, start=1):
            await self._submit(
                {
                    **base,
                    "text": segment,
                    "udh": concatenation_udh(reference, len(segments), part),
                    "dlr-url": part_dlr_url(report_url, part, len(segments)),
                }
            )

    async def _submit(self, params: dict[str, str | int | bytes]) -> None:
        # urlencode rather than httpx params: the UDH is binary and must go byte for byte.
        url = f"{self._config.sendsms_url}?{urlencode(params)}"
        try:
            response = await self._client.get(url)
        except httpx.TransportError as exc:
            raise SmsGatewayError(str(exc) or type(exc).__name__) from exc
        if not response.is_success:
            raise SmsGatewayError(response.text.strip(), status=response.status_code)
