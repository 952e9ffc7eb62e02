"""The learning-plan integer program: optimal against brute force, prerequisites, limits, partial covers and
the greedy fallback."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.domain.learning_plan import Limits, Offer, greedy, plan


def _offer(i: int, skills: str, price: float, hours: float = 10, requires: tuple[str, ...] = ()) -> Offer:
    return Offer(f"o{i}", f"Offer {i}", "Provider", frozenset(skills), price, hours, requires)


def _feasible(chosen: list[Offer], held: set[str], limits: Limits) -> bool:
    ids = {o.id for o in chosen} | held
    if any(p not in ids for o in chosen for p in o.prerequisites):
        return False
    if limits.budget is not None and sum(o.price or 0 for o in chosen) > limits.budget + 1e-6:
        return False
    return limits.max_hours is None or sum(o.hours or 0 for o in chosen) <= limits.max_hours + 1e-6


def _brute_force(missing: dict[str, float], offers: list[Offer], held: set[str], limits: Limits) -> tuple[float, float]:
    """The best (covered weight, -cost) over every subset."""
    best = (0.0, 0.0)
    for size in range(len(offers) + 1):
        for subset in itertools.combinations(offers, size):
            if not _feasible(list(subset), held, limits):
                continue
            covered = set().union(*(o.skills for o in subset)) if subset else set()
            value = (
                sum(w for s, w in missing.items() if s in covered),
                -sum(o.cost(limits.minimize) or 0 for o in subset),
            )
            best = max(best, value)
    return best


def _value(result: object, missing: dict[str, float], measure: str) -> tuple[float, float]:
    offers = result.offers  # type: ignore[attr-defined]
    covered = set().union(*(o.skills for o in offers)) if offers else set()
    return (sum(w for s, w in missing.items() if s in covered), -sum(o.cost(measure) or 0 for o in offers))


def test_the_cheapest_cover_beats_the_greedy_pick() -> None:
    # greedy takes o3 first (4 skills for 11, the best ratio), then needs o2: 21; the optimum is o1 + o2: 20
    offers = [_offer(1, "abc", 10), _offer(2, "def", 10), _offer(3, "abcd", 11), _offer(4, "g", 500)]
    missing = dict.fromkeys("abcdef", 1.0)
    result = plan(missing, offers, set(), Limits())
    assert result.optimal and result.method == "milp"
    assert {o.id for o in result.offers} == {"o1", "o2"} and result.total("price") == 20
    assert result.greedy_cost == 21
    assert result.covered == list("abcdef") and result.uncovered == []
    assert result.covers["o1"] == ["a", "b", "c"]


def test_prerequisites_are_taken_first_unless_held() -> None:
    offers = [_offer(1, "a", 50, requires=("o2",)), _offer(2, "x", 40), _offer(3, "a", 120)]
    result = plan({"a": 1.0}, offers, set(), Limits())
    assert [o.id for o in result.offers] == ["o2", "o1"]  # prerequisite order, total 90 < 120
    held = plan({"a": 1.0}, offers, {"o2"}, Limits())
    assert [o.id for o in held.offers] == ["o1"] and held.total("price") == 50


def test_a_budget_gives_the_best_partial_cover_and_names_what_is_left() -> None:
    offers = [_offer(1, "ab", 100), _offer(2, "c", 80), _offer(3, "d", 60)]
    missing = {"a": 1.0, "b": 1.0, "c": 3.0, "d": 1.0, "z": 1.0}
    result = plan(missing, offers, set(), Limits(budget=150))
    assert {o.id for o in result.offers} == {"o2", "o3"}  # weight 4 for 140 beats weight 2 for 100
    assert result.uncovered == ["a", "b", "z"] and result.unreachable == ["z"]
    assert plan(missing, offers, set(), Limits(budget=10)).offers == []


def test_hours_can_be_minimised_and_limited() -> None:
    offers = [_offer(1, "ab", 10, hours=100), _offer(2, "ab", 500, hours=20)]
    assert [o.id for o in plan({"a": 1, "b": 1}, offers, set(), Limits(minimize="hours")).offers] == ["o2"]
    assert plan({"a": 1, "b": 1}, offers, set(), Limits(max_hours=50)).offers[0].id == "o2"


def test_offers_without_the_minimised_measure_are_left_out() -> None:
    offers = [Offer("o1", "No price", "P", frozenset("a"), None, 5), _offer(2, "a", 70)]
    assert [o.id for o in plan({"a": 1.0}, offers, set(), Limits()).offers] == ["o2"]


def test_out_of_time_it_still_returns_a_valid_plan_never_worse_than_greedy() -> None:
    offers = [_offer(i, "".join(chr(97 + (i * k) % 20) for k in range(1, 4)), 10 + (i * 37) % 90) for i in range(120)]
    missing = {chr(97 + n): 1.0 for n in range(20)}
    result = plan(missing, offers, set(), Limits(time_limit=1e-6))
    assert _feasible(result.offers, set(), Limits())
    greedy_ids = greedy(missing, {o.id: o for o in offers}, set(), Limits())
    greedy_cost = sum(o.price for o in offers if o.id in greedy_ids)  # type: ignore[misc]
    assert len(result.covered) == 20 and result.total("price") <= greedy_cost + 1e-6


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.sets(st.sampled_from("abcdef"), min_size=1, max_size=3), st.integers(0, 200), st.integers(1, 50)),
        min_size=1,
        max_size=7,
    ),
    prerequisite=st.integers(0, 6),
    budget=st.one_of(st.none(), st.integers(0, 400)),
    minimize=st.sampled_from(["price", "hours"]),
)
def test_the_plan_is_as_good_as_the_best_subset(
    data: list, prerequisite: int, budget: int | None, minimize: str
) -> None:
    offers = [_offer(i, "".join(sorted(s)), p, h) for i, (s, p, h) in enumerate(data)]
    if prerequisite < len(offers) - 1:  # the last offer needs another one first
        last = offers[-1]
        offers[-1] = Offer(
            last.id, last.name, last.provider, last.skills, last.price, last.hours, (f"o{prerequisite}",)
        )
    missing = dict.fromkeys("abcdefg", 1.0)
    limits = Limits(minimize=minimize, budget=budget)  # type: ignore[arg-type]
    result = plan(missing, offers, set(), limits)
    assert result.optimal
    assert _feasible(result.offers, set(), limits)
    found, best = _value(result, missing, minimize), _brute_force(missing, offers, set(), limits)
    assert found[0] == best[0] and abs(found[1] - best[1]) < 1e-6
    assert "g" in result.unreachable
