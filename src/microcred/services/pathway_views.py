"""What pathway pages, the API and the CLI show: progress as JSON, the designer's tree in words, and
the issuer's view of learners per stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microcred.domain.pathway_progress import evaluate
from microcred.domain.pathways import LeafKey, PartInfo, Pathway
from microcred.services.issuing import NotFound
from microcred.services.pathways import LearnerPathway, PathwayService


def progress_json(item: LearnerPathway) -> dict[str, Any]:
    progress = item.progress
    completion = item.completion
    return {
        "pathway": item.row.id,
        "name": item.row.name,
        "satisfied": progress.satisfied,
        "percent": progress.percent,
        "remaining": list(progress.root.missing),
        "order_problems": list(progress.order_problems),
        "explanation": progress.root.explanation,
        "tree": node_json(progress.root),
        "roll_up": None if completion is None else {
            "state": completion.state, "award": completion.award_id, "flagged": completion.flagged,
        },
    }  # fmt: skip


def node_json(result: Any) -> dict[str, Any]:
    return {
        "id": result.node.id,
        "kind": result.node.kind,
        "satisfied": result.satisfied,
        "done": result.done,
        "needed": result.needed,
        "explanation": result.explanation,
        "credentials": [h.credential_id for h in result.used] if result.node.is_leaf else [],
        "children": [node_json(c) for c in result.children if result.node.kind != "pathway"],
    }


@dataclass(frozen=True, slots=True)
class StageView:
    started: int
    completed: int
    pending: int
    flagged: int
    per_node: dict[str, int]  # node id -> learners who satisfy it
    learners: list[tuple[str, float, bool]]  # (email, percent, satisfied), most advanced first
    truncated: bool


def stages(service: PathwayService, pathway_id: str, limit: int = 2000) -> StageView:
    """The issuer's view: how many learners stand at each element of the pathway."""
    pathways, parts = service.pathways(), service.parts()
    pathway = pathways.get(pathway_id)
    if pathway is None:
        raise NotFound(f"no pathway {pathway_id!r}")
    mc_ids = sorted(
        {n.ref[1] for p in _with_nested(pathway, pathways) for n in p.tree.walk() if n.kind == "microcredential"}
    )
    with service.runtime.db.read() as repo:
        emails = repo.learners_holding(mc_ids, limit + 1)
        completions = repo.completions(pathway_ids=[pathway_id])
    per_node: dict[str, int] = {}
    learners = []
    now = service.runtime.clock.now()
    held = service.holdings_of(emails[:limit])
    for email in emails[:limit]:
        progress = evaluate(pathway, held[email], now, parts, pathways)
        learners.append((email, progress.percent, progress.satisfied))
        for node_id in _satisfied_ids(progress.root):
            per_node[node_id] = per_node.get(node_id, 0) + 1
    learners.sort(key=lambda item: (-item[1], item[0]))
    return StageView(
        len(learners), sum(1 for c in completions if c.state == "issued"), sum(1 for c in completions if c.state == "pending"),
        sum(1 for c in completions if c.flagged), per_node, learners, len(emails) > limit,
    )  # fmt: skip


def _with_nested(pathway: Pathway, pathways: dict[str, Pathway]) -> list[Pathway]:
    found, queue = [], [pathway]
    while queue:
        current = queue.pop()
        if current in found:
            continue
        found.append(current)
        queue += [pathways[n.ref[1]] for n in current.tree.walk() if n.kind == "pathway" and n.ref[1] in pathways]
    return found


def _satisfied_ids(result: Any) -> list[str]:
    out = [result.node.id] if result.satisfied else []
    for child in result.children:
        if result.node.kind != "pathway":
            out += _satisfied_ids(child)
    return out


def definition_tree(node: Any, parts: dict[LeafKey, PartInfo], pathways: dict[str, Pathway]) -> dict[str, Any]:
    """The requirement tree in words, for the designer's picture."""
    if node.kind == "microcredential":
        info = parts.get(node.ref)
        text = node.label or (info.name if info else node.ref[1])
        credits = f" · {info.ects:g} ECTS" if info and info.ects else ""
        return {"id": node.id, "kind": node.kind, "text": text + credits, "children": []}
    if node.kind == "external":
        return {"id": node.id, "kind": node.kind, "text": f"{node.label or node.external.name} (issued by "
                f"{node.external.issuer})", "children": []}  # fmt: skip
    if node.kind == "pathway":
        nested = pathways.get(node.ref[1])
        return {"id": node.id, "kind": node.kind, "text": "the pathway " + (nested.definition.name if nested else
                node.ref[1]), "children": []}  # fmt: skip
    unit = "ECTS" if node.unit == "ects" else "hours"
    text = {
        "all_of": "All of",
        "at_least": f"At least {node.count} of",
        "min_credits": f"At least {node.credits:g} {unit} from",
        "skills": f"Covering {len(node.skills)} required skill(s) with",
    }[node.kind]
    return {"id": node.id, "kind": node.kind, "text": (node.label + ": " if node.label else "") + text,
            "children": [definition_tree(c, parts, pathways) for c in node.children]}  # fmt: skip
