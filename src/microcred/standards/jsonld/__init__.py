"""JSON-LD to canonical N-Quads: compiled contexts, safe-mode expansion, RDFC-1.0."""

from __future__ import annotations

from typing import Any

from microcred.standards.jsonld.context import ContextProcessor
from microcred.standards.jsonld.expand import Expander
from microcred.standards.jsonld.rdf import Quad, to_quads
from microcred.standards.jsonld.rdfc import DEFAULT_WORK_LIMIT, canonicalize
from microcred.standards.loader import DocumentLoader


class JsonLdProcessor:
    """Expands and canonicalizes documents against one loader's contexts.

    Keep one per loader: its context cache is what makes repeated documents cheap.
    """

    def __init__(self, loader: DocumentLoader, work_limit: int = DEFAULT_WORK_LIMIT) -> None:
        self.loader = loader
        self.contexts = ContextProcessor(loader)
        self.expander = Expander(self.contexts)
        self.quad_expander = Expander(self.contexts, fragments=True)  # for quads only: see Expander
        self.work_limit = work_limit

    def expand(self, document: Any) -> list[Any]:
        return self.expander.expand(document)

    def to_quads(self, document: Any) -> list[Quad]:
        return to_quads(self.quad_expander.expand(document))

    def to_quads_reporting(self, document: Any) -> tuple[list[Quad], list[str]]:
        """Quads plus the tolerated undefined types dropped on the way."""
        expanded, dropped = self.quad_expander.expand_reporting(document)
        return to_quads(expanded), dropped

    def canonize_quads(self, quads: list[Quad]) -> str:
        return canonicalize(quads, self.work_limit)

    def canonize(self, document: Any) -> str:
        """RDFC-1.0 canonical N-Quads of a JSON-LD document (safe mode)."""
        return canonicalize(self.to_quads(document), self.work_limit)


__all__ = ["JsonLdProcessor", "Quad"]
