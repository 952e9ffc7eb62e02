"""Pathway requirement trees: parsing, save-time checks, evaluation, and its properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.domain.pathway_progress import evaluate
from microcred.domain.pathways import (
    Holding,
    PartInfo,
    PathwayDefinition,
    PathwayError,
    check_satisfiable,
    compile_pathway,
)

AT = datetime(2026, 6, 1, tzinfo=UTC)
SKILL = "http://data.europa.eu/esco/skill/"
PARTS = {
    ("mc", f"mc{i}"): PartInfo(f"Module {i}", ects=float(i % 3 + 2), hours=30.0 * (i % 3 + 2),
                              skills=frozenset({f"{SKILL}s{i}", f"{SKILL}s{i % 4}"}))
    for i in range(1, 9)
}  # fmt: skip


def _definition(requirements: dict[str, Any], **extra: Any) -> PathwayDefinition:
    return PathwayDefinition(name="Certificate in Data", description="Stacks modules", requirements=requirements,
                             **extra)  # fmt: skip


def _mc(i: int, node_id: str | None = None) -> dict[str, Any]:
    return {"microcredential": f"mc{i}", **({"id": node_id} if node_id else {})}


TREE = {
    "all_of": [
        _mc(1, "core"),
        {"at_least": 2, "of": [_mc(2), _mc(3), _mc(4)], "id": "electives"},
        {"min_credits": 5, "unit": "ects", "of": [_mc(5), _mc(6), _mc(7)], "id": "credits"},
        {"skills": [f"{SKILL}s8"], "of": [_mc(8), _mc(1)], "id": "skills"},
    ]
}


def _holding(i: int, days_ago: int = 10, **changes: Any) -> Holding:
    info = PARTS[("mc", f"mc{i}")]
    values: dict[str, Any] = {
        "key": ("mc", f"mc{i}"), "credential_id": f"urn:uuid:{i}-{days_ago}", "issued_at": AT - timedelta(days=days_ago),
        "ects": info.ects, "hours": info.hours, "skills": info.skills, "name": info.name,
    }  # fmt: skip
    return Holding(**(values | changes))


def test_a_tree_is_satisfied_exactly_when_every_rule_holds() -> None:
    pathway = compile_pathway("p1", _definition(TREE))
    check_satisfiable(pathway, PARTS, {})
    partial = evaluate(pathway, [_holding(1), _holding(2), _holding(5)], AT, PARTS)
    assert not partial.satisfied and 0 < partial.percent < 100
    missing = partial.root.missing  # leaves, not groups, are what remains; child ids extend the parent's
    assert "skills.1" in missing and sum(m.startswith("electives.") for m in missing) == 1
    assert sum(m.startswith("credits.") for m in missing) == 1 and "core" not in missing
    full = evaluate(pathway, [_holding(i) for i in (1, 2, 3, 5, 6, 8)], AT, PARTS)
    assert full.satisfied and full.percent == 100
    assert {h.credential_id for h in full.parts} >= {"urn:uuid:1-10", "urn:uuid:8-10"}


def test_what_remains_is_the_smallest_set() -> None:
    pathway = compile_pathway("p1", _definition({"at_least": 2, "of": [
        {"all_of": [_mc(1), _mc(2), _mc(3)]}, _mc(4), {"all_of": [_mc(5), _mc(6)]}]}))  # fmt: skip
    progress = evaluate(pathway, [_holding(5)], AT, PARTS)
    assert sorted(progress.root.missing) == ["r.2", "r.3.2"]  # mc4 and mc6, not the three-part branch
    assert "still needed" in progress.root.explanation


def test_revoked_expired_old_and_unverified_parts_do_not_count() -> None:
    pathway = compile_pathway("p1", _definition({"all_of": [_mc(1)]}, within_years=2))
    for holding, why in (
        (_holding(1, state="revoked"), "revoked"),
        (_holding(1, state="suspended"), "suspended"),
        (_holding(1, state="unverified"), "unverified"),
        (_holding(1, valid_until=AT - timedelta(days=1)), "expired"),
        (_holding(1, days_ago=800), "years ago"),
    ):
        progress = evaluate(pathway, [holding], AT, PARTS)
        assert not progress.satisfied
        assert why in progress.root.children[0].explanation


def test_order_constraints() -> None:
    definition = _definition({"all_of": [_mc(1, "a"), _mc(2, "b")]}, order=[("a", "b")])
    pathway = compile_pathway("p1", definition)
    assert evaluate(pathway, [_holding(1, 20), _holding(2, 10)], AT, PARTS).satisfied
    wrong = evaluate(pathway, [_holding(1, 10), _holding(2, 20)], AT, PARTS)
    assert not wrong.satisfied and "must be earned before" in wrong.order_problems[0]


def test_a_part_the_pathway_does_not_need_may_come_in_any_order() -> None:
    """Found by the monotonicity property: an elective earned out of order must not undo a pathway that the
    other electives complete; the credential earned out of order is not among the parts that count."""
    pathway = compile_pathway("p1", _definition(TREE, order=[("core", "electives.1")]))
    complete = [_holding(i, 0) for i in (1, 3, 4, 5, 6, 8)]
    assert evaluate(pathway, complete, AT, PARTS).satisfied
    out_of_order = _holding(2, 0)  # the same day as the core module: not after it
    progress = evaluate(pathway, [*complete, out_of_order], AT, PARTS)
    assert progress.satisfied and progress.percent == 100.0 and not progress.order_problems
    assert out_of_order.credential_id not in {h.credential_id for h in progress.parts}
    needed = compile_pathway("p2", _definition({"all_of": [_mc(1, "a"), _mc(2, "b")]}, order=[("a", "b")]))
    still_wrong = evaluate(needed, [_holding(1, 10), _holding(2, 20), _holding(3, 5)], AT, PARTS)
    assert not still_wrong.satisfied and still_wrong.order_problems


def test_nested_pathways_and_cycles() -> None:
    inner = compile_pathway("inner", _definition({"all_of": [_mc(1), _mc(2)]}))
    outer = compile_pathway("outer", _definition({"all_of": [{"pathway": "inner"}, _mc(3)]}))
    known = {"inner": inner, "outer": outer}
    check_satisfiable(outer, PARTS, known)
    assert evaluate(outer, [_holding(1), _holding(2), _holding(3)], AT, PARTS, known).satisfied
    looping = compile_pathway("inner", _definition({"all_of": [{"pathway": "outer"}]}))
    with pytest.raises(PathwayError, match="cycle"):
        check_satisfiable(outer, PARTS, {"inner": looping, "outer": outer})


@pytest.mark.parametrize(
    ("requirements", "order", "message"),
    [
        ({"all_of": []}, [], "at least one"),
        ({"at_least": 4, "of": [_mc(1), _mc(2)]}, [], "from 1 to 2"),
        ({"min_credits": 99, "of": [_mc(1), _mc(2)]}, [], "at most"),
        ({"skills": [f"{SKILL}nobody-teaches"], "of": [_mc(1)]}, [], "no element teaches"),
        ({"all_of": [{"microcredential": "unknown"}]}, [], "no microcredential"),
        ({"all_of": [_mc(1, "x"), _mc(2, "x")]}, [], "used twice"),
        ({"all_of": [_mc(1, "a"), _mc(2, "b")]}, [("a", "b"), ("b", "a")], "contradict"),
        ({"all_of": [_mc(1, "a")]}, [("a", "zzz")], "not a microcredential"),
        ({"all_of": [{"microcredential": "mc1", "colour": "red"}]}, [], "unknown field"),
        ({"all_of": [{"pathway": "missing"}]}, [], "no pathway"),
    ],
)
def test_pathways_that_cannot_be_completed_are_refused(
    requirements: dict[str, Any], order: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(PathwayError, match=message):
        check_satisfiable(compile_pathway("p", _definition(requirements, order=order)), PARTS, {})


HOLDINGS = st.lists(
    st.builds(
        _holding,
        st.integers(1, 8),
        st.integers(0, 1500),
        state=st.sampled_from(["active", "active", "active", "revoked", "suspended"]),
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(held=HOLDINGS, extra=HOLDINGS)
def test_progress_never_decreases_as_credentials_are_added(held: list[Holding], extra: list[Holding]) -> None:
    pathway = compile_pathway("p1", _definition(TREE, within_years=3, order=[("core", "electives.1")]))
    before = evaluate(pathway, held, AT, PARTS)
    after = evaluate(pathway, held + extra, AT, PARTS)
    assert after.percent >= before.percent
    assert after.satisfied or not before.satisfied
    assert len(after.root.missing) <= len(before.root.missing) or not before.root.missing


@settings(max_examples=300, deadline=None)
@given(held=HOLDINGS, seed=st.randoms())
def test_evaluation_order_does_not_matter(held: list[Holding], seed: Any) -> None:
    pathway = compile_pathway("p1", _definition(TREE))
    shuffled = list(held)
    seed.shuffle(shuffled)
    first, second = evaluate(pathway, held, AT, PARTS), evaluate(pathway, shuffled, AT, PARTS)
    assert (first.satisfied, first.percent, first.root.missing, first.parts) == (
        second.satisfied, second.percent, second.root.missing, second.parts
    )  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(learners=st.lists(HOLDINGS, min_size=1, max_size=6))
def test_batch_mode_gives_the_same_verdicts(learners: list[list[Holding]]) -> None:
    """Skipping the words and sharing results of untouched groups never changes what is satisfied."""
    pathway = compile_pathway("p1", _definition(TREE, order=[("core", "electives.1")]))
    memo: dict[Any, Any] = {}
    for held in learners:
        full = evaluate(pathway, held, AT, PARTS)
        fast = evaluate(pathway, held, AT, PARTS, explain=False, memo=memo)
        assert (full.satisfied, full.percent, full.root.missing, full.parts) == (
            fast.satisfied, fast.percent, fast.root.missing, fast.parts
        )  # fmt: skip
