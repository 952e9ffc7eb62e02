"""Property tests: the fast path equals pyld, every leaf is signed, JCS is exact."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.standards import jcs
from microcred.standards.jsonld import JsonLdProcessor
from microcred.standards.keys import Ed25519KeyPair
from microcred.standards.loader import DocumentLoader
from microcred.standards.verify import Verifier
from tests.conftest import W3C, read_json
from tests.helpers import sign
from tests.reference import pyld_canonize

# Printable text plus tab/newline: pyld escapes other control characters differently
# from RDF 1.2 canonical N-Quads (see docs/decisions.md), so they are tested apart.
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029")
    | st.sampled_from('\t\n"\\'),
    max_size=40,
)
IRI = st.builds(lambda s: f"https://example.org/{s}", st.from_regex(r"[a-z0-9]{1,12}(/[a-z0-9]{1,8})?", fullmatch=True))
URN = st.uuids().map(lambda u: f"urn:uuid:{u}")
DATETIME = st.datetimes(timezones=st.just(__import__("datetime").UTC)).map(
    lambda d: d.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
)
CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


@st.composite
def alignments(draw: Any) -> dict[str, Any]:
    return {
        "type": ["Alignment"],
        "targetName": draw(TEXT),
        "targetUrl": draw(IRI),
        "targetFramework": draw(st.sampled_from(["ESCO", "O*NET"])),
    }


@st.composite
def achievements(draw: Any) -> dict[str, Any]:
    achievement: dict[str, Any] = {
        "id": draw(st.one_of(IRI, URN)),
        "type": ["Achievement"],
        "name": draw(TEXT),
        "description": draw(TEXT),
        "criteria": draw(st.one_of(st.builds(lambda n: {"narrative": n}, TEXT), st.builds(lambda i: {"id": i}, IRI))),
    }
    if draw(st.booleans()):
        achievement["achievementType"] = draw(st.sampled_from(["MicroCredential", "Badge", "Certificate", "Course"]))
    if draw(st.booleans()):
        achievement["alignment"] = draw(st.lists(alignments(), min_size=1, max_size=4))
    if draw(st.booleans()):
        achievement["creditsAvailable"] = draw(
            st.floats(min_value=0.25, max_value=240, allow_nan=False).filter(lambda f: not f.is_integer())
        )
    if draw(st.booleans()):
        achievement["tag"] = draw(st.lists(TEXT, min_size=1, max_size=3))
    if draw(st.booleans()):
        achievement["image"] = {"id": draw(IRI), "type": "Image"}
    return achievement


@st.composite
def ob3_credentials(draw: Any) -> dict[str, Any]:
    subject: dict[str, Any] = {"type": ["AchievementSubject"], "achievement": draw(achievements())}
    if draw(st.booleans()):
        subject["id"] = draw(st.one_of(URN, st.just("did:example:learner")))
    else:
        subject["identifier"] = [
            {
                "type": "IdentityObject",
                "identityHash": draw(TEXT),
                "identityType": "emailAddress",
                "hashed": draw(st.booleans()),
                "salt": draw(TEXT),
            }
        ]
    if draw(st.booleans()):
        subject["result"] = [{"type": ["Result"], "value": draw(TEXT)}]
    credential: dict[str, Any] = {
        "@context": CONTEXT,
        "id": draw(URN),
        "type": ["VerifiableCredential", draw(st.sampled_from(["AchievementCredential", "OpenBadgeCredential"]))],
        "issuer": {"id": draw(st.one_of(IRI, st.just("did:example:issuer"))), "type": ["Profile"], "name": draw(TEXT)},
        "validFrom": draw(DATETIME),
        "credentialSubject": subject,
    }
    if draw(st.booleans()):
        credential["name"] = draw(TEXT)
    if draw(st.booleans()):
        credential["validUntil"] = draw(DATETIME)
    if draw(st.booleans()):
        credential["evidence"] = [{"type": ["Evidence"], "narrative": draw(TEXT)}]
    if draw(st.booleans()):
        credential["credentialStatus"] = {
            "id": draw(IRI) + "#1", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": str(draw(st.integers(0, 131071))), "statusListCredential": draw(IRI),
        }  # fmt: skip
    return credential


# Every JSON-LD document among the W3C vectors (the bare proof configurations have no @context).
FIXTURE_DOCS = sorted(str(path.relative_to(W3C)) for path in W3C.rglob("*.json") if "@context" in read_json(path))


@pytest.mark.parametrize("name", FIXTURE_DOCS)
def test_fast_path_equals_pyld_on_fixtures(
    test_jsonld: JsonLdProcessor, test_loader: DocumentLoader, name: str
) -> None:
    document = read_json(W3C / name)
    assert test_jsonld.canonize(document) == pyld_canonize(document, test_loader)


def test_fast_path_equals_pyld_on_ob_and_clr_fixtures(
    jsonld: JsonLdProcessor, loader: DocumentLoader, unsigned_credential: dict[str, Any]
) -> None:
    from tests.conftest import VECTORS

    for document in (
        read_json(VECTORS / "ob3-teamwork-unsigned.json"),
        read_json(VECTORS / "clr2-transcript-unsigned.json"),
        unsigned_credential,
    ):
        assert jsonld.canonize(document) == pyld_canonize(document, loader)


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credential=ob3_credentials())
def test_fast_path_equals_pyld_on_generated_ob3_credentials(
    jsonld: JsonLdProcessor, loader: DocumentLoader, credential: dict[str, Any]
) -> None:
    assert jsonld.canonize(credential) == pyld_canonize(credential, loader)


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i))]
    return [path]


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value[:-1] + ("X" if not value.endswith("X") else "Y") if value else "X"
    return "X"


def test_every_single_leaf_change_fails_verification(
    verifier: Verifier, unsigned_credential: dict[str, Any], issuer_key: Ed25519KeyPair
) -> None:
    for suite in ("eddsa-rdfc-2022", "eddsa-jcs-2022"):
        signed = sign(verifier, unsigned_credential, issuer_key, suite)
        assert verifier.verify(signed).verified
        leaves = _leaves(signed)
        assert len(leaves) > 40
        for path in leaves:
            tampered = copy.deepcopy(signed)
            holder = tampered
            for key in path[:-1]:
                holder = holder[key]
            holder[path[-1]] = _changed(holder[path[-1]])
            assert not verifier.verify(tampered).verified, f"{suite}: changing {path} went unnoticed"


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6), children, max_size=4
        )
    ),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(value=JSON_VALUES)
def test_jcs_matches_the_rfc8785_reference(value: Any) -> None:
    assert jcs.canonicalize(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (0.0, "0"), (-0.0, "0"), (1e21, "1e+21"), (1e-7, "1e-7"), (123456789012345680000.0, "123456789012345680000"),
        (4.5, "4.5"), (0.002, "0.002"), (2**53 + 0.0, "9007199254740992"), (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (9007199254740993, "9007199254740992"), (333333333.3333333, "333333333.3333333"),
    ],
)  # fmt: skip
def test_jcs_numbers_follow_ecmascript(number: float, expected: str) -> None:
    assert jcs.number_to_string(number) == expected


def test_jcs_sorts_keys_by_utf16_code_units() -> None:
    value = {"\ue000": 1, "\U0001f600": 2, "a": 3}
    assert jcs.canonicalize(value) == '{"a":3,"\U0001f600":2,"\ue000":1}'.encode()


def test_jcs_refuses_lone_surrogates_and_non_finite_numbers() -> None:
    from microcred.errors import JcsError

    with pytest.raises(JcsError):
        jcs.canonicalize({"a": "\ud800"})
    with pytest.raises(JcsError):
        jcs.canonicalize(math.inf)


def test_control_characters_use_rdf12_canonical_escapes(jsonld: JsonLdProcessor) -> None:
    pyoxigraph = pytest.importorskip("pyoxigraph")
    document = {"@context": CONTEXT[:1], "id": "urn:x", "name": "a\x01b\x08c\x0cd\x7fe\tf"}
    ours = jsonld.canonize(document)
    dataset = pyoxigraph.Dataset(pyoxigraph.parse(ours.encode(), format=pyoxigraph.RdfFormat.N_QUADS))
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    assert ours.encode() == pyoxigraph.serialize(dataset, format=pyoxigraph.RdfFormat.N_QUADS)
    assert "\\u0001" in ours and "\\b" in ours and "\\u007F" in ours
    assert json.loads('"' + ours.split('"')[1] + '"') == "a\x01b\x08c\x0cd\x7fe\tf"


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=80), zeros=st.integers(0, 4))
def test_base58btc_round_trips_and_keeps_leading_zero_bytes(data: bytes, zeros: int) -> None:
    from microcred.standards.multibase import b58decode, b58encode

    payload = b"\0" * zeros + data
    encoded = b58encode(payload)
    assert b58decode(encoded) == payload
    assert encoded.startswith("1" * zeros)
    assert not encoded.startswith("1" * (zeros + 1)) or payload[zeros : zeros + 1] == b"\0"
