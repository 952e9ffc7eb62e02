"""Resolution of DIDs, controller documents and other URLs through injected sources.

did:key is resolved locally. Everything else comes from sources in order:
documents supplied for one command, this installation's own registry, and, only
when an operator allows it, a guarded fetcher (implemented outside this pure
package and injected here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from microcred.errors import ResolutionError
from microcred.standards.dids.documents import (
    VerificationMethod,
    authorizes,
    find_verification_method,
    parse_verification_method,
)
from microcred.standards.dids.methods import did_key_document, did_web_url


class DocumentSource(Protocol):
    def find(self, url: str) -> Any | None:
        """The JSON document for `url`, or None when this source does not know it."""


class StaticDocuments:
    def __init__(self, documents: Mapping[str, Any] | None = None) -> None:
        self._documents = dict(documents or {})

    def add(self, url: str, document: Any) -> None:
        self._documents[url] = document

    def find(self, url: str) -> Any | None:
        return self._documents.get(url)


class Resolver:
    def __init__(self, sources: Iterable[DocumentSource] = ()) -> None:
        self.sources = list(sources)

    def document(self, url: str) -> Any:
        """A JSON document by URL (DID, controller document, status list, ...)."""
        base = url.split("#", 1)[0]
        if base.startswith("did:key:"):
            return did_key_document(base)
        candidates = [base]
        if base.startswith("did:web:"):
            candidates.append(did_web_url(base))
        for source in self.sources:
            for candidate in candidates:
                found = source.find(candidate)
                if found is not None:
                    return found
        raise ResolutionError(f"cannot resolve {base!r}: not supplied, not local, and fetching is off")

    def verification_method(self, vm_id: str) -> tuple[VerificationMethod, Any]:
        """The verification method and the controller document that lists it."""
        if not isinstance(vm_id, str) or not vm_id:
            raise ResolutionError("verificationMethod is missing or not a string")
        document = self.document(vm_id)
        doc_id = document.get("id", vm_id.split("#", 1)[0]) if isinstance(document, dict) else ""
        entry = find_verification_method(document, vm_id)
        if entry is None:
            raise ResolutionError(f"{vm_id!r} is not listed in its controller document")
        return parse_verification_method(entry, vm_id, doc_id), document


__all__ = ["DocumentSource", "Resolver", "StaticDocuments", "authorizes"]
