"""Untrusted input of any shape yields a report, never an exception."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred.standards.keys import Ed25519KeyPair
from microcred.standards.verify import Verifier
from tests.helpers import sign

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
    | st.sampled_from(["did:key:z6Mk", "https://x", "_:b0", "@id", "@type", "@context", "z", "u"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(["id", "type", "@id", "@type", "@value", "@list", "@graph", "@context", "proof", "name", "x"]) | st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)  # fmt: skip


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=st.data(), replacement=ANY_JSON)
def test_any_value_anywhere_gives_a_report(
    verifier: Verifier,
    unsigned_credential: dict[str, Any],
    issuer_key: Ed25519KeyPair,
    data: st.DataObject,
    replacement: Any,
) -> None:
    signed = sign(verifier, unsigned_credential, issuer_key)
    paths = _paths(signed)[1:]
    path = data.draw(st.sampled_from(paths))
    mutated = copy.deepcopy(signed)
    holder = mutated
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = replacement
    report = verifier.verify(mutated)
    assert report.checks and report.checks[0].code == "parse"
    assert "internal" not in {c.code for c in report.checks}, report.to_json()
    json.dumps(report.to_json())
    if report.verified:  # only a change that leaves the signed graph as it was may still verify
        assert _signed_graph(verifier, mutated) == _signed_graph(verifier, signed), path


def _signed_graph(verifier: Verifier, credential: dict[str, Any]) -> tuple[str, str]:
    proof = credential["proof"][0] if isinstance(credential["proof"], list) else credential["proof"]
    config = {k: v for k, v in proof.items() if k != "proofValue"} | {"@context": credential["@context"]}
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    return verifier.jsonld.canonize(unsecured), verifier.jsonld.canonize(config)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=ANY_JSON)
def test_arbitrary_json_documents_give_a_report(verifier: Verifier, document: Any) -> None:
    report = verifier.verify(json.dumps(document).encode())
    assert not report.verified
    assert report.checks
    assert "internal" not in {c.code for c in report.checks}, report.to_json()
