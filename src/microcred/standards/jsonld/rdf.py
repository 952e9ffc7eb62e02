"""Expanded JSON-LD to RDF quads (JSON-LD 1.1 API 7.2.2 and 8.1.2).

Quads are tuples of already-serialized N-Quads terms: `<iri>`, `_:label` or a
literal in canonical N-Quads form. Blank-node labels are kept as strings so the
canonicalizer can relabel them. Anything toRDF would silently drop (a relative
IRI subject, property, object or type) raises DataLossError instead.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from microcred.errors import DataLossError, JsonLdError, MicrocredError
from microcred.standards import jcs
from microcred.standards.jsonld.context import is_absolute_iri

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
_RDF_TYPE = f"<{RDF}type>"
_RDF_FIRST = f"<{RDF}first>"
_RDF_REST = f"<{RDF}rest>"
_RDF_NIL = f"<{RDF}nil>"

Quad = tuple[str, str, str, str]  # subject, predicate, object, graph ("" = default)

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def _escape_char(match: re.Match[str]) -> str:
    ch = match.group(0)
    return _ESCAPES.get(ch) or f"\\u{ord(ch):04X}"


def literal(value: str, datatype: str | None = None, language: str | None = None) -> str:
    """A literal in canonical N-Quads form (RDF 1.2 N-Quads canonical escaping)."""
    text = _NEEDS_ESCAPE.sub(_escape_char, value) if _NEEDS_ESCAPE.search(value) else value
    if language is not None:
        return f'"{text}"@{language}'
    if datatype is None or datatype == XSD + "string":
        return f'"{text}"'
    return f'"{text}"^^<{datatype}>'


def iri(value: str) -> str:
    if _IRI_FORBIDDEN.search(value):
        raise DataLossError(f"IRI {value!r} contains characters N-Quads cannot carry")
    return f"<{value}>"


@lru_cache(maxsize=16_384)
def absolute_iri_term(value: str) -> str:
    """`<value>` for an absolute IRI; DataLossError for anything toRDF would drop."""
    if not is_absolute_iri(value):
        raise DataLossError(f"{value!r} is not an absolute IRI and would be dropped")
    return iri(value)


class _Labeler:
    def __init__(self) -> None:
        self.map: dict[str, str] = {}
        self.counter = 0

    def label(self, old: str | None = None) -> str:
        if old is not None:
            found = self.map.get(old)
            if found is not None:
                return found
        new = f"_:b{self.counter}"
        self.counter += 1
        if old is not None:
            self.map[old] = new
        return new


_HERE = "\x00graph"  # in a fragment: the graph it is spliced into


@dataclass(frozen=True, slots=True)
class Fragment:
    """The quads of one expanded node object, to splice into any document that has the same subtree.

    `fixed` hold no blank node ("" for the graph the fragment lands in); `varying` hold blank nodes,
    labelled afresh at every splice (each occurrence of a node without an id is a node of its own), and
    the placeholder `_HERE` for that graph.
    """

    root: str
    fixed: tuple[Quad, ...]
    varying: tuple[Quad, ...]
    dropped: tuple[str, ...]


def fragment_of(expanded: Any, dropped: tuple[str, ...]) -> Fragment | None:
    """The fragment of an expanded node object, or None when it is not one or does not map to quads
    (the document's own mapping then raises the error in its place)."""
    if type(expanded) is not dict or "@value" in expanded or "@list" in expanded or "@set" in expanded:
        return None
    quads: list[Quad] = []
    graphs: dict[str, dict[str, dict[str, dict[str, None]]]] = {_HERE: {}}
    try:
        root = _NodeMapper(_Labeler(), graphs, quads).node(expanded, _HERE)
    except MicrocredError:
        return None
    _flush(graphs, quads)
    fixed: list[Quad] = []
    varying: list[Quad] = []
    for s, p, o, g in quads:
        if s[:2] == "_:" or o[:2] == "_:" or g[:2] == "_:":
            varying.append((s, p, o, g))
        else:
            fixed.append((s, p, o, "" if g == _HERE else g))
    return Fragment(root, tuple(fixed), tuple(varying), dropped)


def _flush(graphs: dict[str, dict[str, dict[str, dict[str, None]]]], quads: list[Quad]) -> None:
    for graph_name, nodes in graphs.items():
        for subject, properties in nodes.items():
            for predicate, objects in properties.items():
                for obj in objects:
                    quads.append((subject, predicate, obj, graph_name))


def to_quads(expanded: list[Any]) -> list[Quad]:
    """Node map generation then RDF deserialization, without the node map's
    intermediate JSON: the node map holds terms already in N-Quads form."""
    labeler = _Labeler()
    graphs: dict[str, dict[str, dict[str, dict[str, None]]]] = {"": {}}
    quads: list[Quad] = []
    _NodeMapper(labeler, graphs, quads).walk(expanded, "", None, None, None)
    _flush(graphs, quads)
    return quads


class _NodeMapper:
    def __init__(
        self, labeler: _Labeler, graphs: dict[str, dict[str, dict[str, dict[str, None]]]], quads: list[Quad]
    ) -> None:
        self.labeler = labeler
        self.graphs = graphs
        self.quads = quads

    def walk(self, element: Any, graph: str, subject: str | None, prop: str | None, out_list: list[str] | None) -> None:
        if isinstance(element, list):
            for item in element:
                self.walk(item, graph, subject, prop, out_list)
            return
        if "@value" in element:
            self._emit(graph, subject, prop, _value_term(element), out_list)
        elif "@list" in element:
            items: list[str] = []
            self.walk(element["@list"], graph, subject, prop, items)
            head = self._build_list(items, graph)
            if out_list is not None:
                out_list.append(head)
            else:
                self._add(graph, subject, prop, head)
        else:
            self._node(element, graph, subject, prop, out_list)

    def _build_list(self, items: list[str], graph: str) -> str:
        if not items:
            return _RDF_NIL
        nodes = [self.labeler.label() for _ in items]
        for i, (node, item) in enumerate(zip(nodes, items, strict=True)):
            self.quads.append((node, _RDF_FIRST, item, graph))
            rest = nodes[i + 1] if i + 1 < len(nodes) else _RDF_NIL
            self.quads.append((node, _RDF_REST, rest, graph))
        return nodes[0]

    def _node(
        self, element: dict[str, Any], graph: str, subject: str | None, prop: str | None, out_list: list[str] | None
    ) -> None:
        node_id = self.node(element, graph)
        if prop is not None:
            self._emit(graph, subject, prop, node_id, out_list)

    def node(self, element: dict[str, Any], graph: str) -> str:
        """Map one node object into `graph`; its subject term."""
        node_id = self._subject_term(element.get("@id"))
        nodes = self.graphs.setdefault(graph, {})
        node = nodes.setdefault(node_id, {})
        types = element.get("@type")
        if types:
            bucket = node.setdefault(_RDF_TYPE, {})
            for type_iri in types:
                bucket[self._type_term(type_iri)] = None
        if "@reverse" in element:
            for rev_prop, items in element["@reverse"].items():
                for item in items:
                    self._reverse(item, graph, node_id, iri(rev_prop))
        if "@graph" in element:
            self.walk(element["@graph"], node_id, None, None, None)
        if "@included" in element:
            self.walk(element["@included"], graph, None, None, None)
        for key, values in element.items():
            if key.startswith("@"):
                continue
            predicate = self._predicate_term(key)
            for item in values if isinstance(values, list) else [values]:
                kind = type(item)
                if kind is dict and "@value" in item:  # most objects: straight into this node's properties
                    node.setdefault(predicate, {})[_value_term(item)] = None
                elif kind is Fragment:
                    node.setdefault(predicate, {})[self._splice(item, graph)] = None
                else:
                    self.walk(item, graph, node_id, predicate, None)
        return node_id

    def _splice(self, fragment: Fragment, graph: str) -> str:
        """The fragment's quads into this dataset, its blank nodes labelled afresh; its root term."""
        if graph:
            self.quads.extend((s, p, o, graph if g == "" else g) for s, p, o, g in fragment.fixed)
        else:
            self.quads.extend(fragment.fixed)
        fresh: dict[str, str] = {}

        def term(value: str) -> str:
            if value[:2] != "_:":
                return value
            found = fresh.get(value)
            if found is None:
                found = fresh[value] = self.labeler.label()
            return found

        for s, p, o, g in fragment.varying:
            self.quads.append((term(s), p, term(o), graph if g == _HERE else term(g)))
        return term(fragment.root)

    def _reverse(self, item: dict[str, Any], graph: str, target: str, predicate: str) -> None:
        source = self._subject_term(item.get("@id"))
        self.graphs.setdefault(graph, {}).setdefault(source, {})
        self._add(graph, source, predicate, target)
        self._node({k: v for k, v in item.items() if k != "@id"} | {"@id": source}, graph, None, None, None)

    def _emit(self, graph: str, subject: str | None, prop: str | None, term: str, out_list: list[str] | None) -> None:
        if out_list is not None:
            out_list.append(term)
        elif subject is not None and prop is not None:
            self._add(graph, subject, prop, term)

    def _add(self, graph: str, subject: str | None, prop: str | None, term: str) -> None:
        if subject is None or prop is None:
            return
        # dict keys as an ordered set: RDF statements are never duplicated
        self.graphs[graph].setdefault(subject, {}).setdefault(prop, {})[term] = None

    def _subject_term(self, node_id: Any) -> str:
        if node_id is None:
            return self.labeler.label()
        if node_id.startswith("_:"):
            return self.labeler.label(node_id)
        return absolute_iri_term(node_id)

    def _type_term(self, type_iri: str) -> str:
        if type_iri.startswith("_:"):
            return self.labeler.label(type_iri)
        return absolute_iri_term(type_iri)

    def _predicate_term(self, key: str) -> str:
        if key.startswith("_:"):
            raise DataLossError(f"blank-node property {key!r} would be dropped")
        return absolute_iri_term(key)


def _value_term(item: dict[str, Any]) -> str:
    """Object to RDF Conversion (API 8.1.3) for value objects."""
    value = item["@value"]
    if len(item) == 1 and type(value) is str:
        return f'"{value}"' if _NEEDS_ESCAPE.search(value) is None else literal(value)
    datatype = item.get("@type")
    if datatype == "@json":
        return literal(jcs.canonicalize(value).decode("utf-8"), RDF + "JSON")
    if datatype is not None and not is_absolute_iri(datatype):
        raise DataLossError(f"datatype {datatype!r} is not an absolute IRI")
    if isinstance(value, bool):
        return literal("true" if value else "false", datatype or XSD + "boolean")
    if isinstance(value, (int, float)):
        return _number_term(value, datatype)
    if not isinstance(value, str):
        raise JsonLdError("invalid value object value")
    if "@language" in item:
        return literal(value, language=item["@language"])
    return literal(value, datatype)


def _number_term(value: float, datatype: str | None) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise JsonLdError("non-finite numbers cannot be expressed in RDF")
    is_double = (isinstance(value, float) and not value.is_integer()) or abs(value) >= 1e21
    if is_double or datatype == XSD + "double":
        return literal(canonical_double(float(value)), datatype or XSD + "double")
    return literal(str(int(value)), datatype or XSD + "integer")


def canonical_double(value: float) -> str:
    """xsd:double canonical form as JSON-LD produces it (`1.5E0`)."""
    text = f"{value:1.15E}"
    return re.sub(r"(\d)0*E\+?(-)?0*(\d)", r"\1E\2\3", text)
