"""Posting webhook deliveries, under the guarded fetcher's rules.

https only; every address the host resolves to must be public (or inside a network the operator
allowed by name, for receivers on their own network); the connection goes to the address checked.
Redirects are followed only when they keep the method and body (307, 308), at most 2, each checked
again; any other answer is what the receiver said. Nothing here raises: an attempt always comes back
as an Answer to record.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from microcred.errors import FetchError
from microcred.net.client import GuardedClient, check_url
from microcred.net.fetcher import Network

TIMEOUT = 10.0
KEPT_BYTES = 2048  # of a receiver's answer, for the delivery log


@dataclass(frozen=True, slots=True)
class Answer:
    status: int | None  # None: no HTTP answer (refused, unreachable, timed out)
    body: str  # the first KEPT_BYTES of it, as text
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def check_target(url: str, allowed: tuple[Network, ...] = ()) -> str:
    """The URL's host and port are a place deliveries may go to now (FetchError if not)."""
    if urlsplit(url).fragment:
        raise FetchError("a webhook URL cannot have a #fragment")
    return check_url(url, allowed, "webhooks are")


class GuardedPoster:
    def __init__(
        self, *, allowed: tuple[Network, ...] = (), context: ssl.SSLContext | None = None, timeout: float = TIMEOUT
    ) -> None:
        self.client = GuardedClient(
            allowed=allowed, context=context, timeout=timeout, check=check_target, agent="microcred-webhooks"
        )

    @property
    def allowed(self) -> tuple[Network, ...]:
        return self.client.allowed

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        start = time.monotonic()
        try:
            answer = self.client.request("POST", url, body, headers, max_bytes=KEPT_BYTES, cut=True)
        except FetchError as exc:
            return Answer(None, "", exc.message, time.monotonic() - start)
        return Answer(answer.status, answer.body.decode("utf-8", "replace"), None, time.monotonic() - start)
