"""Phone numbers in E.164 form (``+4915112345678``), the only form Parley stores."""

from __future__ import annotations

import re

import phonenumbers

from parley.domain.errors import InvalidRequest, ParleyError

# Digits and the usual separators only: phonenumbers would otherwise read letters as a vanity
# number ("+1 800 FLOWERS") and "ext. 12" as an extension, neither of which can receive an SMS.
_DIALLABLE = re.compile(r"\+?[0-9 ().\-/]{1,40}")


def normalize_e164(raw: str, default_region: str | None = None, *, scope: str = "phoneNumber") -> str:
    """``raw`` as E.164, read in ``default_region`` (ISO 3166 code) when it has no ``+``.

    Raises ``InvalidRequest`` (reason ``invalidPhoneNumber``, on ``scope``) for anything that
    is not a valid, diallable number.
    """
    text = raw.strip()
    if not _DIALLABLE.fullmatch(text):
        raise _invalid(scope, raw, "use digits, an optional leading + and the separators ( ) . - /")
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        hint = "start it with + and the country code" if default_region is None else "check its digits"
        raise _invalid(scope, raw, hint) from None
    if not phonenumbers.is_valid_number(number):
        raise _invalid(scope, raw, "no such number exists in its country's numbering plan")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def _invalid(scope: str, raw: str, hint: str) -> ParleyError:
    return InvalidRequest.of(scope, "invalidPhoneNumber", f"{raw!r} is not a valid phone number: {hint}")
