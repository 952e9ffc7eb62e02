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

    def with_documents(self, extra: Mapping[str, bytes]) -> DocumentLoader:
        """A new loader that also serves `extra` (URL -> bytes)."""
        clone = DocumentLoader(bundled=False)
        clone._raw = {**self._raw}
        for url, data in extra.items():
            clone._raw[url] = (data, hashlib.sha256(data).hexdigest())
        clone._parsed = {k: v for k, v in self._parsed.items() if k not in extra}
        return clone

    def knows(self, url: str) -> bool:
        return url in self._raw

    def urls(self) -> list[str]:
        return sorted(self._raw)

    def pin(self, url: str) -> str:
        """The SHA-256 the document at `url` is pinned to."""
        return self._raw[url][1] if url in self._raw else ""

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
