"""The guarded HTTPS fetcher: the only code in microcred that reaches the network.

https only; the host is resolved once and every address must be public; the
connection goes to that address (no second lookup an attacker could rebind);
at most 2 redirects, each checked again; small size and time caps. JSON-LD
contexts are never fetched: they come only from the pinned loader.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from typing import Any
from urllib.parse import urljoin, urlsplit

from microcred.errors import FetchError, MicrocredError
from microcred.standards import safejson

MAX_BYTES = 1_048_576
TIMEOUT = 5.0
MAX_REDIRECTS = 2


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def allowed_networks(text: str | None, setting: str) -> tuple[Network, ...]:
    """Networks an operator allows by name in `setting`: comma-separated CIDRs (e.g. 10.20.0.0/16)."""
    from microcred.errors import UsageError

    found = []
    for part in (text or "").split(","):
        if part.strip():
            try:
                found.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError as exc:
                raise UsageError(f"{setting}: {part.strip()!r} is not a network") from exc
    return tuple(found)


def public_address(host: str, port: int, allowed: tuple[Network, ...] = ()) -> str:
    """The address to connect to; every address the host resolves to must be public, or inside a
    network the operator allowed by name."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host!r}: {exc}") from exc
    addresses = {str(info[4][0]) for info in infos}
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if any(ip.version == net.version and ip in net for net in allowed):
            continue
        if not ip.is_global or ip.is_multicast:
            raise FetchError(f"{host!r} resolves to the non-public address {address}; refused")
    return sorted(addresses)[0]


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, port: int, context: ssl.SSLContext, timeout: float = TIMEOUT) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class GuardedFetcher:
    """A DocumentSource that fetches JSON over https from public addresses only."""

    def __init__(
        self,
        *,
        max_bytes: int = MAX_BYTES,
        allow_private: bool = False,
        allowed: tuple[Network, ...] = (),
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.allowed = allowed  # networks the operator allows by name (MICROCRED_FETCH_ALLOW_NETWORKS)
        self._context = context or ssl.create_default_context()

    def find(self, url: str) -> Any | None:
        """A DocumentSource: JSON documents over https; other schemes are not this source's."""
        if not url.startswith("https://"):
            return None
        body = self.fetch(url)
        try:
            return safejson.parse(body)
        except MicrocredError as exc:
            raise FetchError(f"{url} did not answer with a JSON document: {exc.message}") from exc

    def fetch(self, url: str) -> bytes:
        for _ in range(MAX_REDIRECTS + 1):
            status, location, body = self._get(url)
            if status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            if status != 200:
                raise FetchError(f"{url} answered HTTP {status}")
            return body
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")

    def _get(self, url: str) -> tuple[int, str | None, bytes]:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise FetchError(f"only https URLs are fetched, not {url!r}")
        port = parts.port or 443
        address = parts.hostname if self.allow_private else public_address(parts.hostname, port, self.allowed)
        connection = PinnedHTTPSConnection(parts.hostname, address, port, self._context)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(
                "GET", path, headers={"Accept": "application/json, application/ld+json", "User-Agent": "microcred"}
            )
            response = connection.getresponse()
            body = response.read(self.max_bytes + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"fetching {url} failed: {exc}") from exc
        finally:
            connection.close()
        if len(body) > self.max_bytes:
            raise FetchError(f"{url} is larger than {self.max_bytes:,} bytes")
        return response.status, response.getheader("Location"), body
