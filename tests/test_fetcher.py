"""The guarded fetcher refuses what it must before any connection is made."""

from __future__ import annotations

import pytest

from microcred.errors import FetchError
from microcred.net.fetcher import GuardedFetcher


@pytest.mark.parametrize(
    "url", ["http://issuer.example/did.json", "file:///etc/passwd", "ftp://x/y", "https:///nohost"]
)
def test_only_https_urls_are_fetched(url: str) -> None:
    with pytest.raises(FetchError, match="only https"):
        GuardedFetcher().fetch(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/did.json",
        "https://localhost/x",
        "https://[::1]/x",
        "https://10.0.0.8/x",
        "https://169.254.169.254/latest/meta-data",
    ],
)
def test_private_and_loopback_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchError, match="non-public"):
        GuardedFetcher().fetch(url)


def test_verify_cli_refuses_urls_when_offline() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "microcred.cli.app", "verify", "https://issuer.example/c.json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "fetching is off" in result.stderr


class _CannedFetcher(GuardedFetcher):
    """The real redirect and scheme logic over canned responses instead of sockets."""

    def __init__(self, responses: dict[str, tuple[int, str | None, bytes]]) -> None:
        super().__init__()
        self.responses = responses
        self.asked: list[str] = []

    def _get(self, url: str) -> tuple[int, str | None, bytes]:
        self.asked.append(url)
        if not url.startswith("https://"):
            raise FetchError(f"only https URLs are fetched, not {url!r}")
        return self.responses[url]


def test_did_web_resolution_asks_the_fetcher_for_the_https_document() -> None:
    from microcred.standards.dids import Resolver

    document = b'{"id": "did:web:issuer.example", "verificationMethod": []}'
    fetcher = _CannedFetcher({"https://issuer.example/.well-known/did.json": (200, None, document)})
    assert Resolver([fetcher]).document("did:web:issuer.example")["id"] == "did:web:issuer.example"
    assert fetcher.asked == ["https://issuer.example/.well-known/did.json"]


def test_redirects_are_followed_at_most_twice_and_never_to_http() -> None:
    hop = {
        "https://a.example/x": (302, "https://b.example/x", b""),
        "https://b.example/x": (301, "/y", b""),
        "https://b.example/y": (302, "https://c.example/z", b""),
        "https://c.example/z": (200, None, b"{}"),
    }
    with pytest.raises(FetchError, match="redirects"):
        _CannedFetcher(hop).fetch("https://a.example/x")
    assert _CannedFetcher(hop).fetch("https://b.example/y") == b"{}"
    with pytest.raises(FetchError, match="only https"):
        _CannedFetcher({"https://a.example/x": (302, "http://a.example/x", b"")}).fetch("https://a.example/x")


def test_a_non_json_answer_is_a_fetch_error() -> None:
    fetcher = _CannedFetcher({"https://a.example/x": (200, None, b"<html>")})
    with pytest.raises(FetchError, match="JSON"):
        fetcher.find("https://a.example/x")
