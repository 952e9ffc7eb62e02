"""Create and verify Data Integrity proofs, proof sets and proof chains."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from microcred.errors import InputError, MicrocredError, ResolutionError, SigningError
from microcred.standards import jcs
from microcred.standards.dates import format_datetime, parse_datetime
from microcred.standards.dids import Resolver, VerificationMethod
from microcred.standards.jsonld import JsonLdProcessor
from microcred.standards.keys import verify_ed25519
from microcred.standards.multibase import decode_base58btc, encode_base58btc


class Signer(Protocol):
    """Anything that signs bytes with Ed25519 (a key in memory, a KMS, an HSM)."""

    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Cryptosuite:
    name: str
    proof_type: str
    rdf: bool
    can_sign: bool = True


CRYPTOSUITES = {
    "eddsa-rdfc-2022": Cryptosuite("eddsa-rdfc-2022", "DataIntegrityProof", rdf=True),
    "eddsa-jcs-2022": Cryptosuite("eddsa-jcs-2022", "DataIntegrityProof", rdf=False),
    "Ed25519Signature2020": Cryptosuite("Ed25519Signature2020", "Ed25519Signature2020", rdf=True, can_sign=False),
}


@dataclass(frozen=True, slots=True)
class ProofOptions:
    verification_method: str
    cryptosuite: str = "eddsa-rdfc-2022"
    created: datetime | None = None
    purpose: str = "assertionMethod"
    expires: datetime | None = None
    proof_id: str | None = None
    previous_proof: str | list[str] | None = None
    challenge: str | None = None
    domain: str | None = None


class Signed(NamedTuple):
    document: dict[str, Any]  # the signed document
    hashed: bytes  # what was signed: proof hash || document hash
    signature: bytes


@dataclass(frozen=True, slots=True)
class ProofOutcome:
    """The result of checking one proof. `ok` covers the signature math only."""

    ok: bool
    message: str
    proof: dict[str, Any]
    method: VerificationMethod | None = None
    controller_document: Any = None


def suite_of(proof: dict[str, Any]) -> Cryptosuite | None:
    if proof.get("type") == "DataIntegrityProof":
        return CRYPTOSUITES.get(str(proof.get("cryptosuite")))
    if proof.get("type") == "Ed25519Signature2020":
        return CRYPTOSUITES["Ed25519Signature2020"]
    return None


class DataIntegrity:
    def __init__(self, jsonld: JsonLdProcessor) -> None:
        self.jsonld = jsonld
        self._config_hashes: dict[str, bytes] = {}

    # -- hashing -----------------------------------------------------------
    def _canonical(self, suite: Cryptosuite, document: dict[str, Any]) -> bytes:
        if suite.rdf:
            return self.jsonld.canonize(document).encode("utf-8")
        return jcs.canonicalize(document)

    def _config_hash(self, suite: Cryptosuite, config: dict[str, Any]) -> bytes:
        """Hash of the proof configuration, memoized: a batch shares one config."""
        key = suite.name + "\0" + json.dumps(config, sort_keys=True, ensure_ascii=False)
        found = self._config_hashes.get(key)
        if found is None:
            found = hashlib.sha256(self._canonical(suite, config)).digest()
            if len(self._config_hashes) > 1024:
                self._config_hashes.clear()
            self._config_hashes[key] = found
        return found

    def hash_data(self, suite: Cryptosuite, unsecured: dict[str, Any], config: dict[str, Any]) -> bytes:
        """proofHash || documentHash (VC-DI-EdDSA 3.2.x / 3.3.x)."""
        return self._config_hash(suite, config) + hashlib.sha256(self._canonical(suite, unsecured)).digest()

    # -- signing -----------------------------------------------------------
    def sign(self, document: dict[str, Any], signer: Signer, options: ProofOptions) -> dict[str, Any]:
        """A new document with a proof added (existing proofs kept: a proof set)."""
        return self.sign_reporting(document, signer, options).document

    def sign_reporting(self, document: dict[str, Any], signer: Signer, options: ProofOptions) -> Signed:
        """The signed document, with what was signed and the signature (to check without decoding)."""
        suite = CRYPTOSUITES.get(options.cryptosuite)
        if suite is None or not suite.can_sign:
            raise SigningError(f"cannot sign with cryptosuite {options.cryptosuite!r}")
        if "@context" not in document:
            raise SigningError("the document has no @context")
        existing = _as_list(document.get("proof"))
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        proof = self._proof_options(suite, options, document["@context"])
        config = {**proof, "@context": document["@context"]} if suite.rdf else proof
        signed_doc = unsecured
        if options.previous_proof is not None:
            signed_doc = {**unsecured, "proof": _previous(existing, options.previous_proof)}
        hashed = self.hash_data(suite, signed_doc, config)
        signature = signer.sign(hashed)
        proof["proofValue"] = encode_base58btc(signature)
        proofs = [*existing, proof]
        as_list = len(proofs) > 1 or _is_open_badge(document)
        return Signed({**unsecured, "proof": proofs if as_list else proof}, hashed, signature)

    @staticmethod
    def _proof_options(suite: Cryptosuite, options: ProofOptions, context: Any) -> dict[str, Any]:
        proof: dict[str, Any] = {"type": suite.proof_type}
        if options.proof_id:
            proof["id"] = options.proof_id
        proof["cryptosuite"] = suite.name
        if options.created is not None:
            proof["created"] = format_datetime(options.created)
        if options.expires is not None:
            proof["expires"] = format_datetime(options.expires)
        proof["verificationMethod"] = options.verification_method
        proof["proofPurpose"] = options.purpose
        if options.challenge is not None:
            proof["challenge"] = options.challenge
        if options.domain is not None:
            proof["domain"] = options.domain
        if options.previous_proof is not None:
            proof["previousProof"] = options.previous_proof
        if not suite.rdf:
            proof["@context"] = context
        return proof

    # -- verifying ---------------------------------------------------------
    def verify(
        self,
        document: dict[str, Any],
        resolver: Resolver,
        purpose: str = "assertionMethod",
        *,
        rdf_document_hash: bytes | None = None,
    ) -> list[ProofOutcome]:
        """Check every proof in the document's proof set (and chain).

        `rdf_document_hash` is the SHA-256 of the unsecured document's canonical
        N-Quads when the caller has already computed it (the pipeline has).
        """
        proofs = _as_list(document.get("proof"))
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        return [self._verify_one(unsecured, proof, proofs, resolver, purpose, rdf_document_hash) for proof in proofs]

    def _verify_one(
        self,
        unsecured: dict[str, Any],
        proof: Any,
        all_proofs: list[Any],
        resolver: Resolver,
        purpose: str,
        rdf_document_hash: bytes | None,
    ) -> ProofOutcome:
        if not isinstance(proof, dict):
            return ProofOutcome(False, "the proof is not an object", {})
        problem = _check_proof_shape(proof, purpose)
        if problem:
            return ProofOutcome(False, problem, proof)
        suite = suite_of(proof)
        assert suite is not None
        try:
            method, controller = resolver.verification_method(proof["verificationMethod"])
        except ResolutionError as exc:
            return ProofOutcome(False, exc.message, proof)
        if method.ed25519 is None:
            return ProofOutcome(False, "the verification method is not an Ed25519 key", proof, method, controller)
        try:
            message = self._message(suite, unsecured, proof, all_proofs, rdf_document_hash)
            signature = decode_base58btc(proof["proofValue"])
        except MicrocredError as exc:
            return ProofOutcome(False, exc.message, proof, method, controller)
        if not verify_ed25519(method.ed25519, signature, message):
            return ProofOutcome(False, "the signature does not match the document", proof, method, controller)
        return ProofOutcome(True, f"{suite.name} signature verified", proof, method, controller)

    def _message(
        self,
        suite: Cryptosuite,
        unsecured: dict[str, Any],
        proof: dict[str, Any],
        all_proofs: list[Any],
        rdf_document_hash: bytes | None,
    ) -> bytes:
        config = {k: v for k, v in proof.items() if k != "proofValue"}
        if suite.rdf:
            config["@context"] = unsecured.get("@context")
            if rdf_document_hash is not None and "previousProof" not in proof:
                return self._config_hash(suite, config) + rdf_document_hash
        else:
            _check_jcs_context(unsecured, config)
        signed = unsecured
        if "previousProof" in proof:
            signed = {**unsecured, "proof": _previous(all_proofs, proof["previousProof"])}
        return self.hash_data(suite, signed, config)


def _is_open_badge(document: dict[str, Any]) -> bool:
    """OB 3.0 credentials carry `proof` as an array: the official schema requires it."""
    types = _as_list(document.get("type"))
    return "AchievementCredential" in types or "OpenBadgeCredential" in types or "EndorsementCredential" in types


def _check_proof_shape(proof: dict[str, Any], purpose: str) -> str:
    if suite_of(proof) is None:
        return f"unsupported proof type {proof.get('type')!r} / cryptosuite {proof.get('cryptosuite')!r}"
    if not isinstance(proof.get("proofValue"), str):
        return "the proof has no proofValue"
    if not isinstance(proof.get("verificationMethod"), str):
        return "the proof has no verificationMethod"
    if proof.get("proofPurpose") != purpose:
        return f"proof purpose is {proof.get('proofPurpose')!r}, expected {purpose!r}"
    for key in ("created", "expires"):
        if key in proof:
            try:
                parse_datetime(proof[key])
            except InputError:
                return f"proof {key} {proof[key]!r} is not a valid dateTime"
    return ""


def _check_jcs_context(unsecured: dict[str, Any], config: dict[str, Any]) -> None:
    if "@context" not in config:
        return
    doc_ctx = _as_list(unsecured.get("@context"))
    proof_ctx = _as_list(config["@context"])
    if doc_ctx[: len(proof_ctx)] != proof_ctx:
        raise InputError("the proof's @context is not a prefix of the document's @context")


def _previous(proofs: list[Any], refs: str | list[str] | Any) -> list[Any]:
    wanted = refs if isinstance(refs, list) else [refs]
    by_id = {p.get("id"): p for p in proofs if isinstance(p, dict) and "id" in p}
    missing = [r for r in wanted if r not in by_id]
    if missing:
        raise InputError(f"previousProof {missing[0]!r} is not in the proof set")
    return [by_id[r] for r in wanted]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
