"""Signing an award after the data-model check, then verifying it once more before anything is stored."""

from __future__ import annotations

import json
from typing import Any

from microcred.clock import Clock, FixedClock
from microcred.errors import SigningError
from microcred.standards.dates import parse_datetime
from microcred.standards.di import CRYPTOSUITES, DataIntegrity, ProofOptions
from microcred.standards.dids import Resolver, StaticDocuments, authorizes
from microcred.standards.keys import Ed25519KeyPair
from microcred.standards.model import credential_violations, errors, summary


def sign_and_check(
    integrity: DataIntegrity,
    clock: Clock,
    pair: Ed25519KeyPair,
    vm: str,
    did_doc: dict[str, Any],
    suite: str,
    credential: dict[str, Any],
) -> dict[str, Any]:
    """Sign, then verify the result once more before anything is stored.

    The check is independent of the signing key in memory: the proof is verified
    with the key the issuer's DID document publishes, the key's controller must be
    the issuer and may assert for it, and the stored JSON must read back as signed.
    The document's canonical hash is reused from signing (the same deterministic
    safe-mode expansion; a data loss would have stopped signing already).
    """
    failed = errors(credential_violations(credential))  # what a verifier here would fail, refused first
    if failed:
        raise SigningError(f"the credential breaks the data model, nothing was signed: {summary(failed)}")
    signed, hashed, _signature = integrity.sign_reporting(credential, pair, ProofOptions(vm, suite, clock.now()))
    resolver = Resolver([StaticDocuments({did_doc["id"]: did_doc})])
    outcomes = integrity.verify(signed, resolver, rdf_document_hash=hashed[32:] if CRYPTOSUITES[suite].rdf else None)
    issuer = signed["issuer"]["id"] if isinstance(signed.get("issuer"), dict) else signed.get("issuer")
    mine = outcomes[-1] if outcomes else None
    problem = ""
    if mine is None or not mine.ok:
        problem = mine.message if mine else "no proof"
    elif (
        mine.method is None
        or mine.method.controller != issuer
        or not authorizes(mine.controller_document, vm, "assertionMethod")
    ):
        problem = "the signing key is not an assertion method of the issuer's DID document"
    elif json.loads(json.dumps(signed, ensure_ascii=False)) != signed:
        problem = "the credential does not survive serialization"
    if problem:
        raise SigningError(f"the signed credential does not verify, nothing was stored: {problem}")
    return signed


# -- signing workers -------------------------------------------------------
_worker_state: dict[str, Any] = {}


def sign_chunk(
    key_seed: bytes, vm: str, did_doc: dict[str, Any], suite: str, created: str, credentials: list[dict[str, Any]]
) -> list[str]:
    """Runs in a worker process: sign and self-verify a chunk with one issuer key.

    Returns the signed credentials as the exact JSON text to store. It lives here, beside the engine and
    away from the database layer, so a spawned worker imports the engine alone and starts in a blink."""
    from microcred.standards.di import DataIntegrity
    from microcred.standards.jsonld import JsonLdProcessor
    from microcred.standards.keys import Ed25519KeyPair
    from microcred.standards.loader import DocumentLoader

    if "jsonld" not in _worker_state:
        jsonld = JsonLdProcessor(DocumentLoader())
        _worker_state.update(jsonld=jsonld, integrity=DataIntegrity(jsonld))
    pair = Ed25519KeyPair.from_seed(key_seed)
    clock = FixedClock(parse_datetime(created))
    integrity = _worker_state["integrity"]
    return [
        json.dumps(sign_and_check(integrity, clock, pair, vm, did_doc, suite, c), ensure_ascii=False)
        for c in credentials
    ]
