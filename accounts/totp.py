"""Time-based one-time passwords (RFC 6238, built on the HOTP of RFC 4226) with the standard library only.

The parameters are the ones every authenticator app assumes: HMAC-SHA1, 30-second steps, 6 digits.
"""

import base64
import hashlib
import hmac
import secrets
import struct
from datetime import datetime
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
# Codes of the step before and after the current one are accepted too: a phone's clock may be a little off,
# and a code typed in the last seconds of its step arrives in the next one.
WINDOW = 1


def new_secret() -> str:
    """A random 160-bit key (the length RFC 4226 recommends) in base32, as authenticator apps take it."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def hotp(secret: str, counter: int) -> str:
    """RFC 4226: the ``DIGITS``-digit code of ``counter`` under the base32 ``secret``."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def time_step(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, moment: datetime) -> str:
    return hotp(secret, time_step(moment))


def matching_step(secret: str, code: str, moment: datetime) -> int | None:
    """The time step within ``WINDOW`` of ``moment`` whose code is ``code``, else None."""
    code = code.replace(" ", "").strip()
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    now = time_step(moment)
    for step in range(now - WINDOW, now + WINDOW + 1):
        if hmac.compare_digest(hotp(secret, step), code):
            return step
    return None


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI that authenticator apps read from a QR code or accept pasted."""
    label = quote(f"{issuer}:{account}", safe=":")
    params = {"secret": secret, "issuer": issuer, "algorithm": "SHA1", "digits": DIGITS, "period": STEP_SECONDS}
    return f"otpauth://totp/{label}?{urlencode(params, quote_via=quote)}"
