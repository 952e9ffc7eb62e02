"""JSON-LD 1.1 expansion (API section 5.1.2) in safe mode.

Safe mode: a key that does not expand to an absolute IRI or a keyword, or a
type that does not, is an error instead of being silently dropped. That is the
data-loss detection the verification pipeline relies on: with credentials/v2
(no `@vocab`) a term added after signing would otherwise vanish from the
signed graph and the signature would still verify.
"""

from __future__ import annotations

import json
from typing import Any

from microcred.errors import DataLossError, JsonLdError
from microcred.standards.jsonld.context import (
    UNSET,
    ActiveContext,
    ContextProcessor,
    TermDefinition,
    expand_iri,
    is_absolute_iri,
    is_keyword,
)
from microcred.standards.jsonld.rdf import Fragment, fragment_of

_SCALARS = (str, int, float, bool)
_SCALAR_TYPES = frozenset(_SCALARS)


# Types OB 3.0 issuers commonly use without the extensions context that
# defines them. Processors without safe mode drop them silently, so signatures
# in the wild were made without them: they are dropped and reported, not fatal.
TOLERATED_UNDEFINED_TYPES = frozenset(
    {"1EdTechJsonSchemaValidator2019", "1EdTechRevocationList", "1EdTechCredentialRefresh"}
)


# Subtrees smaller than this are cheaper to expand than to look up; larger than the maximum are not
# kept (the memo's memory stays bounded: FRAGMENT_LIMIT entries of at most that size).
FRAGMENT_MIN_CHARS = 200
FRAGMENT_MAX_CHARS = 32_768
FRAGMENT_LIMIT = 512
# Looking a subtree up serializes it, and nested subtrees are serialized again at every level: past
# this many characters per document, the rest of it is expanded without looking (a deep document
# costs no more than about its own size again).
FRAGMENT_TEXT_BUDGET = 200_000
# A place (context, term, base) whose subtrees never came back is looked at only every so often after
# this many misses: a credential's subject differs in every credential of a cohort, and serializing it
# to find that out cost more than the rest of its lookups together.
FRAGMENT_COLD_AFTER = 16


class Expander:
    """Expansion; with `fragments`, for the quads only (canonicalization): a node object seen a second
    time under the same context and property comes back as the quads it maps to (rdf.Fragment), which
    is what makes a cohort of credentials that share an Achievement and an issuer cheap to sign and to
    verify. Plain expansion never returns fragments."""

    def __init__(self, processor: ContextProcessor, *, fragments: bool = False) -> None:
        self.processor = processor
        self.dropped: list[str] = []
        self.fragments = fragments
        # (id(active), key, base, text) -> (active, fragment or None); most recently used last.
        self._kept: dict[tuple[int, str, str | None, str], tuple[ActiveContext, Fragment | None]] = {}
        self._seen: dict[tuple[int, str, str | None, str], None] = {}
        self._misses: dict[tuple[int, str, str | None], int] = {}  # place -> lookups since its last hit
        self._budget = FRAGMENT_TEXT_BUDGET

    def expand_reporting(self, document: Any) -> tuple[list[Any], list[str]]:
        """Expansion plus the tolerated undefined types that were dropped."""
        self.dropped = []
        try:
            return self.expand(document), self.dropped
        finally:
            self.dropped = []

    def expand(self, document: Any) -> list[Any]:
        self._budget = FRAGMENT_TEXT_BUDGET
        result = self._expand(self.processor.initial, None, document, None, False)
        if result is None:
            return []
        if isinstance(result, dict) and set(result) == {"@graph"}:
            result = result["@graph"]
        return result if isinstance(result, list) else [result]

    def _expand(self, active: ActiveContext, prop: str | None, element: Any, base: str | None, from_map: bool) -> Any:
        if element is None:
            return None
        term = active.terms.get(prop) if prop is not None else None
        scoped = term.context if term is not None else UNSET
        if isinstance(element, _SCALARS):
            if prop is None or prop == "@graph":
                raise DataLossError("a free-floating value would be dropped")
            if scoped is not UNSET:
                active = self.processor.process(active, scoped, term.base_url, override_protected=True)  # type: ignore[union-attr]
            return _expand_value(active, prop, element)
        if isinstance(element, list):
            return self._expand_array(active, prop, element, base, from_map, term)
        if not isinstance(element, dict):
            raise JsonLdError("invalid JSON-LD element")
        return self._expand_object(active, prop, element, base, from_map, term, scoped)

    def _expand_array(
        self,
        active: ActiveContext,
        prop: str | None,
        element: list[Any],
        base: str | None,
        from_map: bool,
        term: TermDefinition | None,
    ) -> list[Any]:
        result: list[Any] = []
        is_list = term is not None and "@list" in term.container
        for item in element:
            expanded = self._expand(active, prop, item, base, from_map)
            if is_list and isinstance(expanded, list):
                expanded = {"@list": expanded}
            if expanded is None:
                continue
            if isinstance(expanded, list):
                result.extend(expanded)
            else:
                result.append(expanded)
        return result

    def _expand_object(
        self,
        active: ActiveContext,
        prop: str | None,
        element: dict[str, Any],
        base: str | None,
        from_map: bool,
        term: TermDefinition | None,
        scoped: Any,
    ) -> Any:
        if active.previous is not None and not from_map and not _keeps_context(active, element):
            active = active.previous
        if scoped is not UNSET:
            active = self.processor.process(active, scoped, term.base_url, override_protected=True)  # type: ignore[union-attr]
        if "@context" in element:
            active = self.processor.process(active, element["@context"], base)
        type_scoped = active
        active = self._apply_type_scoped(active, type_scoped, element)
        result: dict[str, Any] = {}
        self._expand_entries(active, type_scoped, prop, element, result, base)
        return _finish_object(result, prop)

    def _apply_type_scoped(
        self, active: ActiveContext, type_scoped: ActiveContext, element: dict[str, Any]
    ) -> ActiveContext:
        type_keys = [k for k in active.aliases("@type") if k in element]
        if len(type_keys) > 1:
            type_keys.sort()
        for key in type_keys:
            value = element[key]
            values = value if isinstance(value, list) else [value]
            for item in sorted(v for v in values if isinstance(v, str)):
                definition = type_scoped.terms.get(item)
                if definition is not None and definition.context is not UNSET:
                    active = self.processor.process(active, definition.context, definition.base_url, propagate=False)
        return active

    def _expand_entries(
        self,
        active: ActiveContext,
        type_scoped: ActiveContext,
        prop: str | None,
        element: dict[str, Any],
        result: dict[str, Any],
        base: str | None,
    ) -> None:
        meanings = active.key_cache
        for key, value in element.items():
            if key == "@context":
                continue
            meaning = meanings.get(key) or _key_meaning(active, key)
            expanded_prop, keyword, definition, plain, whole = meaning
            if keyword:
                self._expand_keyword(active, type_scoped, prop, key, expanded_prop, value, result, base)
            elif plain and type(value) in _SCALAR_TYPES:
                result.setdefault(expanded_prop, []).append(_expand_value_with(active, definition, value))
            elif whole and self.fragments and type(value) is dict and prop != "@reverse" and self._budget > 0:
                self._expand_node(active, key, expanded_prop, value, result, base)
            else:
                self._expand_property(active, key, expanded_prop, definition, value, result, base)

    def _expand_node(
        self, active: ActiveContext, key: str, expanded_prop: str, value: dict[str, Any], result: dict[str, Any],
        base: str | None,
    ) -> None:  # fmt: skip
        """A node object under a term without containers: its fragment when it was seen before."""
        place = (id(active), key, base)
        misses = self._misses.get(place, 0)
        cold = misses >= FRAGMENT_COLD_AFTER and misses % FRAGMENT_COLD_AFTER
        memo_key = None if cold else self._memo_key(active, key, base, value)
        kept = self._kept.pop(memo_key, None) if memo_key is not None else None
        if memo_key is not None and kept is not None and kept[0] is active:
            self._kept[memo_key] = kept  # most recently used
            if kept[1] is not None:
                self._misses[place] = 0
                self.dropped.extend(kept[1].dropped)
                result.setdefault(expanded_prop, []).append(kept[1])
                return
            memo_key = None  # known not to map to a fragment: expand it, nothing to record
        if len(self._misses) >= FRAGMENT_LIMIT and place not in self._misses:
            self._misses.clear()
        self._misses[place] = misses + 1
        before = len(self.dropped)
        expanded = self._expand(active, key, value, base, False)
        if memo_key is not None:
            if memo_key in self._seen:  # the second sighting: keep it (one-off subtrees never are)
                _bounded_add(self._kept, memo_key, (active, fragment_of(expanded, tuple(self.dropped[before:]))))
            else:
                _bounded_add(self._seen, memo_key, None)
        _append_expanded(result, expanded_prop, expanded)

    def _memo_key(
        self, active: ActiveContext, key: str, base: str | None, value: dict[str, Any]
    ) -> tuple[int, str, str | None, str] | None:
        """The subtree's key in the memo, or None for one that is never kept: too small to pay, too large
        to hold, not JSON data, or naming blank nodes (those labels are the whole document's)."""
        try:
            text = json.dumps(value)
        except (TypeError, ValueError, RecursionError):  # expansion says what is wrong with it
            return None
        self._budget -= len(text)
        if not FRAGMENT_MIN_CHARS <= len(text) <= FRAGMENT_MAX_CHARS or '"_:' in text:
            return None
        return (id(active), key, base, text)

    def _expand_keyword(
        self,
        active: ActiveContext,
        type_scoped: ActiveContext,
        prop: str | None,
        key: str,
        keyword: str,
        value: Any,
        result: dict[str, Any],
        base: str | None,
    ) -> None:
        if prop == "@reverse":
            raise JsonLdError("invalid reverse property map")
        if keyword in result and keyword not in ("@included", "@type"):
            raise JsonLdError(f"colliding keywords: {keyword}")
        handler = _KEYWORD_HANDLERS.get(keyword)
        if handler is None:
            raise JsonLdError(f"keyword {keyword} is not supported here")
        expanded = handler(self, active, type_scoped, prop, value, result, base)
        if expanded is not _SKIP:
            result[keyword] = expanded

    def _expand_property(
        self,
        active: ActiveContext,
        key: str,
        expanded_prop: str,
        definition: TermDefinition | None,
        value: Any,
        result: dict[str, Any],
        base: str | None,
    ) -> None:
        container = definition.container if definition is not None else frozenset()
        if definition is not None and definition.type_mapping == "@json":
            expanded: Any = {"@value": value, "@type": "@json"}
        elif "@language" in container and isinstance(value, dict):
            expanded = _expand_language_map(definition, value)  # type: ignore[arg-type]
        elif container & {"@index", "@type", "@id"} and isinstance(value, dict):
            raise JsonLdError(f"index, type and id maps are not supported (term {key!r})")
        else:
            expanded = self._expand(active, key, value, base, False)
        if expanded is None:
            return
        if "@list" in container and not (isinstance(expanded, dict) and "@list" in expanded):
            expanded = {"@list": expanded if isinstance(expanded, list) else [expanded]}
        if "@graph" in container and not container & {"@id", "@index"}:
            items = expanded if isinstance(expanded, list) else [expanded]
            expanded = [{"@graph": item if isinstance(item, list) else [item]} for item in items]
        if definition is not None and definition.reverse:
            _add_reverse(result, expanded_prop, expanded)
            return
        _append(result, expanded_prop, expanded)


_SKIP: Any = object()
_KEY_CACHE_LIMIT = 10_000


def _key_meaning(active: ActiveContext, key: str) -> tuple[str, bool, TermDefinition | None, bool, bool]:
    """What a key means in this context: its IRI or keyword, its definition, whether scalar values
    under it need only Value Expansion, and whether an object under it is a node taken whole (no
    container, reverse or JSON literal: what a fragment can stand for). Memoized per context (a
    finished context never changes); keys that would lose data raise every time, never memoized."""
    expanded_prop = active.expand_key(key)
    if expanded_prop is None or not (is_keyword(expanded_prop) or ":" in expanded_prop):
        raise DataLossError(f"property {key!r} is not defined by any context and would be dropped")
    keyword = is_keyword(expanded_prop)
    if not keyword and expanded_prop.startswith("_:"):
        raise DataLossError(f"property {key!r} expands to a blank node and would be dropped")
    definition = active.terms.get(key)
    meaning: tuple[str, bool, TermDefinition | None, bool, bool]
    if definition is None:
        meaning = (expanded_prop, keyword, None, True, True)
    else:
        meaning = (expanded_prop, keyword, definition, definition.plain, definition.whole_node)
    if len(active.key_cache) >= _KEY_CACHE_LIMIT:
        active.key_cache.clear()
    active.key_cache[key] = meaning
    return meaning


def _kw_id(
    exp: Expander, active: ActiveContext, ts: ActiveContext, prop: Any, value: Any, result: Any, base: Any
) -> Any:
    if not isinstance(value, str):
        raise JsonLdError("invalid @id value: not a string")
    return expand_iri(active, value, relative=True)


def _kw_type(
    exp: Expander, active: ActiveContext, ts: ActiveContext, prop: Any, value: Any, result: Any, base: Any
) -> Any:
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str) for v in values):
        raise JsonLdError("invalid type value: not a string")
    expanded = []
    for item in values:
        iri = ts.expand_key(item) if ts.base is None else expand_iri(ts, item, vocab=True, relative=True)
        if iri is None or not (is_absolute_iri(iri) or iri.startswith("_:") or iri in ("@json", "@none")):
            if item in TOLERATED_UNDEFINED_TYPES:
                exp.dropped.append(item)
                continue
            raise DataLossError(f"type {item!r} is not defined by any context and would be dropped")
        expanded.append(iri)
    if not expanded:
        return _SKIP
    if "@type" in result:
        previous = result["@type"]
        return [*(previous if isinstance(previous, list) else [previous]), *expanded]
    return expanded if isinstance(value, list) else expanded[0]


def _kw_graph(
    exp: Expander, active: ActiveContext, ts: ActiveContext, prop: Any, value: Any, result: Any, base: Any
) -> Any:
    expanded = exp._expand(active, "@graph", value, base, False)
    if expanded is None:
        return []
    return expanded if isinstance(expanded, list) else [expanded]


def _kw_included(
    exp: Expander, active: ActiveContext, ts: ActiveContext, prop: Any, value: Any, result: Any, base: Any
) -> Any:
    expanded = exp._expand(active, None, value, base, False)
    items = expanded if isinstance(expanded, list) else [expanded]
    if not all(isinstance(i, dict) and "@value" not in i and "@list" not in i for i in items):
        raise JsonLdError("invalid @included value")
    return [*result.get("@included", []), *items]


def _kw_value(
    exp: Expander, active: ActiveContext, ts: ActiveContext, prop: Any, value: Any, result: Any, base: Any
) -> Any:
    if value is not None and not isinstance(value, _SCALARS):
        raise JsonLdError("invalid value object value")
    return value


def _kw_language(
    exp: Expander, active: ActiveContext, ts: ActiveContext, prop: Any, value: Any, result: Any, base: Any
) -> Any:
    if not isinstance(value, str):
        raise JsonLdError("invalid language-tagged string")
    return value.lower()


def _kw_direction(
    exp: Expander, active: ActiveContext, ts: ActiveContext, prop: Any, value: Any, result: Any, base: Any
) -> Any:
    if value not in ("ltr", "rtl"):
        raise JsonLdError("invalid base direction")
    return value


def _kw_index(
    exp: Expander, active: ActiveContext, ts: ActiveContext, prop: Any, value: Any, result: Any, base: Any
) -> Any:
    if not isinstance(value, str):
        raise JsonLdError("invalid @index value")
    return value


def _kw_list(
    exp: Expander, active: ActiveContext, ts: ActiveContext, prop: Any, value: Any, result: Any, base: Any
) -> Any:
    if prop is None or prop == "@graph":
        raise DataLossError("a free-floating list would be dropped")
    expanded = exp._expand(active, prop, value, base, False)
    return expanded if isinstance(expanded, list) else ([] if expanded is None else [expanded])


def _kw_set(
    exp: Expander, active: ActiveContext, ts: ActiveContext, prop: Any, value: Any, result: Any, base: Any
) -> Any:
    return exp._expand(active, prop, value, base, False)


def _kw_reverse(
    exp: Expander, active: ActiveContext, ts: ActiveContext, prop: Any, value: Any, result: Any, base: Any
) -> Any:
    if not isinstance(value, dict):
        raise JsonLdError("invalid @reverse value")
    expanded = exp._expand(active, "@reverse", value, base, False)
    for iri, items in expanded.items():
        for item in items:
            if isinstance(item, dict) and ("@value" in item or "@list" in item):
                raise JsonLdError("invalid reverse property value")
        _add_reverse(result, iri, items)
    return _SKIP


def _kw_ignored(
    exp: Expander, active: ActiveContext, ts: ActiveContext, prop: Any, value: Any, result: Any, base: Any
) -> Any:
    raise JsonLdError("framing keywords are not allowed in a credential")


_KEYWORD_HANDLERS = {
    "@id": _kw_id,
    "@type": _kw_type,
    "@graph": _kw_graph,
    "@included": _kw_included,
    "@value": _kw_value,
    "@language": _kw_language,
    "@direction": _kw_direction,
    "@index": _kw_index,
    "@list": _kw_list,
    "@set": _kw_set,
    "@reverse": _kw_reverse,
    "@default": _kw_ignored,
    "@embed": _kw_ignored,
    "@explicit": _kw_ignored,
}


def _keeps_context(active: ActiveContext, element: dict[str, Any]) -> bool:
    """True for value objects and bare `{"@id": ...}` references (API 5.1.2 step 7)."""
    if not active.aliases("@value").isdisjoint(element):
        return True
    return len(element) == 1 and next(iter(element)) in active.aliases("@id")


def _expand_value(active: ActiveContext, prop: str, value: Any) -> dict[str, Any]:
    """Value Expansion (API 5.3.2)."""
    return _expand_value_with(active, active.terms.get(prop), value)


def _expand_value_with(active: ActiveContext, definition: TermDefinition | None, value: Any) -> dict[str, Any]:
    type_mapping = definition.type_mapping if definition is not None else None
    if type_mapping == "@id" and isinstance(value, str):
        return {"@id": expand_iri(active, value, relative=True)}
    if type_mapping == "@vocab" and isinstance(value, str):
        return {
            "@id": active.expand_key(value)
            if active.base is None
            else expand_iri(active, value, vocab=True, relative=True)
        }
    result: dict[str, Any] = {"@value": value}
    if type_mapping is not None and type_mapping not in ("@id", "@vocab", "@none"):
        result["@type"] = type_mapping
    elif isinstance(value, str):
        language = (
            definition.language if definition is not None and definition.language is not UNSET else active.language
        )
        direction = (
            definition.direction if definition is not None and definition.direction is not UNSET else active.direction
        )
        if language is not None:
            result["@language"] = language
        if direction is not None:
            result["@direction"] = direction
    return result


def _expand_language_map(definition: TermDefinition, value: dict[str, Any]) -> list[Any]:
    result = []
    direction = definition.direction if definition.direction is not UNSET else None
    for language in sorted(value):
        items = value[language] if isinstance(value[language], list) else [value[language]]
        for item in items:
            if item is None:
                continue
            if not isinstance(item, str):
                raise JsonLdError("invalid language map value")
            entry: dict[str, Any] = {"@value": item}
            if language != "@none":
                entry["@language"] = language.lower()
            if direction is not None:
                entry["@direction"] = direction
            result.append(entry)
    return result


def _append_expanded(result: dict[str, Any], key: str, expanded: Any) -> None:
    if expanded is not None:
        _append(result, key, expanded)


def _bounded_add(memo: dict[Any, Any], key: Any, value: Any) -> None:
    """Insert as most recently used, dropping the least recently used past FRAGMENT_LIMIT."""
    memo[key] = value
    while len(memo) > FRAGMENT_LIMIT:
        try:
            del memo[next(iter(memo))]
        except (StopIteration, RuntimeError, KeyError):  # another thread got there first
            break


def _append(result: dict[str, Any], key: str, value: Any) -> None:
    bucket = result.setdefault(key, [])
    if isinstance(value, list):
        bucket.extend(value)
    else:
        bucket.append(value)


def _add_reverse(result: dict[str, Any], key: str, value: Any) -> None:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict) and ("@value" in item or "@list" in item):
            raise JsonLdError("invalid reverse property value")
    _append(result.setdefault("@reverse", {}), key, items)


def _finish_object(result: dict[str, Any], prop: str | None) -> Any:
    if "@value" in result:
        return _finish_value(result)
    if "@type" in result and not isinstance(result["@type"], list):
        result["@type"] = [result["@type"]]
    if "@set" in result or "@list" in result:
        keys = set(result) - {"@index"}
        if len(keys) > 1:
            raise JsonLdError("invalid set or list object")
        if "@set" in result:
            return result["@set"]
    if len(result) == 1 and "@language" in result:
        return None
    if prop is None or prop == "@graph":
        if not result or "@value" in result or "@list" in result:
            return None
        if set(result) == {"@id"}:
            return None
    return result


def _finish_value(result: dict[str, Any]) -> Any:
    allowed = {"@value", "@type", "@language", "@direction", "@index"}
    if not set(result) <= allowed:
        raise JsonLdError("invalid value object")
    if "@type" in result and ("@language" in result or "@direction" in result):
        raise JsonLdError("invalid value object: both @type and @language")
    value = result["@value"]
    if value is None:
        return None
    if result.get("@type") == "@json":
        return result
    if "@language" in result and not isinstance(value, str):
        raise JsonLdError("invalid language-tagged value")
    if "@type" in result and not isinstance(result["@type"], str):
        raise JsonLdError("invalid typed value")
    return result
