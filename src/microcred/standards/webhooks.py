"""Standard Webhooks (standardwebhooks.com): how a delivery is signed.

The receiver checks `webhook-signature` against HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`
with the endpoint's secret, and refuses timestamps far from its clock (replays). The secret is shown to
the subscriber once, as `whsec_` and base64; the id stays the same across retries and replays, so a
receiver that has handled it can skip it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix of every secret, not a secret)
SECRET_BYTES = 32


def new_secret() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def secret_text(secret: bytes) -> str:
    """The form a subscriber pastes into a Standard Webhooks library."""
    return SECRET_PREFIX + base64.b64encode(secret).decode("ascii")


def signature(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: one `v1,` signature (several are allowed while rotating)."""
    signed = message_id.encode("utf-8") + b"." + str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def headers(secret: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
        "content-type": "application/json",
    }
