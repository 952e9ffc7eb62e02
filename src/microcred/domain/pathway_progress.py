"""Evaluating a pathway for one learner: per node satisfied or not, credit weight done and
needed, the smallest set of missing leaves, and an explanation in words.

Pure. Adding a holding never lowers progress (a leaf takes its most valuable usable
holding; order constraints ask only that some earlier part precedes some later one, and
only of parts the pathway needs), and the order in which holdings are given does not matter.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from microcred.domain.pathways import Holding, LeafKey, Node, PartInfo, Pathway


# -- evaluation -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NodeResult:
    node: Node
    satisfied: bool
    done: float  # weight done (credits in the pathway's unit, or 1 per leaf without credits)
    needed: float
    missing: tuple[str, ...]  # the smallest set of leaf ids still to earn
    used: tuple[Holding, ...]  # the credentials that count
    explanation: str
    children: tuple[NodeResult, ...] = ()
    skills: frozenset[str] = frozenset()
    holdings: tuple[Holding, ...] = ()  # every usable holding of a leaf (order constraints)

    def find(self, node_id: str) -> NodeResult | None:
        if self.node.id == node_id:
            return self
        for child in self.children:
            found = child.find(node_id)
            if found is not None:
                return found
        return None


@dataclass(frozen=True, slots=True)
class Progress:
    pathway: Pathway
    root: NodeResult
    satisfied: bool
    percent: float
    order_problems: tuple[str, ...] = ()

    @property
    def started(self) -> bool:
        return bool(self.root.used)

    @property
    def parts(self) -> tuple[Holding, ...]:
        """The credentials that count, each once, in a stable order."""
        seen: dict[str, Holding] = {}
        for holding in self.root.used:
            seen.setdefault(holding.credential_id, holding)
        return tuple(sorted(seen.values(), key=lambda h: (h.issued_at, h.credential_id)))


@dataclass
class Context:
    at: datetime
    holdings: Mapping[LeafKey, list[Holding]]
    parts: Mapping[LeafKey, PartInfo]
    pathways: Mapping[str, Pathway]
    within_years: int | None
    unit: str
    trail: tuple[str, ...] = ()
    explain: bool = True
    memo: dict[Any, Any] | None = None  # results of leaves and groups nobody holds, reused (batch runs)


def evaluate(
    pathway: Pathway,
    holdings: Iterable[Holding],
    at: datetime,
    parts: Mapping[LeafKey, PartInfo],
    pathways: Mapping[str, Pathway] | None = None,
    *,
    explain: bool = True,
    memo: dict[Any, Any] | None = None,
) -> Progress:
    """`explain=False` (batch runs) skips the words; `memo` shares the results of leaves nobody holds
    across evaluations with the same catalogue (only while those Node objects live)."""
    by_key: dict[LeafKey, list[Holding]] = {}
    for holding in holdings:
        by_key.setdefault(holding.key, []).append(holding)
    context = Context(at, by_key, parts, pathways or {}, pathway.definition.within_years, pathway.unit,
                      (pathway.id,), explain, memo)  # fmt: skip
    root = _evaluate(pathway.tree, context)
    violated = _violations(pathway, root) if pathway.definition.order else []
    if violated and root.satisfied:
        in_order = _without_parts_out_of_order(pathway, context, violated)
        if in_order is not None:
            return Progress(pathway, in_order, True, 100.0)
    satisfied = root.satisfied and not violated
    percent = 100.0 if satisfied else min(99.0, 100.0 * root.done / root.needed) if root.needed else 0.0
    return Progress(pathway, root, satisfied, round(percent, 1), tuple(_order_problem(*v) for v in violated))


def _evaluate(node: Node, context: Context) -> NodeResult:
    if node.kind in ("microcredential", "external"):
        return _leaf(node, context)
    if node.kind == "pathway":
        return _nested(node, context)
    memo = context.memo
    if memo is not None and _untouched(node, context, memo):
        key = (id(node), context.unit)
        found = memo.get(key)
        if found is None:
            found = memo[key] = _composite(node, context)
        return found  # a group holding none of the learner's credentials evaluates the same for everyone
    return _composite(node, context)


def _composite(node: Node, context: Context) -> NodeResult:
    children = tuple(_evaluate(child, context) for child in node.children)
    return _COMPOSITES[node.kind](node, children, context)


def _untouched(node: Node, context: Context, memo: dict[Any, Any]) -> bool:
    """True when none of the group's leaves is held (groups with nested pathways always count as touched)."""
    keys: frozenset[LeafKey] | None = memo.get(("keys", id(node)))
    if keys is None:
        leaves = [n for n in node.walk() if n.is_leaf]
        nested = any(n.kind == "pathway" for n in leaves)
        keys = memo[("keys", id(node))] = frozenset([("pathway",)] if nested else [n.ref for n in leaves])
    if ("pathway",) in keys:
        return False
    return keys.isdisjoint(context.holdings)


def _weight(node: Node, context: Context, holding: Holding | None = None) -> float:
    """A leaf's credits in the pathway's unit: the holding's own, else what the pathway or catalogue says."""
    value = (holding.ects if context.unit == "ects" else holding.hours) if holding is not None else 0.0
    if value > 0:
        return value
    if node.kind == "external":
        part = node.external
        assert part is not None
        value = (part.ects if context.unit == "ects" else part.hours) or 0.0
    else:
        info = context.parts.get(node.ref)
        value = (info.ects if context.unit == "ects" else info.hours) if info else 0.0
    return value if value > 0 else 1.0  # a part without credits still counts as one step


def _name(node: Node, context: Context) -> str:
    if node.label:
        return node.label
    if node.kind == "external" and node.external is not None:
        return node.external.name
    info = context.parts.get(node.ref)
    return info.name if info else node.ref[-1]


def _leaf(node: Node, context: Context) -> NodeResult:
    candidates = context.holdings.get(node.ref)
    if not candidates and context.memo is not None:
        key = (id(node), context.unit)
        found = context.memo.get(key)
        if found is None:
            found = context.memo[key] = _unheld(node, context)
        return found
    checked = [(h, h.usable(context.at, context.within_years)) for h in candidates or []]
    usable = sorted({h for h, why in checked if not why}, key=lambda h: (h.issued_at, h.credential_id, h.state))
    name = _name(node, context)
    needed = _weight(node, context)
    if not usable:
        why = sorted({why for _h, why in checked if why})
        text = f"not yet earned: {name}" + (f" (held, but {', '.join(why)})" if why else "")
        return NodeResult(node, False, 0.0, needed, (node.id,), (), text)
    best = max(usable, key=lambda h: (_weight(node, context, h), h.issued_at, h.credential_id))
    done = _weight(node, context, best)
    text = f"done: {name} (earned {best.issued_at.date().isoformat()})"
    return NodeResult(
        node, True, done, max(needed, done), (), (best,), text, skills=best.skills, holdings=tuple(usable)
    )


def _unheld(node: Node, context: Context) -> NodeResult:
    text = f"not yet earned: {_name(node, context)}" if context.explain else ""
    return NodeResult(node, False, 0.0, _weight(node, context), (node.id,), (), text)


def _nested(node: Node, context: Context) -> NodeResult:
    pathway_id = node.ref[1]
    nested = context.pathways.get(pathway_id)
    if nested is None or pathway_id in context.trail:
        return NodeResult(node, False, 0.0, 1.0, (node.id,), (), f"unknown pathway {pathway_id}")
    inner = Context(context.at, context.holdings, context.parts, context.pathways, nested.definition.within_years,
                    context.unit, (*context.trail, pathway_id), context.explain)  # fmt: skip
    result = _evaluate(nested.tree, inner)
    name = node.label or nested.definition.name
    text = f"done: {name}" if result.satisfied else f"{name}: {result.explanation}"
    return NodeResult(node, result.satisfied, result.done, result.needed, result.missing, result.used, text,
                      (result,), result.skills)  # fmt: skip


def _union(children: Iterable[NodeResult], attribute: str) -> Any:
    out: list[Any] = []
    for child in children:
        out.extend(getattr(child, attribute))
    return tuple(out)


def _skills_of(children: Iterable[NodeResult]) -> frozenset[str]:
    return frozenset().union(*(c.skills for c in children))


def _names(ids: Iterable[str], children: tuple[NodeResult, ...]) -> str:
    labels = []
    for node_id in ids:
        for child in children:
            found = child.find(node_id)
            if found is not None:
                labels.append(found.explanation.removeprefix("not yet earned: ").split(" (held")[0])
                break
    return ", ".join(labels)


def _all_of(node: Node, children: tuple[NodeResult, ...], context: Context) -> NodeResult:
    satisfied = all(c.satisfied for c in children)
    done_count = sum(c.satisfied for c in children)
    missing = _union((c for c in children if not c.satisfied), "missing")
    text = (
        ""
        if not context.explain
        else f"all {len(children)} done"
        if satisfied
        else f"{done_count} of {len(children)} done; still needed: " + _names(missing, children)
    )
    return NodeResult(node, satisfied, sum(c.done for c in children), sum(c.needed for c in children), missing,
                      _union((c for c in children if c.satisfied), "used"), text, children, _skills_of(children))  # fmt: skip


def _at_least(node: Node, children: tuple[NodeResult, ...], context: Context) -> NodeResult:
    done_children = [c for c in children if c.satisfied]
    short = node.count - len(done_children)
    ranked = sorted(children, key=lambda c: (-c.done, c.needed))
    needed = sum(sorted(c.needed for c in children)[: node.count])
    done = min(needed, sum(c.done for c in ranked[: node.count]))
    if short <= 0:
        used_children = sorted(done_children, key=lambda c: -c.done)
        return NodeResult(node, True, max(done, sum(c.done for c in used_children[: node.count])),
                          max(needed, done), (), _union(used_children, "used"),
                          f"{len(done_children)} of {len(children)} done (at least {node.count} needed)",
                          children, _skills_of(used_children))  # fmt: skip
    open_children = sorted((c for c in children if not c.satisfied), key=lambda c: (len(c.missing), c.needed - c.done))
    missing = _union(open_children[:short], "missing")
    text = (
        f"{len(done_children)} of at least {node.count} done; still needed: {short} more, for example "
        + _names(missing, children)
        if context.explain
        else ""
    )
    return NodeResult(node, False, done, needed, missing, _union(done_children, "used"), text, children,
                      _skills_of(done_children))  # fmt: skip


def _min_credits(node: Node, children: tuple[NodeResult, ...], context: Context) -> NodeResult:
    have = sum(c.done for c in children if c.satisfied)
    done_children = [c for c in children if c.satisfied]
    unit = "ECTS" if node.unit == "ects" else "hours"
    if have >= node.credits:
        return NodeResult(node, True, node.credits, node.credits, (), _union(done_children, "used"),
                          f"{have:g} of {node.credits:g} {unit} earned", children, _skills_of(done_children))  # fmt: skip
    deficit, missing = node.credits - have, list[str]()
    for child in sorted((c for c in children if not c.satisfied),
                        key=lambda c: (-(c.needed - c.done) / max(1, len(c.missing)), len(c.missing))):  # fmt: skip
        if deficit <= 0:
            break
        missing.extend(child.missing)
        deficit -= child.needed - child.done
    partial = sum(c.done for c in children if not c.satisfied)
    text = f"{have:g} of {node.credits:g} {unit} earned; for example still: " + (
        _names(missing, children) if context.explain else ""
    )
    return NodeResult(node, False, min(node.credits, have + partial), node.credits, tuple(missing),
                      _union(done_children, "used"), text, children, _skills_of(done_children))  # fmt: skip


def _skills_node(node: Node, children: tuple[NodeResult, ...], context: Context) -> NodeResult:
    covered = _skills_of(c for c in children if c.satisfied)
    uncovered = set(node.skills - covered)
    done_children = [c for c in children if c.satisfied]
    needed = float(len(node.skills))
    if not uncovered:
        return NodeResult(node, True, needed, needed, (), _union(done_children, "used"),
                          f"all {len(node.skills)} required skills covered", children, covered)  # fmt: skip
    teaches = {c.node.id: _teaches(c, context) & uncovered for c in children if not c.satisfied}
    missing: list[str] = []
    open_children = {c.node.id: c for c in children if not c.satisfied}
    while uncovered:
        best = max(teaches, key=lambda k: (len(teaches[k] & uncovered), -len(open_children[k].missing)), default=None)
        if best is None or not teaches[best] & uncovered:
            break
        missing.extend(open_children[best].missing)
        uncovered -= teaches.pop(best)
    text = f"{len(node.skills) - len(node.skills - covered)} of {len(node.skills)} required skills covered; still: " + (
        _names(missing, children) or "no element teaches the rest"
    )
    return NodeResult(node, False, needed - len(node.skills - covered), needed, tuple(missing),
                      _union(done_children, "used"), text, children, covered)  # fmt: skip


def _teaches(result: NodeResult, context: Context) -> frozenset[str]:
    skills: set[str] = set()
    for node in result.node.walk():
        info = context.parts.get(node.ref) if node.is_leaf else None
        if info is not None:
            skills |= info.skills
    return frozenset(skills)


_COMPOSITES: dict[str, Callable[[Node, tuple[NodeResult, ...], Context], NodeResult]] = {
    "all_of": _all_of, "at_least": _at_least, "min_credits": _min_credits, "skills": _skills_node,
}  # fmt: skip


def _violations(pathway: Pathway, root: NodeResult) -> list[tuple[NodeResult, NodeResult]]:
    violated = []
    for earlier, later in pathway.definition.order:
        first, second = root.find(earlier), root.find(later)
        if first is None or second is None or not first.holdings or not second.holdings:
            continue  # an element not yet earned is reported as missing already
        if min(h.issued_at for h in first.holdings) >= max(h.issued_at for h in second.holdings):
            violated.append((first, second))
    return violated


MAX_SET_ASIDE = 10  # violated constraints searched exhaustively (2**n evaluations); beyond, order problems stand


def _without_parts_out_of_order(
    pathway: Pathway, context: Context, violated: list[tuple[NodeResult, NodeResult]]
) -> NodeResult | None:
    """The evaluation that still holds when, for each violated constraint, the credentials of one of its two
    parts are set aside, if there is one. A part the pathway does not need may be earned in any order, so
    earning it never undoes a completed pathway (adding a credential never lowers progress)."""
    if len(violated) > MAX_SET_ASIDE:
        return None
    for sides in itertools.product((0, 1), repeat=len(violated)):
        aside = {pair[side].node.ref for pair, side in zip(violated, sides, strict=True)}
        kept = {key: found for key, found in context.holdings.items() if key not in aside}
        root = _evaluate(pathway.tree, replace(context, holdings=kept))
        if root.satisfied and not _violations(pathway, root):
            return root
    return None


def _order_problem(first: NodeResult, second: NodeResult) -> str:
    return f"{_label(first)} must be earned before {_label(second)}"


def _label(result: NodeResult) -> str:
    return result.explanation.removeprefix("done: ").split(" (earned")[0]
