"""How a webhook is signed, and the check its receiver makes.

Every POST carries three headers:

    X-Hotline-Timestamp: 1764000000      Unix seconds when this attempt was sent
    X-Hotline-Event-Id:  12345           the event's id (also ``id`` in the body)
    X-Hotline-Signature: sha256=<hex>    HMAC-SHA256, keyed with the subscription's secret,
                                         of the timestamp, ".", and the raw body bytes

A receiver must, in this order:
1. recompute the HMAC over the raw body exactly as received and compare in constant time;
2. reject a timestamp more than 5 minutes away from its own clock: a captured request replayed later
   fails here, and the timestamp cannot be changed without breaking the signature;
3. remember the event ids it has accepted (at least the last 5 minutes' worth) and ignore a repeat: a
   replay inside the 5 minutes and our own retry after a lost response both carry the same id. The id
   to trust is the one in the signed body; the header repeats it for logging and routing.
``verify_signature`` does steps 1 and 2; step 3 needs the receiver's own memory.
"""

import hashlib
import hmac
from datetime import datetime, timedelta

SIGNATURE_HEADER = "X-Hotline-Signature"
TIMESTAMP_HEADER = "X-Hotline-Timestamp"
EVENT_ID_HEADER = "X-Hotline-Event-Id"
TOLERANCE = timedelta(minutes=5)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Hotline-Signature`` value for this timestamp and body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str, body: bytes, header: str, now: datetime) -> bool:
    """True when ``header`` signs timestamp + body with ``secret`` and the timestamp is within 5 minutes of ``now``."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now.timestamp() - sent) > TOLERANCE.total_seconds():
        return False
    return hmac.compare_digest(sign(secret, timestamp, body).encode(), (header or "").encode())
