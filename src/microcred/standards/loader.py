"""An offline JSON-LD document loader: pinned contexts only, never the network.

Every context shipped in `contexts/` is registered under its published URL and
checked against its SHA-256 pin when first loaded. Extra documents (the W3C
example contexts for test vectors, a DID document for one command) can be
supplied explicitly; any other URL is refused with an error naming it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from microcred.errors import ContextError


@dataclass(frozen=True, slots=True)
class PinnedDocument:
    url: str
    document: Any
    sha256: str


def _bundled_index() -> list[dict[str, str]]:
    raw = resources.files("microcred.standards.contexts").joinpath("index.json").read_bytes()
    index: list[dict[str, str]] = json.loads(raw)
    return index


class DocumentLoader:
    """Serves pinned documents by URL. Immutable after construction."""

    def __init__(self, extra: Mapping[str, bytes] | None = None, *, bundled: bool = True) -> None:
        self._raw: dict[str, tuple[bytes, str]] = {}
        if bundled:
            pkg = resources.files("microcred.standards.contexts")
            for entry in _bundled_index():
                data = pkg.joinpath(entry["file"]).read_bytes()
                self._raw[entry["url"]] = (data, entry["sha256"])
        for url, data in (extra or {}).items():
            self._raw[url] = (data, hashlib.sha256(data).hexdigest())
        self._parsed: dict[str, PinnedDocument] = {}

    def knows(self, url: str) -> bool:
        return url in self._raw

    def load(self, url: str) -> PinnedDocument:
        found = self._parsed.get(url)
        if found is not None:
            return found
        if url not in self._raw:
            raise ContextError(f"document {url!r} is not on the allowlist of pinned documents")
        data, pin = self._raw[url]
        digest = hashlib.sha256(data).hexdigest()
        if digest != pin:
            raise ContextError(f"document {url!r} does not match its SHA-256 pin")
        try:
            document = json.loads(data)
        except ValueError as exc:
            raise ContextError(f"document {url!r} is not valid JSON: {exc}") from exc
        pinned = PinnedDocument(url, document, digest)
        self._parsed[url] = pinned
        return pinned
