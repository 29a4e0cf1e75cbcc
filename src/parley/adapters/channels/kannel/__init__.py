"""SMS through the Kannel gateway: smsbox ``sendsms`` out, ``get-url`` and ``dlr-url`` in.

Modules: ``config`` (the kannel.conf Parley writes and its webhook URLs), ``process`` (runs
bearerbox and smsbox), ``transport`` (sends SMS), ``callbacks`` (reads the webhooks),
``fake_smsc`` (a handset-side client of Kannel's fake SMSC, for tests).

The port (``SmsTransport``) and its error live in ``parley.service.ports``; they are named
here too for the adapter's users.
"""

from __future__ import annotations

from parley.service.ports import SmsGatewayError, SmsTransport

__all__ = ["SmsGatewayError", "SmsTransport"]
