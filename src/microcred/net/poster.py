"""Posting webhook deliveries, under the guarded fetcher's rules.

https only; every address the host resolves to must be public (or inside a network the operator
allowed by name, for receivers on their own network); the connection goes to the address checked.
Redirects are followed only when they keep the method and body (307, 308), at most 2, each checked
again; any other answer is what the receiver said. Nothing here raises: an attempt always comes back
as an Answer to record.
"""

from __future__ import annotations

import http.client
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from microcred.errors import FetchError
from microcred.net.fetcher import MAX_REDIRECTS, Network, PinnedHTTPSConnection, public_address

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
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise FetchError(f"webhooks are sent to https URLs only, not {url!r}")
    if parts.username or parts.password:
        raise FetchError("a webhook URL cannot carry a user name or password")
    if parts.fragment:
        raise FetchError("a webhook URL cannot have a #fragment")
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise FetchError(f"{url!r} has an invalid port") from exc
    return public_address(parts.hostname, port, allowed)


class GuardedPoster:
    def __init__(
        self, *, allowed: tuple[Network, ...] = (), context: ssl.SSLContext | None = None, timeout: float = TIMEOUT
    ) -> None:
        self.allowed = allowed
        self.context = context or ssl.create_default_context()
        self.timeout = timeout

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        start = time.monotonic()
        try:
            for _ in range(MAX_REDIRECTS + 1):
                status, location, answer = self._post(url, body, headers)
                if status in (307, 308) and location:
                    url = urljoin(url, location)
                    continue
                return Answer(status, answer, None, time.monotonic() - start)
            error = f"more than {MAX_REDIRECTS} redirects"
        except FetchError as exc:
            error = exc.message
        return Answer(None, "", error, time.monotonic() - start)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str | None, str]:
        address = check_target(url, self.allowed)  # again at every hop: a redirect is a new target
        parts = urlsplit(url)
        assert parts.hostname is not None
        connection = PinnedHTTPSConnection(parts.hostname, address, parts.port or 443, self.context, self.timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", path, body=body, headers={**headers, "user-agent": "microcred-webhooks"})
            response = connection.getresponse()
            answer = response.read(KEPT_BYTES).decode("utf-8", "replace")
            return response.status, response.getheader("Location"), answer
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"posting to {parts.hostname} failed: {exc}") from exc
        finally:
            connection.close()
