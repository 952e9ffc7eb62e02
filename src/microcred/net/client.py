"""A guarded HTTPS client for talking to other servers (OB 3.0 hosts), under the fetcher's rules.

https only; every address the host resolves to must be public, or inside a network the operator
allowed by name; the connection goes to the address checked (no second lookup to rebind). A GET
follows at most 2 redirects, anything else only 307 and 308 (they keep the method and body); each
hop is checked again. Answers are capped in size; a larger one is refused, or cut when asked.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from microcred.errors import FetchError
from microcred.net.fetcher import MAX_REDIRECTS, Network, PinnedHTTPSConnection, public_address

TIMEOUT = 10.0
MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes
    url: str  # where it came from, after redirects


def check_url(url: str, allowed: tuple[Network, ...] = (), what: str = "requests are") -> str:
    """The address to connect to for this URL (FetchError when it may not be reached); `what` names the
    traffic in the messages ("webhooks are")."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise FetchError(f"{what} sent to https URLs only, not {url[:200]!r}")
    if parts.username or parts.password:
        raise FetchError("a URL to send to cannot carry a user name or password")
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise FetchError(f"{url[:200]!r} has an invalid port") from exc
    return public_address(parts.hostname, port, allowed)


class GuardedClient:
    def __init__(
        self,
        *,
        allowed: tuple[Network, ...] = (),
        context: ssl.SSLContext | None = None,
        timeout: float = TIMEOUT,
        check: Callable[[str, tuple[Network, ...]], str] = check_url,
        agent: str = "microcred",
    ) -> None:
        self.allowed = allowed
        self.context = context or ssl.create_default_context()
        self.timeout = timeout
        self.check = check
        self.agent = agent

    def request(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        max_bytes: int = MAX_BYTES,
        cut: bool = False,
    ) -> HttpAnswer:
        """The final answer (FetchError when the server cannot be reached, or answers too much)."""
        follow = (301, 302, 303, 307, 308) if method == "GET" else (307, 308)
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._once(method, url, body, headers or {}, max_bytes, cut)
            location = answer.headers.get("location")
            if answer.status in follow and location:
                url = urljoin(url, location)
                continue
            return answer
        raise FetchError(f"more than {MAX_REDIRECTS} redirects from {urlsplit(url).hostname}")

    def _once(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str], max_bytes: int, cut: bool
    ) -> HttpAnswer:
        address = self.check(url, self.allowed)  # at every hop: a redirect is a new target
        parts = urlsplit(url)
        assert parts.hostname is not None
        connection = PinnedHTTPSConnection(parts.hostname, address, parts.port or 443, self.context, self.timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(method, path, body=body, headers={**headers, "user-agent": self.agent})
            response = connection.getresponse()
            content = response.read(max_bytes + 1)
            found = {name.lower(): value for name, value in response.getheaders()}
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"reaching {parts.hostname} failed: {exc}") from exc
        finally:
            connection.close()
        if len(content) > max_bytes:
            if not cut:
                raise FetchError(f"{parts.hostname} answered more than {max_bytes:,} bytes")
            content = content[:max_bytes]
        return HttpAnswer(response.status, found, content, url)
