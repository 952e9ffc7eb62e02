"""Pathways: requirement trees that stack microcredentials into a larger qualification.

A pathway names a target achievement (a Certificate, a Diploma ...) and a tree of
requirements: all of, at least N of, at least X credits over, required skills covered
by, and leaves that are a microcredential of this installation (any version), a
microcredential of another issuer (its achievement id and issuer DID), or a nested
pathway. Constraints: parts earned within N years, not expired or revoked, and order
(A before B).

Pure: parsing, the checks made on save, and what a learner holds. Evaluation is in
`pathway_progress`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from microcred.domain.microcredentials import known_achievement_type

MAX_NODES = 400
MAX_DEPTH = 8
LeafKey = tuple[str, ...]  # ("mc", id) | ("ext", achievement id, issuer DID) | ("pathway", id)


# -- what an issuer writes --------------------------------------------------------
class ExternalPart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    achievement: str = Field(min_length=1, max_length=2000)
    issuer: str = Field(min_length=1, max_length=2000, pattern=r"^(did:|https://)")
    name: str = Field(default="a microcredential of another issuer", max_length=300)
    ects: float | None = Field(default=None, ge=0, le=400)
    hours: float | None = Field(default=None, ge=0, le=100_000)


class PathwayDefinition(BaseModel):
    """A pathway as stored and as `microcred pathway create --from FILE` reads it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=10_000)
    achievement_type: str = "Certificate"
    approval: Literal["auto", "issuer"] = "auto"  # issue the roll-up at once, or queue it for the issuer
    on_part_revoked: Literal["suspend", "flag"] = "suspend"
    within_years: int | None = Field(default=None, ge=1, le=100)
    requirements: dict[str, Any]
    order: list[tuple[str, str]] = Field(default_factory=list, max_length=100)  # (earlier, later) node ids

    @field_validator("achievement_type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return known_achievement_type(value)


# -- the parsed tree ----------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Node:
    id: str
    kind: str  # all_of, at_least, min_credits, skills, microcredential, external, pathway
    label: str | None = None
    children: tuple[Node, ...] = ()
    count: int = 0  # at_least
    credits: float = 0.0  # min_credits
    unit: str = "ects"
    skills: frozenset[str] = frozenset()
    ref: LeafKey = ()
    external: ExternalPart | None = None

    @property
    def is_leaf(self) -> bool:
        return self.kind in ("microcredential", "external", "pathway")

    def walk(self) -> Iterable[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


class PathwayError(ValueError):
    """A pathway that cannot be saved: the message says which node and why."""


def parse_tree(raw: Any, node_id: str = "r", depth: int = 0) -> Node:
    if depth > MAX_DEPTH:
        raise PathwayError(f"{node_id}: requirements nest deeper than {MAX_DEPTH} levels")
    if not isinstance(raw, dict):
        raise PathwayError(f"{node_id}: a requirement must be an object")
    given = raw.get("id", node_id)
    if not isinstance(given, str) or not 0 < len(given) <= 80:
        raise PathwayError(f"{node_id}: id must be a short string")
    label = raw.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > 300):
        raise PathwayError(f"{given}: label must be a string of at most 300 characters")
    kinds = [k for k in ("all_of", "at_least", "min_credits", "skills", "microcredential", "external", "pathway")
             if k in raw]  # fmt: skip
    if len(kinds) != 1:
        raise PathwayError(f"{given}: say exactly one of all_of, at_least, min_credits, skills, microcredential, "
                           "external, pathway")  # fmt: skip
    kind = kinds[0]
    allowed = {"id", "label", kind} | ({"of"} if kind in ("at_least", "min_credits", "skills") else set())
    allowed |= {"unit"} if kind == "min_credits" else set()
    extra = sorted(set(raw) - allowed)
    if extra:
        raise PathwayError(f"{given}: unknown field {extra[0]!r}")
    return _KINDS[kind](raw, given, label, depth)


def _children(raw: Any, node_id: str, depth: int) -> tuple[Node, ...]:
    if not isinstance(raw, list) or not raw:
        raise PathwayError(f"{node_id}: list at least one element")
    return tuple(parse_tree(item, f"{node_id}.{i + 1}", depth + 1) for i, item in enumerate(raw))


def _parse_all_of(raw: dict[str, Any], node_id: str, label: str | None, depth: int) -> Node:
    return Node(node_id, "all_of", label, _children(raw["all_of"], node_id, depth))


def _parse_at_least(raw: dict[str, Any], node_id: str, label: str | None, depth: int) -> Node:
    children = _children(raw.get("of"), node_id, depth)
    count = raw["at_least"]
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= len(children):
        raise PathwayError(f"{node_id}: at_least must be a whole number from 1 to {len(children)}")
    return Node(node_id, "at_least", label, children, count=count)


def _parse_min_credits(raw: dict[str, Any], node_id: str, label: str | None, depth: int) -> Node:
    credits, unit = raw["min_credits"], raw.get("unit", "ects")
    if not isinstance(credits, int | float) or isinstance(credits, bool) or not 0 < credits <= 10_000:
        raise PathwayError(f"{node_id}: min_credits must be a positive number")
    if unit not in ("ects", "hours"):
        raise PathwayError(f"{node_id}: unit must be ects or hours")
    return Node(
        node_id, "min_credits", label, _children(raw.get("of"), node_id, depth), credits=float(credits), unit=unit
    )


def _parse_skills(raw: dict[str, Any], node_id: str, label: str | None, depth: int) -> Node:
    skills = raw["skills"]
    if (
        not isinstance(skills, list)
        or not skills
        or not all(isinstance(s, str) and s.startswith("http") for s in skills)
    ):
        raise PathwayError(f"{node_id}: skills must list skill URIs (ESCO or another framework)")
    return Node(node_id, "skills", label, _children(raw.get("of"), node_id, depth), skills=frozenset(skills))


def _parse_microcredential(raw: dict[str, Any], node_id: str, label: str | None, _depth: int) -> Node:
    ref = raw["microcredential"]
    if not isinstance(ref, str) or not 0 < len(ref) <= 36:
        raise PathwayError(f"{node_id}: microcredential must be a microcredential id")
    return Node(node_id, "microcredential", label, ref=("mc", ref))


def _parse_external(raw: dict[str, Any], node_id: str, label: str | None, _depth: int) -> Node:
    try:
        part = ExternalPart.model_validate(raw["external"])
    except ValueError as exc:
        raise PathwayError(f"{node_id}: external needs an achievement id and an issuer DID ({exc})") from exc
    return Node(node_id, "external", label, ref=("ext", part.achievement, part.issuer), external=part)


def _parse_pathway(raw: dict[str, Any], node_id: str, label: str | None, _depth: int) -> Node:
    ref = raw["pathway"]
    if not isinstance(ref, str) or not 0 < len(ref) <= 36:
        raise PathwayError(f"{node_id}: pathway must be a pathway id")
    return Node(node_id, "pathway", label, ref=("pathway", ref))


_KINDS: dict[str, Callable[[dict[str, Any], str, str | None, int], Node]] = {
    "all_of": _parse_all_of, "at_least": _parse_at_least, "min_credits": _parse_min_credits, "skills": _parse_skills,
    "microcredential": _parse_microcredential, "external": _parse_external, "pathway": _parse_pathway,
}  # fmt: skip


# -- what a leaf is worth, and what a learner holds ------------------------------------
@dataclass(frozen=True, slots=True)
class PartInfo:
    """What the catalogue says of a leaf: its name, credits and skills."""

    name: str
    ects: float = 0.0
    hours: float = 0.0
    skills: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Holding:
    """One credential a learner holds that may fill a leaf (issued here, or imported and verified)."""

    key: LeafKey
    credential_id: str
    issued_at: datetime
    valid_until: datetime | None = None
    state: str = "active"  # active, revoked, suspended, unverified
    ects: float = 0.0
    hours: float = 0.0
    skills: frozenset[str] = frozenset()
    issuer: str = ""
    name: str = ""

    def usable(self, at: datetime, within_years: int | None) -> str:
        """ "" when it counts at `at`, else why not."""
        if self.state != "active":
            return self.state
        if self.valid_until is not None and self.valid_until <= at:
            return "expired"
        if within_years is not None and self.issued_at < at - timedelta(days=round(365.25 * within_years)):
            return f"earned more than {within_years} years ago"
        return ""


@dataclass(frozen=True, slots=True)
class Pathway:
    id: str
    definition: PathwayDefinition
    tree: Node
    unit: str = "ects"  # the credit unit of its first minimum-credits rule (ECTS by default)


def compile_pathway(pathway_id: str, definition: PathwayDefinition) -> Pathway:
    tree = parse_tree(definition.requirements)
    nodes = list(tree.walk())
    if len(nodes) > MAX_NODES:
        raise PathwayError(f"a pathway has at most {MAX_NODES} requirements")
    ids = [n.id for n in nodes]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate:
        raise PathwayError(f"the id {duplicate!r} is used twice")
    leaves = {n.id for n in nodes if n.is_leaf}
    for earlier, later in definition.order:
        for ref in (earlier, later):
            if ref not in leaves:
                raise PathwayError(f"order names {ref!r}, which is not a microcredential, external or pathway element")
    _check_order_acyclic(definition.order)
    unit = next((n.unit for n in nodes if n.kind == "min_credits"), "ects")
    return Pathway(pathway_id, definition, tree, unit)


def _check_order_acyclic(order: list[tuple[str, str]]) -> None:
    after: dict[str, set[str]] = {}
    for earlier, later in order:
        if earlier == later:
            raise PathwayError(f"{earlier!r} cannot come before itself")
        after.setdefault(earlier, set()).add(later)
    state: dict[str, int] = {}

    def visit(node: str) -> None:
        state[node] = 1
        for nxt in after.get(node, ()):
            if state.get(nxt) == 1:
                raise PathwayError(f"the order constraints contradict each other around {nxt!r}")
            if nxt not in state:
                visit(nxt)
        state[node] = 2

    for node in list(after):
        if node not in state:
            visit(node)


def check_satisfiable(pathway: Pathway, parts: Mapping[LeafKey, PartInfo], pathways: Mapping[str, Pathway]) -> None:
    """Raise PathwayError when no learner could ever complete it (unknown parts, cycles, impossible rules)."""
    _check_cycles(pathway, pathways, [])
    _best(pathway.tree, pathway.unit, parts, pathways, pathway.id)


def _check_cycles(pathway: Pathway, pathways: Mapping[str, Pathway], trail: list[str]) -> None:
    if pathway.id in trail:
        raise PathwayError("nested pathways form a cycle: " + " -> ".join([*trail, pathway.id]))
    for node in pathway.tree.walk():
        if node.kind == "pathway":
            nested = pathways.get(node.ref[1])
            if nested is None:
                raise PathwayError(f"{node.id}: no pathway {node.ref[1]!r}")
            _check_cycles(nested, pathways, [*trail, pathway.id])


def _best(
    node: Node, unit: str, parts: Mapping[LeafKey, PartInfo], pathways: Mapping[str, Pathway], top: str
) -> tuple[float, frozenset[str]]:
    """The most credits and skills the node can ever give; raises when it can never be satisfied."""
    if node.kind == "microcredential":
        info = parts.get(node.ref)
        if info is None:
            raise PathwayError(f"{node.id}: no microcredential {node.ref[1]!r} in the catalogue")
        return (info.ects if unit == "ects" else info.hours), info.skills
    if node.kind == "external":
        part = node.external
        assert part is not None
        return (part.ects or 0.0) if unit == "ects" else (part.hours or 0.0), frozenset()
    if node.kind == "pathway":
        nested = pathways[node.ref[1]]
        return _best(nested.tree, unit, parts, pathways, top)
    results = [_best(child, unit, parts, pathways, top) for child in node.children]
    credits = sum(r[0] for r in results)
    skills = frozenset().union(*(r[1] for r in results))
    if node.kind == "min_credits" and credits < node.credits:
        raise PathwayError(f"{node.id}: its elements give at most {credits:g} {node.unit}, not {node.credits:g}")
    if node.kind == "skills" and not node.skills <= skills:
        missing = ", ".join(sorted(node.skills - skills)[:3])
        raise PathwayError(f"{node.id}: no element teaches {missing}")
    return credits, skills
