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
