"""RDF Dataset Canonicalization (RDFC-1.0, W3C Recommendation 2024) with a work cap.

Credentials almost always have blank nodes whose first-degree hashes are all
different; then the canonical labels follow from one sort and the costly
N-degree step never runs. When hashes collide, the N-degree algorithm runs
under a budget of hash operations, so a poison graph (a clique of
indistinguishable blank nodes) aborts with CanonicalizationLimitError instead
of running for hours.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict

from microcred.errors import CanonicalizationLimitError
from microcred.standards.jsonld.rdf import Quad

DEFAULT_WORK_LIMIT = 20_000
MAX_BLANK_NODES = 5_000


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self, amount: int = 1) -> None:
        self.left -= amount
        if self.left < 0:
            raise CanonicalizationLimitError(
                "canonicalization aborted: the graph needs too much work (a poison graph of "
                "indistinguishable blank nodes?)"
            )


class _Issuer:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.issued: dict[str, str] = {}

    def issue(self, node: str) -> str:
        found = self.issued.get(node)
        if found is None:
            found = f"{self.prefix}{len(self.issued)}"
            self.issued[node] = found
        return found

    def copy(self) -> _Issuer:
        clone = _Issuer(self.prefix)
        clone.issued = dict(self.issued)
        return clone


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _line(s: str, p: str, o: str, g: str) -> str:
    return f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n"


class Canonicalizer:
    def __init__(self, quads: list[Quad], work_limit: int = DEFAULT_WORK_LIMIT) -> None:
        self.budget = _Budget(work_limit)
        self.by_node: dict[str, list[Quad]] = defaultdict(list)
        self.plain_lines: list[str] = []  # quads without blank nodes: serialized once
        self.quads: list[Quad] = []
        for quad in dict.fromkeys(quads):
            s, p, o, g = quad
            s_blank, o_blank, g_blank = s[:2] == "_:", o[:2] == "_:", g[:2] == "_:"
            if not (s_blank or o_blank or g_blank):
                self.plain_lines.append(f"{s} {p} {o} {g} .\n" if g else f"{s} {p} {o} .\n")
                continue
            self.quads.append(quad)
            if s_blank:
                self.by_node[s].append(quad)
            if o_blank and o != s:
                self.by_node[o].append(quad)
            if g_blank and g not in (s, o):
                self.by_node[g].append(quad)
        if len(self.by_node) > MAX_BLANK_NODES:
            raise CanonicalizationLimitError(f"canonicalization aborted: more than {MAX_BLANK_NODES} blank nodes")
        self.canonical = _Issuer("_:c14n")

    def run(self) -> str:
        first_degree: dict[str, list[str]] = defaultdict(list)
        for node in self.by_node:
            first_degree[self._hash_first_degree(node)].append(node)
        shared: list[tuple[str, list[str]]] = []
        for digest in sorted(first_degree):
            nodes = first_degree[digest]
            if len(nodes) == 1:
                self.canonical.issue(nodes[0])
            else:
                shared.append((digest, nodes))
        for _, nodes in shared:
            self._issue_shared(nodes)
        return self._relabel()

    def _issue_shared(self, nodes: list[str]) -> None:
        results: list[tuple[str, _Issuer]] = []
        for node in nodes:
            if node in self.canonical.issued:
                continue
            temp = _Issuer("_:b")
            temp.issue(node)
            results.append(self._hash_n_degree(node, temp))
        for _, issuer in sorted(results, key=lambda r: r[0]):
            for existing in issuer.issued:
                self.canonical.issue(existing)

    def _hash_first_degree(self, node: str) -> str:
        self.budget.spend()
        lines = []
        for subject, p, obj, graph in self.by_node[node]:
            s = ("_:a" if subject == node else "_:z") if subject[:2] == "_:" else subject
            o = ("_:a" if obj == node else "_:z") if obj[:2] == "_:" else obj
            if graph:
                g = ("_:a" if graph == node else "_:z") if graph[:2] == "_:" else graph
                lines.append(f"{s} {p} {o} {g} .\n")
            else:
                lines.append(f"{s} {p} {o} .\n")
        lines.sort()
        return _sha256("".join(lines))

    def _hash_related(self, related: str, quad: Quad, issuer: _Issuer, position: str) -> str:
        self.budget.spend()
        if related in self.canonical.issued:
            ident = self.canonical.issued[related]
        elif related in issuer.issued:
            ident = issuer.issued[related]
        else:
            ident = self._hash_first_degree(related)
        text = position + (f"{quad[1]}" if position != "g" else "") + ident
        return _sha256(text)

    def _hash_n_degree(self, node: str, issuer: _Issuer) -> tuple[str, _Issuer]:
        self.budget.spend()
        hash_to_related: dict[str, list[str]] = defaultdict(list)
        for quad in self.by_node[node]:
            for term, position in ((quad[0], "s"), (quad[2], "o"), (quad[3], "g")):
                if term.startswith("_:") and term != node:
                    hash_to_related[self._hash_related(term, quad, issuer, position)].append(term)
        data = ""
        for related_hash in sorted(hash_to_related):
            data += related_hash
            chosen_path = ""
            chosen_issuer: _Issuer | None = None
            for permutation in itertools.permutations(hash_to_related[related_hash]):
                self.budget.spend()
                path, recursion, candidate = self._path_for(permutation, issuer, chosen_path)
                if path is None:
                    continue
                for related in recursion:
                    digest, result_issuer = self._hash_n_degree(related, candidate)
                    path += candidate.issue(related) + "<" + digest + ">"
                    candidate = result_issuer
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        break
                else:
                    if not chosen_path or path < chosen_path:
                        chosen_path, chosen_issuer = path, candidate
            data += chosen_path
            if chosen_issuer is not None:
                issuer = chosen_issuer
        return _sha256(data), issuer

    def _path_for(
        self, permutation: tuple[str, ...], issuer: _Issuer, chosen_path: str
    ) -> tuple[str | None, list[str], _Issuer]:
        candidate = issuer.copy()
        path = ""
        recursion: list[str] = []
        for related in permutation:
            if related in self.canonical.issued:
                path += self.canonical.issued[related]
            else:
                if related not in candidate.issued:
                    recursion.append(related)
                path += candidate.issue(related)
            if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                return None, recursion, candidate
        return path, recursion, candidate

    def _relabel(self) -> str:
        labels = self.canonical.issued
        lines = self.plain_lines
        for s, p, o, g in self.quads:
            lines.append(_line(labels.get(s, s), p, labels.get(o, o), labels.get(g, g)))
        lines.sort()
        return "".join(lines)


def canonicalize(quads: list[Quad], work_limit: int = DEFAULT_WORK_LIMIT) -> str:
    """Canonical N-Quads (sorted, deduplicated, canonical blank-node labels)."""
    return Canonicalizer(quads, work_limit).run()
