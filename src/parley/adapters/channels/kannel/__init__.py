"""SMS through the Kannel gateway: smsbox ``sendsms`` out, ``get-url`` and ``dlr-url`` in.

Modules: ``config`` (the kannel.conf Parley writes and its webhook URLs), ``process`` (runs
bearerbox and smsbox), ``transport`` (sends SMS), ``callbacks`` (reads the webhooks),
``fake_smsc`` (a handset-side client of Kannel's fake SMSC, for tests).

The port below lives here until the service layer takes it over; an SMPP adapter would
implement the same port.
"""

from __future__ import annotations

from typing import Protocol


class SmsGatewayError(Exception):
    """The gateway refused a message or could not be reached; ``answer`` is what it said.

    ``status`` is the gateway's HTTP status, or None when there was no answer at all.
    """

    def __init__(self, answer: str, *, status: int | None = None) -> None:
        super().__init__(f"SMS gateway {'unreachable' if status is None else f'answered {status}'}: {answer}")
        self.answer = answer
        self.status = status

    @property
    def temporary(self) -> bool:
        """Worth retrying: the gateway was down, overloaded or failed, rather than refusing."""
        return self.status is None or self.status >= 500


class SmsTransport(Protocol):
    async def send(self, sender: str, receiver: str, text: str, *, message_id: str) -> None:
        """Hand ``text`` to the gateway for ``receiver`` (both numbers in E.164).

        Delivery reports come back later tagged with ``message_id``; a text sent in several
        segments may yield one report per segment. Raises ``SmsGatewayError``.
        """
        ...
