"""The one place that wires collaborators together from settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from microcred.clock import Clock, SystemClock
from microcred.errors import MicrocredError
from microcred.net.fetcher import GuardedFetcher
from microcred.services.credentials import CredentialService
from microcred.standards import safejson
from microcred.standards.dids import DocumentSource, Resolver, StaticDocuments
from microcred.standards.loader import DocumentLoader
from microcred.standards.verify import Verifier


@dataclass(frozen=True, slots=True)
class Options:
    resources: Mapping[str, bytes]
    allow_fetch: bool = False


def build_credential_service(options: Options, clock: Clock | None = None) -> CredentialService:
    """Supplied resources serve both as JSON-LD documents (contexts) and as
    resolvable documents (DID documents, status lists); fetching is off unless
    explicitly allowed."""
    loader = DocumentLoader(options.resources)
    supplied = StaticDocuments()
    for url, data in options.resources.items():
        try:
            supplied.add(url, safejson.parse(data))
        except MicrocredError:
            continue  # not JSON (a context is also JSON; images and JWTs are not resolvable documents)
    sources: list[DocumentSource] = [supplied]
    if options.allow_fetch:
        sources.append(GuardedFetcher())
    verifier = Verifier(loader, Resolver(sources), clock or SystemClock())
    return CredentialService(verifier)
