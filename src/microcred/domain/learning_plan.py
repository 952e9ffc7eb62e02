"""The cheapest or shortest set of microcredentials that closes a skills gap, as an integer program.

Variables: x_j (take offer j), y_s (skill s gets covered). Coverage dominates: the objective is
sum(cost_j * x_j) / (total cost + 1) - sum(weight_s * y_s), so no saving is worth losing a skill,
and among the best covers the cheapest wins. Prerequisites are x_j <= x_p for each prerequisite p the
learner does not hold; budget and time limits are rows. HiGHS solves it; when it runs out of time the
better of its incumbent and a greedy cover is returned, marked as not proven optimal.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import highspy
import numpy as np

Measure = Literal["price", "hours"]
EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class Offer:
    id: str
    name: str
    provider: str
    skills: frozenset[str]
    price: float | None
    hours: float | None
    prerequisites: tuple[str, ...] = ()
    currency: str | None = None
    language: str | None = None
    level: int | None = None
    delivery_mode: str | None = None

    def cost(self, measure: Measure) -> float | None:
        return self.price if measure == "price" else self.hours


@dataclass(frozen=True, slots=True)
class Limits:
    minimize: Measure = "price"
    budget: float | None = None
    max_hours: float | None = None
    time_limit: float = 0.5


@dataclass(slots=True)
class Plan:
    offers: list[Offer]
    covers: dict[str, list[str]]  # offer id -> the missing skills it covers
    covered: list[str]
    uncovered: list[str]  # no offer teaches these, or the limits leave them out
    unreachable: list[str]  # no offer in the catalogue teaches these at all
    method: str  # milp, greedy or none
    optimal: bool
    seconds: float
    greedy_cost: float | None = None

    def total(self, measure: Measure) -> float:
        return round(sum(o.cost(measure) or 0.0 for o in self.offers), 2)


def _usable(offers: Iterable[Offer], limits: Limits) -> dict[str, Offer]:
    """Offers whose minimised measure is known, and whose price/hours are known when a limit needs them."""
    found = {}
    for offer in offers:
        if offer.cost(limits.minimize) is None:
            continue
        if (limits.budget is not None and offer.price is None) or (
            limits.max_hours is not None and offer.hours is None
        ):
            continue
        found[offer.id] = offer
    return found


def _closure(start: set[str], usable: dict[str, Offer], held: set[str]) -> set[str] | None:
    """These offers plus every prerequisite they need that is not held; None when one cannot be met."""
    chosen, todo = set(), list(start)
    while todo:
        current = todo.pop()
        if current in chosen:
            continue
        offer = usable.get(current)
        if offer is None:
            return None
        chosen.add(current)
        todo += [p for p in offer.prerequisites if p not in held]
    return chosen


def _candidates(missing: dict[str, float], offers: dict[str, Offer], held: set[str]) -> dict[str, Offer]:
    teaching = {o.id for o in offers.values() if o.skills & missing.keys() and o.id not in held}
    found: dict[str, Offer] = {}
    for offer_id in teaching:
        needed = _closure({offer_id}, offers, held)
        if needed is not None:
            found.update({i: offers[i] for i in needed})
    return found


def plan(missing: dict[str, float], offers: Iterable[Offer], held: set[str], limits: Limits) -> Plan:
    """The plan for the missing skills (uri -> weight), given the offer ids the learner already holds."""
    started = time.perf_counter()
    usable = _usable(offers, limits)
    candidates = _candidates(missing, usable, held)
    teachable = {s for o in candidates.values() for s in o.skills} & missing.keys()
    unreachable = sorted(set(missing) - teachable)
    if not teachable:
        return _finish([], missing, unreachable, "none", True, started, None)
    greedy_pick = greedy(missing, candidates, held, limits)
    greedy_cost = _cost(greedy_pick, candidates, limits.minimize)
    solved = _solve(sorted(teachable), missing, candidates, held, limits)
    if solved is None:
        chosen, method, optimal = greedy_pick, "greedy", False
    else:
        chosen, optimal = solved
        method = "milp"
        if not optimal and _value(greedy_pick, missing, candidates, limits) < _value(
            chosen, missing, candidates, limits
        ):
            chosen, method = greedy_pick, "greedy"
    result = _finish([candidates[i] for i in chosen], missing, unreachable, method, optimal, started, greedy_cost)
    return result


def _cost(chosen: list[str], offers: dict[str, Offer], measure: Measure) -> float:
    return round(sum(offers[i].cost(measure) or 0.0 for i in chosen), 6)


def _value(
    chosen: list[str], missing: dict[str, float], offers: dict[str, Offer], limits: Limits
) -> tuple[float, float]:
    """Lower is better: (-covered weight, cost)."""
    covered = set().union(*(offers[i].skills for i in chosen)) if chosen else set()
    return (-sum(w for s, w in missing.items() if s in covered), _cost(chosen, offers, limits.minimize))


def _finish(
    chosen: list[Offer], missing: dict[str, float], unreachable: list[str], method: str, optimal: bool,
    started: float, greedy_cost: float | None,
) -> Plan:  # fmt: skip
    covers: dict[str, list[str]] = {}
    covered: set[str] = set()
    for offer in sorted(chosen, key=lambda o: o.name):
        new = sorted((offer.skills & missing.keys()) - covered)
        covers[offer.id] = sorted(offer.skills & missing.keys())
        covered.update(new)
    uncovered = sorted(set(missing) - covered)
    ordered = _in_prerequisite_order(chosen)
    return Plan(ordered, covers, sorted(covered), uncovered, unreachable, method, optimal,
                time.perf_counter() - started, greedy_cost)  # fmt: skip


def _in_prerequisite_order(chosen: list[Offer]) -> list[Offer]:
    ids = {o.id for o in chosen}
    done: list[Offer] = []
    placed: set[str] = set()
    pending = sorted(chosen, key=lambda o: o.name)
    while pending:
        ready = [o for o in pending if all(p in placed or p not in ids for p in o.prerequisites)] or pending[:1]
        for offer in ready:
            done.append(offer)
            placed.add(offer.id)
        pending = [o for o in pending if o.id not in placed]
    return done


def greedy(missing: dict[str, float], offers: dict[str, Offer], held: set[str], limits: Limits) -> list[str]:
    """Repeatedly the bundle (an offer and its prerequisites) with the most new weight per cost, then pruned."""
    chosen: set[str] = set()
    covered: set[str] = set()
    spent = {"price": 0.0, "hours": 0.0}
    while True:
        best: tuple[float, set[str]] | None = None
        for offer in offers.values():
            if offer.id in chosen or not (offer.skills & missing.keys()) - covered:
                continue
            bundle = (_closure({offer.id}, offers, held) or set()) - chosen
            gain = sum(missing[s] for s in set().union(*(offers[i].skills for i in bundle)) & missing.keys() - covered)
            if not bundle or gain <= 0 or not _within(bundle, offers, spent, limits):
                continue
            ratio = gain / (sum(offers[i].cost(limits.minimize) or 0.0 for i in bundle) + EPSILON)
            if best is None or ratio > best[0]:
                best = (ratio, bundle)
        if best is None:
            break
        for offer_id in best[1]:
            chosen.add(offer_id)
            covered |= offers[offer_id].skills & missing.keys()
            spent["price"] += offers[offer_id].price or 0.0
            spent["hours"] += offers[offer_id].hours or 0.0
    return _prune(chosen, missing, offers, held, limits.minimize)


def _within(bundle: set[str], offers: dict[str, Offer], spent: dict[str, float], limits: Limits) -> bool:
    price = spent["price"] + sum(offers[i].price or 0.0 for i in bundle)
    hours = spent["hours"] + sum(offers[i].hours or 0.0 for i in bundle)
    return (limits.budget is None or price <= limits.budget + EPSILON) and (
        limits.max_hours is None or hours <= limits.max_hours + EPSILON
    )


def _prune(
    chosen: set[str], missing: dict[str, float], offers: dict[str, Offer], held: set[str], measure: Measure
) -> list[str]:
    """Drops offers (costliest first) that neither cover a skill alone nor are someone's prerequisite."""
    for offer_id in sorted(chosen, key=lambda i: -(offers[i].cost(measure) or 0.0)):
        rest = chosen - {offer_id}
        still = set().union(*(offers[i].skills for i in rest)) if rest else set()
        before = set().union(*(offers[i].skills for i in chosen)) & missing.keys()
        needed = any(offer_id in offers[i].prerequisites for i in rest)
        if not needed and before <= still:
            chosen = rest
    return sorted(chosen)


_SOLVER: highspy.Highs | None = None
_SOLVER_LOCK = threading.Lock()


def _solver() -> highspy.Highs:
    """One HiGHS instance, made once with its start-up banner silenced (it prints on construction)."""
    global _SOLVER
    if _SOLVER is None:
        sys.stdout.flush()
        saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        try:
            _SOLVER = highspy.Highs()  # type: ignore[no-untyped-call]
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)
    return _SOLVER


def _solve(
    skills: list[str], missing: dict[str, float], offers: dict[str, Offer], held: set[str], limits: Limits
) -> tuple[list[str], bool] | None:
    ids = sorted(offers)
    column = {offer_id: n for n, offer_id in enumerate(ids)}
    n_x, n_y = len(ids), len(skills)
    costs = np.array([offers[i].cost(limits.minimize) or 0.0 for i in ids])
    scale = costs.sum() + 1.0
    objective = np.concatenate([costs / scale, -np.array([missing[s] for s in skills])])
    rows: list[tuple[list[int], list[float], float, float]] = []
    for k, skill in enumerate(skills):  # y_s - sum x_j <= 0
        teachers = [column[i] for i in ids if skill in offers[i].skills]
        rows.append(([n_x + k, *teachers], [1.0] + [-1.0] * len(teachers), -highspy.kHighsInf, 0.0))
    for offer_id in ids:  # x_j - x_p <= 0
        for prerequisite in offers[offer_id].prerequisites:
            if prerequisite not in held:
                rows.append(([column[offer_id], column[prerequisite]], [1.0, -1.0], -highspy.kHighsInf, 0.0))
    for limit, measure in ((limits.budget, "price"), (limits.max_hours, "hours")):
        if limit is not None:
            values = [offers[i].price if measure == "price" else offers[i].hours for i in ids]
            rows.append((list(range(n_x)), [v or 0.0 for v in values], -highspy.kHighsInf, float(limit)))
    with _SOLVER_LOCK:
        solver = _solver()
        solver.clearModel()
        for name, value in (("output_flag", False), ("time_limit", float(limits.time_limit)), ("mip_rel_gap", 0.0),
                            ("mip_abs_gap", 1e-9), ("threads", 1)):  # fmt: skip
            solver.setOptionValue(name, value)
        model = highspy.HighsLp()
        model.num_col_, model.num_row_ = n_x + n_y, len(rows)
        model.col_cost_ = objective
        model.col_lower_ = np.zeros(n_x + n_y)
        model.col_upper_ = np.ones(n_x + n_y)
        model.row_lower_ = np.array([r[2] for r in rows])
        model.row_upper_ = np.array([r[3] for r in rows])
        model.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        model.a_matrix_.start_ = np.cumsum([0] + [len(r[0]) for r in rows])
        model.a_matrix_.index_ = np.array([i for r in rows for i in r[0]], dtype=np.int32)
        model.a_matrix_.value_ = np.array([v for r in rows for v in r[1]])
        model.integrality_ = [highspy.HighsVarType.kInteger] * (n_x + n_y)
        solver.passModel(model)
        solver.run()
        status = solver.getModelStatus()
        if solver.getInfo().primal_solution_status != 2:  # no feasible point found in time
            return None
        solution = list(solver.getSolution().col_value)[:n_x]
    chosen = _prune({ids[n] for n, v in enumerate(solution) if v > 0.5}, missing, offers, held, limits.minimize)
    return chosen, status == highspy.HighsModelStatus.kOptimal
