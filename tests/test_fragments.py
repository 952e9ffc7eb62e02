"""Subtrees seen before come back as quads (rdf.Fragment): the canonical N-Quads never change.

Every document here is canonicalized with the memo (twice or more, so fragments are kept and then
spliced) and compared with pyld and with the engine's own path without the memo.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from microcred.errors import DataLossError
from microcred.services.samples import data_analytics_microcredential
from microcred.standards.jsonld import JsonLdProcessor
from microcred.standards.jsonld.expand import FRAGMENT_LIMIT, Expander
from microcred.standards.jsonld.rdf import Fragment, to_quads
from microcred.standards.jsonld.rdfc import canonicalize
from microcred.standards.loader import DocumentLoader
from tests.reference import pyld_canonize
from tests.test_properties import ob3_credentials

ISSUER = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
NOW = datetime(2026, 1, 15, 9, tzinfo=UTC)


def _cohort(size: int) -> list[dict[str, Any]]:
    return [
        data_analytics_microcredential(
            ISSUER, f"did:example:learner-{n}", NOW, f"urn:uuid:{n:08d}-0000-4000-8000-000000000000"
        )
        for n in range(size)
    ]


def _without_memo(processor: JsonLdProcessor, document: Any) -> str:
    return canonicalize(to_quads(Expander(processor.contexts).expand(document)))


@pytest.fixture
def fresh(loader: DocumentLoader) -> JsonLdProcessor:
    return JsonLdProcessor(loader)


def _splices(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The graph of every fragment spliced from now on."""
    from microcred.standards.jsonld import rdf

    graphs: list[str] = []
    splice = rdf._NodeMapper._splice

    def recording(mapper: Any, fragment: Fragment, graph: str) -> str:
        graphs.append(graph)
        return splice(mapper, fragment, graph)

    monkeypatch.setattr(rdf._NodeMapper, "_splice", recording)
    return graphs


def test_a_cohort_shares_fragments_and_keeps_its_canonical_form(
    fresh: JsonLdProcessor, loader: DocumentLoader, monkeypatch: pytest.MonkeyPatch
) -> None:
    cohort = _cohort(6)
    spliced = _splices(monkeypatch)
    first = [fresh.canonize(c) for c in cohort]
    kept = [fragment for _active, fragment in fresh.quad_expander._kept.values() if fragment is not None]
    assert kept, "the shared Achievement and issuer are kept after two sightings"
    assert len(spliced) >= 4 * len(kept), "from the third credential on, they are spliced, not expanded"
    again = [fresh.canonize(c) for c in cohort]
    assert again == first
    for document, nquads in zip(cohort, first, strict=True):
        assert nquads == _without_memo(fresh, document)
    assert first[0] == pyld_canonize(cohort[0], loader)
    assert first[5] == pyld_canonize(cohort[5], loader)
    assert len(set(first)) == 6, "each learner's credential is still its own graph"


def test_a_change_inside_a_kept_subtree_is_seen(fresh: JsonLdProcessor) -> None:
    cohort = _cohort(3)
    for credential in cohort:
        fresh.canonize(credential)
    changed = copy.deepcopy(cohort[0])
    changed["credentialSubject"]["achievement"]["name"] += "!"
    assert fresh.canonize(changed) != fresh.canonize(cohort[0])
    assert fresh.canonize(changed) == _without_memo(fresh, changed)


def test_fragments_land_in_named_graphs(
    fresh: JsonLdProcessor, loader: DocumentLoader, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A presentation's credentials are named graphs (a @graph container); blank nodes inside stay distinct."""
    spliced = _splices(monkeypatch)
    one, two = _cohort(2)
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [one, two],
    }
    for _ in range(3):
        nquads = fresh.canonize(presentation)
        assert nquads == pyld_canonize(presentation, loader)
    assert any(graph.startswith("_:") for graph in spliced), "spliced into a credential's own graph"


def test_subtrees_that_name_blank_nodes_are_never_kept(fresh: JsonLdProcessor, loader: DocumentLoader) -> None:
    credential = _cohort(1)[0]
    achievement = credential["credentialSubject"]["achievement"]
    achievement["id"] = "_:achievement"
    credential["evidence"] = [{"id": "_:achievement", "type": ["Evidence"], "narrative": "the same node"}]
    for _ in range(3):
        assert fresh.canonize(credential) == pyld_canonize(credential, loader)
    texts = [key[3] for key in fresh.quad_expander._kept]
    assert not any('"_:' in text for text in texts)


def test_a_subtree_that_loses_data_fails_every_time(fresh: JsonLdProcessor) -> None:
    credential = _cohort(1)[0]
    credential["credentialSubject"]["achievement"]["criteria"] = {"id": "relative/criteria", "narrative": "x" * 500}
    for _ in range(3):
        with pytest.raises(DataLossError):
            fresh.canonize(credential)


def test_dropped_types_are_reported_on_every_sighting(fresh: JsonLdProcessor) -> None:
    credential = _cohort(1)[0]
    credential["credentialSchema"] = [
        {"id": "https://example.org/schema.json", "type": "1EdTechJsonSchemaValidator2019", "note": "n" * 500}
    ]
    credential["@context"] = [*credential["@context"], {"note": "https://example.org/note"}]
    reports = [fresh.to_quads_reporting(credential)[1] for _ in range(3)]
    assert all(dropped == ["1EdTechJsonSchemaValidator2019"] for dropped in reports), reports


def test_the_memo_stays_bounded(fresh: JsonLdProcessor) -> None:
    base = _cohort(1)[0]
    for n in range(FRAGMENT_LIMIT + 50):
        credential = copy.deepcopy(base)
        credential["credentialSubject"]["achievement"]["name"] = f"Course {n}"
        for _ in range(3):  # seen, kept, spliced: the place stays warm, every new one is kept
            fresh.canonize(credential)
    assert len(fresh.quad_expander._kept) == FRAGMENT_LIMIT, "full, and the oldest dropped"
    assert len(fresh.quad_expander._seen) <= FRAGMENT_LIMIT


def test_a_place_whose_subtrees_never_repeat_is_looked_at_less_until_they_do(
    fresh: JsonLdProcessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from microcred.standards.jsonld import expand

    looked: list[str] = []
    memo_key = Expander._memo_key

    def recording(expander: Expander, active: Any, key: str, base: Any, value: Any) -> Any:
        looked.append(key)
        return memo_key(expander, active, key, base, value)

    monkeypatch.setattr(Expander, "_memo_key", recording)
    from microcred.standards.jsonld import rdf

    spliced: list[str] = []  # the root of every fragment spliced
    splice = rdf._NodeMapper._splice
    monkeypatch.setattr(rdf._NodeMapper, "_splice", lambda m, f, g: spliced.append(f.root) or splice(m, f, g))
    cohort = _cohort(96)  # every subject differs; the achievement inside it is the same
    canonical = [fresh.canonize(c) for c in cohort]
    cold = expand.FRAGMENT_COLD_AFTER
    assert looked.count("credentialSubject") == cold + (96 - cold) // cold
    assert looked.count("achievement") == 96, "the achievement's place stays warm: it is spliced"
    assert canonical[50] == _without_memo(fresh, cohort[50])

    spliced.clear()
    for _ in range(4 * cold):  # the same credential again and again: a probe sees it, twice, then it is kept
        again = fresh.canonize(cohort[0])
    assert again == canonical[0]
    achievement, subject = f"<{cohort[0]['credentialSubject']['achievement']['id']}>", "<did:example:learner-0>"
    issuer = f"<{ISSUER}>"
    assert sorted(spliced[: 2 * cold]) == sorted([issuer, achievement] * cold), "at first the subject is expanded"
    assert sorted(spliced[-2 * cold :]) == sorted([issuer, subject] * cold), "in the end it is spliced whole"
    assert sorted(looked[-2 * cold :]) == sorted(["issuer", "credentialSubject"] * cold), "warm again: looked up"


def test_a_deep_document_costs_no_more_than_its_budget(fresh: JsonLdProcessor, loader: DocumentLoader) -> None:
    from microcred.standards.jsonld import expand

    credential = _cohort(1)[0]
    credential["@context"] = [
        *credential["@context"],
        {"next": "https://example.org/next", "note": "https://example.org/note"},
    ]
    node: dict[str, Any] = credential
    for depth in range(40):  # nodes inside nodes: every level is serialized when it is looked up
        node["next"] = {"note": f"level {depth} " + "x" * 4000}
        node = node["next"]
    seen = fresh.canonize(credential)
    assert fresh.quad_expander._budget <= 0 < expand.FRAGMENT_TEXT_BUDGET
    assert seen == _without_memo(fresh, credential) == pyld_canonize(credential, loader)


def test_plain_expansion_never_returns_fragments(fresh: JsonLdProcessor) -> None:
    credential = _cohort(1)[0]
    for _ in range(3):
        fresh.canonize(credential)
    expanded = fresh.expand(credential)

    def walk(value: Any) -> None:
        assert not isinstance(value, Fragment)
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(expanded)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(credential=ob3_credentials())
def test_generated_credentials_canonicalize_alike_on_every_sighting(
    jsonld: JsonLdProcessor, loader: DocumentLoader, credential: dict[str, Any]
) -> None:
    expected = pyld_canonize(credential, loader)
    for _ in range(3):
        assert jsonld.canonize(credential) == expected
