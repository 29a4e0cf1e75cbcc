"""SMS through the Kannel gateway: smsbox ``sendsms`` out, ``get-url`` and ``dlr-url`` in.

Modules: ``config`` (the kannel.conf Parley writes and its webhook URLs), ``process`` (runs
bearerbox and smsbox), ``transport`` (sends SMS), ``callbacks`` (reads the webhooks: ``KannelWebhooks``).

The ports (``SmsTransport``, ``SmsWebhooks``) and the error live in ``parley.service.ports``; they are named
here too for the adapter's users.
"""

from __future__ import annotations

from parley.service.ports import SmsGatewayError, SmsTransport

__all__ = ["SmsGatewayError", "SmsTransport"]
