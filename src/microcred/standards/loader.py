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


def _folder(name: str) -> Any:
    pkg = resources.files("microcred.standards.contexts")
    return pkg.joinpath(name) if name else pkg


def _bundled_index(folder: str = "") -> list[dict[str, str]]:
    raw = _folder(folder).joinpath("index.json").read_bytes()
    index: list[dict[str, str]] = json.loads(raw)
    return index


class DocumentLoader:
    """Serves pinned documents by URL. Immutable after construction."""

    def __init__(
        self, extra: Mapping[str, bytes] | None = None, *, bundled: bool = True, examples: bool = False
    ) -> None:
        """`examples` adds the W3C example contexts that conformance fixtures use (never in production)."""
        self._raw: dict[str, tuple[bytes, str]] = {}
        for folder in [*([""] if bundled else []), *(["examples"] if examples else [])]:
            for entry in _bundled_index(folder):
                data = _folder(folder).joinpath(entry["file"]).read_bytes()
                self._raw[entry["url"]] = (data, entry["sha256"])
        for url, data in (extra or {}).items():
            self._raw[url] = (data, hashlib.sha256(data).hexdigest())
        self._parsed: dict[str, PinnedDocument] = {}

    def knows(self, url: str) -> bool:
        return url in self._raw

    def raw(self, url: str) -> bytes:
        """The pinned bytes of a document (what a relatedResource digest is computed over)."""
        self.load(url)  # checks the pin
        return self._raw[url][0]

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
