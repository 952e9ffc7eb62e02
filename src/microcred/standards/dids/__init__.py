"""DIDs and controller documents: did:key, did:web, and resolution through injected sources."""

from microcred.standards.dids.documents import (
    VerificationMethod,
    authorizes,
    find_verification_method,
    parse_verification_method,
)
from microcred.standards.dids.methods import did_key_document, did_key_for, did_web_document, did_web_url
from microcred.standards.dids.resolver import DocumentSource, Resolver, StaticDocuments

__all__ = [
    "DocumentSource",
    "Resolver",
    "StaticDocuments",
    "VerificationMethod",
    "authorizes",
    "did_key_document",
    "did_key_for",
    "did_web_document",
    "did_web_url",
    "find_verification_method",
    "parse_verification_method",
]
