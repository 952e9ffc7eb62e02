"""Inline @context objects: accepted when they only add terms, read exactly as pyld reads them, and
refused whenever they could change the meaning of something an earlier context defines."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.clock import FixedClock
from microcred.standards.dids import Resolver, did_key_for
from microcred.standards.jsonld import JsonLdProcessor
from microcred.standards.keys import Ed25519KeyPair
from microcred.standards.loader import DocumentLoader
from microcred.standards.verify import Verifier
from tests.conftest import NOW
from tests.helpers import codes, sign
from tests.reference import pyld_canonize
from tests.test_conformance_vectors import SUITE

V2 = "https://www.w3.org/ns/credentials/v2"
OB3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def _credential(issuer: str, *contexts: Any, **claims: Any) -> dict[str, Any]:
    return {
        "@context": [V2, *contexts],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:ada", **claims},
    }


@pytest.fixture
def issuer(issuer_key: Ed25519KeyPair) -> str:
    return did_key_for(issuer_key.public_bytes)


def _inline_vectors() -> list[str]:
    names = []
    for path in sorted(SUITE.rglob("*-ok.json")):
        contexts = json.loads(path.read_text()).get("@context")
        if isinstance(contexts, list) and any(isinstance(c, dict) for c in contexts):
            names.append(str(path.relative_to(SUITE)))
    return names


@pytest.mark.parametrize("name", _inline_vectors())
def test_suite_vectors_with_inline_contexts_canonize_as_pyld_does(
    test_jsonld: JsonLdProcessor, test_loader: DocumentLoader, name: str
) -> None:
    document = {k: v for k, v in json.loads((SUITE / name).read_text()).items() if k != "proof"}
    assert test_jsonld.canonize(document) == pyld_canonize(document, test_loader)


def test_there_are_such_vectors() -> None:
    assert len(_inline_vectors()) >= 8


TERM = st.from_regex(r"[a-z][a-zA-Z]{2,10}", fullmatch=True).filter(lambda t: t not in {"id", "type"})
# Control characters are escaped differently by pyld (docs/decisions.md): tested apart, in test_properties.
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029"), max_size=20
)
VALUE = st.one_of(TEXT, st.integers(-1000, 1000), st.booleans())


@st.composite
def additive_credentials(draw: Any) -> dict[str, Any]:
    """A credential whose subject uses terms that only an inline context defines, in the forms
    JSON-LD 1.1 allows: plain IRIs, typed values, @id values, a wrapping @context, scoped contexts."""
    names = draw(st.lists(TERM, min_size=1, max_size=5, unique=True).map(lambda ts: [f"x{t}" for t in ts]))
    terms: dict[str, Any] = {}
    claims: dict[str, Any] = {}
    for i, name in enumerate(names):
        iri = f"https://vocab.example/{name}"
        form = draw(st.sampled_from(["plain", "typed", "id", "scoped"]))
        if form == "plain":
            terms[name], claims[name] = iri, draw(VALUE)
        elif form == "typed":
            terms[name] = {"@id": iri, "@type": "http://www.w3.org/2001/XMLSchema#dateTime"}
            claims[name] = "2026-01-01T00:00:00Z"
        elif form == "id":
            terms[name], claims[name] = {"@id": iri, "@type": "@id"}, f"https://thing.example/{i}"
        else:
            inner = f"{name}Inner"
            terms[name] = {"@id": iri, "@context": {inner: f"https://vocab.example/{inner}"}}
            claims[name] = {inner: draw(VALUE)}
    context: dict[str, Any] = {"@protected": True, **terms} if draw(st.booleans()) else terms
    if draw(st.booleans()):
        context = {"@context": context}
    return {
        "@context": [V2, context],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "credentialSubject": {"id": "did:example:ada", **claims},
    }


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(credential=additive_credentials())
def test_generated_inline_contexts_are_accepted_and_canonize_as_pyld_does(
    verifier: Verifier, jsonld: JsonLdProcessor, loader: DocumentLoader, credential: dict[str, Any]
) -> None:
    assert verifier.policy.violations(credential) == []
    assert jsonld.canonize(credential) == pyld_canonize(credential, loader)
    assert verifier.issuance_violations(credential) == []


def test_an_additive_inline_context_is_signed_verified_and_said(
    verifier: Verifier, issuer_key: Ed25519KeyPair, issuer: str
) -> None:
    credential = _credential(issuer, {"shoeSize": "https://vocab.example/shoeSize"}, shoeSize=42)
    for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        report = verifier.verify(sign(verifier, credential, issuer_key, suite))
        assert report.verified, report.to_json()
        contexts = next(c for c in report.checks if c.code == "contexts")
        assert "inline context" in contexts.message


SWAPPED = {"name": "https://schema.org/description", "description": "https://schema.org/name"}
REFUSED = {
    "a protected term of the base context": [{"VerifiableCredential": "https://example.org/#Bad"}],
    "an unprotected term an earlier inline context defines": [
        {"shoeSize": "https://vocab.example/shoeSize"},
        {"shoeSize": "https://vocab.example/other"},
    ],
    "two swapped definitions": [SWAPPED],
    "a term an earlier pinned context defines only in a scoped context": [OB3, {"achievement": "https://x.example/a"}],
    "a scoped context that redefines an earlier term": [
        {"box": {"@id": "https://x.example/box", "@context": {"name": "https://x.example/n"}}}
    ],
    "@vocab null": [{"@vocab": None}],
    "@vocab": [{"@vocab": "https://attacker.example/#"}],
    "@base": [{"@base": "https://attacker.example/"}],
    "@language": [{"@language": "fr"}],
    "@import": [{"@import": "https://www.w3.org/ns/credentials/v2"}],
    "a keyword alias": [{"ident": "@id"}],
    "a null term": [{"dropped": None}],
    "a term that is not a URL": [{"ExampleTestCredential": "https ://not-a-url#ExampleTestCredential"}],
    "a context wrapped twice": [{"@context": {"@context": {"a": "https://x.example/a"}}}],
    "a remote context not on the allowlist": ["https://contexts.example/unknown/v1"],
    "a context that is not a URL": ["https ://not-a-url/contexts/example/v1"],
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_contexts_that_could_change_meaning_are_refused(verifier: Verifier, issuer: str, case: str) -> None:
    credential = _credential(issuer, *REFUSED[case])
    report = verifier.validate(credential)
    assert not report.verified
    failed = [c for c in report.checks if c.status == "failed"]
    assert {c.code for c in failed} & {"contexts", "model"}, report.to_json()
    assert any("$" in c.message for c in failed), "a refusal names the JSON path"
    assert verifier.issuance_violations(credential), "an issuer here refuses it too"


def test_the_swap_attack_keeps_the_signature_but_is_refused(
    verifier: Verifier, issuer_key: Ed25519KeyPair, issuer: str
) -> None:
    """Two swapped definitions with swapped values leave the N-Quads, and so the signature, intact."""
    terms = {"grade": "https://vocab.example/grade", "rank": "https://vocab.example/rank"}
    signed = sign(verifier, _credential(issuer, terms, grade="A", rank="last"), issuer_key)
    assert verifier.verify(signed).verified
    forged = copy.deepcopy(signed)
    forged["@context"].append({"grade": terms["rank"], "rank": terms["grade"]})
    forged["credentialSubject"]["grade"], forged["credentialSubject"]["rank"] = "last", "A"
    unsecured = {k: v for k, v in forged.items() if k != "proof"}
    original = {k: v for k, v in signed.items() if k != "proof"}
    assert JsonLdProcessor(verifier.loader).canonize(unsecured) == verifier.jsonld.canonize(original)
    report = verifier.verify(forged)
    assert not report.verified and "contexts" in codes(report)


def test_context_objects_in_subtrees_are_refused(verifier: Verifier, issuer: str) -> None:
    credential = _credential(issuer)
    credential["credentialSubject"] = {"@context": {"extra": "https://x.example/extra"}, "extra": 1}
    report = verifier.validate(credential)
    assert "contexts" in codes(report)
    assert "$.credentialSubject['@context']" in next(c.message for c in report.checks if c.code == "contexts")


def test_an_operator_can_keep_allowlisted_urls_only(
    loader: DocumentLoader, jsonld: JsonLdProcessor, issuer: str
) -> None:
    strict = Verifier(loader, Resolver([]), FixedClock(NOW), jsonld, inline_contexts=False)
    credential = _credential(issuer, {"shoeSize": "https://vocab.example/shoeSize"}, shoeSize=42)
    report = strict.validate(credential)
    assert "contexts" in codes(report)
    assert "MICROCRED_INLINE_CONTEXTS" in next(c.message for c in report.checks if c.code == "contexts")


def test_undefined_terms_are_refused_at_issue(verifier: Verifier, issuer: str) -> None:
    credential = _credential(issuer, {"shoeSize": "https://vocab.example/shoeSize"}, shoeSize=42, hatSize=7)
    assert verifier.issuance_violations(credential)
