"""JSON-LD 1.1 context processing into immutable, cached active contexts.

Contexts are an allowlist of pinned documents, so each (active context, local
context) pair is processed once and the result reused for every credential:
this is what makes expansion cheap. The algorithms follow JSON-LD 1.1 API
sections 4.1 (context processing) and 4.2 (term definitions).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from microcred.errors import ContextError, JsonLdError
from microcred.standards.loader import DocumentLoader

KEYWORDS = frozenset(
    {
        "@base", "@container", "@context", "@default", "@direction", "@embed", "@explicit",
        "@graph", "@id", "@import", "@included", "@index", "@json", "@language", "@list",
        "@nest", "@none", "@omitDefault", "@prefix", "@preserve", "@propagate", "@protected",
        "@requireAll", "@reverse", "@set", "@type", "@value", "@version", "@vocab",
    }
)  # fmt: skip
_KEYWORD_LIKE = re.compile(r"^@[a-zA-Z]+$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:")
_GEN_DELIMS = frozenset(":/?#[]@")
_MAX_REMOTE_CONTEXTS = 32
UNSET: Any = object()
_SET_ONLY = frozenset({"@set"})


def is_keyword(value: str) -> bool:
    return value in KEYWORDS


def looks_like_keyword(value: str) -> bool:
    return bool(_KEYWORD_LIKE.match(value))


def is_absolute_iri(value: str) -> bool:
    return bool(_SCHEME.match(value))


@dataclass(slots=True, eq=False)
class TermDefinition:
    iri: str | None
    prefix: bool = False
    protected: bool = False
    reverse: bool = False
    type_mapping: str | None = None
    container: frozenset[str] = frozenset()
    language: Any = UNSET
    direction: Any = UNSET
    context: Any = UNSET
    base_url: str | None = None
    index: str | None = None
    nest: str | None = None

    @property
    def plain(self) -> bool:
        """Scalar values under this term need only Value Expansion (no container,
        scoped context, reverse or JSON-literal handling)."""
        return (
            not self.reverse
            and self.context is UNSET
            and self.type_mapping != "@json"
            and (not self.container or self.container == _SET_ONLY)
        )

    @property
    def whole_node(self) -> bool:
        """An object under this term is one node taken as it is (no container but @set, no reverse,
        not a JSON literal): what expand can stand in for with an rdf.Fragment."""
        return not self.reverse and self.type_mapping != "@json" and self.container <= _SET_ONLY

    def same_as(self, other: TermDefinition) -> bool:
        """Equality ignoring `protected` (JSON-LD 1.1 protected-term rule)."""
        return (
            self.iri == other.iri
            and self.prefix == other.prefix
            and self.reverse == other.reverse
            and self.type_mapping == other.type_mapping
            and self.container == other.container
            and _same(self.language, other.language)
            and _same(self.direction, other.direction)
            and _same(self.context, other.context)
            and self.index == other.index
            and self.nest == other.nest
        )


def _same(a: Any, b: Any) -> bool:
    if a is UNSET or b is UNSET:
        return a is b
    return bool(a == b)


@dataclass(slots=True, eq=False)
class ActiveContext:
    terms: dict[str, TermDefinition] = field(default_factory=dict)
    base: str | None = None
    original_base: str | None = None
    vocab: str | None = None
    language: str | None = None
    direction: str | None = None
    previous: ActiveContext | None = None
    has_protected: bool = False
    # Memo of vocab-relative IRI expansions; valid because a finished context never changes.
    vocab_cache: dict[str, str | None] = field(default_factory=dict)
    key_cache: dict[str, Any] = field(default_factory=dict)  # expand._key_meaning, same validity
    _aliases: dict[str, frozenset[str]] | None = None

    def aliases(self, keyword: str) -> frozenset[str]:
        """The keys that expand to `keyword` here (the keyword itself included)."""
        if self._aliases is None:
            found: dict[str, set[str]] = {}
            for term, definition in self.terms.items():
                if definition.iri is not None and definition.iri.startswith("@"):
                    found.setdefault(definition.iri, {definition.iri}).add(term)
            self._aliases = {k: frozenset(v) for k, v in found.items()}
        return self._aliases.get(keyword) or frozenset((keyword,))

    def expand_key(self, value: str) -> str | None:
        """expand_iri(value, vocab=True), memoized per context."""
        try:
            return self.vocab_cache[value]
        except KeyError:
            pass
        result = expand_iri(self, value, vocab=True)
        if len(self.vocab_cache) > 10_000:
            self.vocab_cache.clear()
        self.vocab_cache[value] = result
        return result

    def copy(self) -> ActiveContext:
        return ActiveContext(
            dict(self.terms), self.base, self.original_base, self.vocab,
            self.language, self.direction, self.previous, self.has_protected,
        )  # fmt: skip


class ContextProcessor:
    """Processes local contexts against active ones, memoizing every result.

    The cache key holds the objects themselves, so identities stay valid for
    as long as the cache lives. Document contexts are URLs or inline objects
    that the context policy accepted (keyed by their JSON), and scoped contexts
    come from pinned documents or those objects, so the cache stays bounded.
    """

    def __init__(self, loader: DocumentLoader, max_cache: int = 4096) -> None:
        self.loader = loader
        self._cache: dict[tuple[int, int, bool, bool], tuple[Any, Any, ActiveContext]] = {}
        self._url_cache: dict[tuple[int, tuple[str, ...], bool, bool], tuple[Any, ActiveContext]] = {}
        self._json_cache: dict[tuple[int, str, bool, bool], tuple[Any, ActiveContext]] = {}
        self._max_cache = max_cache
        self.initial = ActiveContext()

    def process(
        self,
        active: ActiveContext,
        local: Any,
        base_url: str | None,
        *,
        override_protected: bool = False,
        propagate: bool = True,
    ) -> ActiveContext:
        if isinstance(local, str) or (isinstance(local, list) and all(isinstance(item, str) for item in local)):
            # A document's @context is a fresh list every time: key URL lists by value.
            urls = (local,) if isinstance(local, str) else tuple(local)
            key_s = (id(active), urls, override_protected, propagate)
            return self._by_value(self._url_cache, key_s, active, local, base_url, override_protected, propagate)
        if isinstance(local, list) and not any(isinstance(item, list) for item in local):
            # A document's inline context objects are fresh every time too: key them by their JSON.
            key_j = (id(active), json.dumps(local, sort_keys=True), override_protected, propagate)
            return self._by_value(self._json_cache, key_j, active, local, base_url, override_protected, propagate)
        key = (id(active), id(local), override_protected, propagate)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is active and hit[1] is local:
            return hit[2]
        result = self._process(active, local, base_url, [], override_protected, propagate)
        self._remember(self._cache, key, (active, local, result))
        return result

    def _by_value(
        self,
        cache: dict[Any, tuple[Any, ActiveContext]],
        key: tuple[Any, ...],
        active: ActiveContext,
        local: Any,
        base_url: str | None,
        override_protected: bool,
        propagate: bool,
    ) -> ActiveContext:
        hit = cache.get(key)
        if hit is not None and hit[0] is active:
            return hit[1]
        result = self._process(active, local, base_url, [], override_protected, propagate)
        self._remember(cache, key, (active, result))
        return result

    def _remember(self, cache: dict[Any, Any], key: Any, value: Any) -> None:
        if len(cache) >= self._max_cache:
            cache.clear()
        cache[key] = value

    # JSON-LD 1.1 API 4.1.2
    def _process(
        self,
        active: ActiveContext,
        local: Any,
        base_url: str | None,
        remote: list[str],
        override_protected: bool,
        propagate: bool,
    ) -> ActiveContext:
        result = active.copy()
        if isinstance(local, dict) and "@propagate" in local:
            if not isinstance(local["@propagate"], bool):
                raise JsonLdError("invalid @propagate value")
            propagate = local["@propagate"]
        if not propagate and result.previous is None:
            result.previous = active
        items = local if isinstance(local, list) else [local]
        for context in items:
            result = self._process_one(result, context, base_url, remote, override_protected, propagate)
        return result

    def _process_one(
        self,
        result: ActiveContext,
        context: Any,
        base_url: str | None,
        remote: list[str],
        override_protected: bool,
        propagate: bool,
    ) -> ActiveContext:
        if context is None:
            if not override_protected and result.has_protected:
                raise JsonLdError("invalid context nullification: protected terms are defined")
            fresh = ActiveContext(base=result.original_base, original_base=result.original_base)
            if not propagate:
                fresh.previous = result.previous or result
            return fresh
        if isinstance(context, str):
            return self._process_remote(result, context, remote, override_protected)
        if isinstance(context, dict) and "@context" in context:
            # A context map may wrap its terms in @context, as a remote context document does
            # (JSON-LD 1.1 API 4.1.2 step 5.2.3 as pyld and jsonld.js implement it).
            context = context["@context"]
        if not isinstance(context, dict):
            raise JsonLdError("invalid local context: not a map, a URL or null")
        return self._process_map(result, context, base_url, remote, override_protected)

    def _process_remote(
        self, result: ActiveContext, url: str, remote: list[str], override_protected: bool
    ) -> ActiveContext:
        if url in remote:
            return result
        if len(remote) >= _MAX_REMOTE_CONTEXTS:
            raise JsonLdError("context overflow: too many nested remote contexts")
        pinned = self.loader.load(url)
        document = pinned.document
        if not isinstance(document, dict) or "@context" not in document:
            raise ContextError(f"remote context {url!r} has no @context")
        return self._process(result, document["@context"], url, [*remote, url], override_protected, True)

    def _process_map(
        self,
        result: ActiveContext,
        context: dict[str, Any],
        base_url: str | None,
        remote: list[str],
        override_protected: bool,
    ) -> ActiveContext:
        if "@version" in context and context["@version"] != 1.1:
            raise JsonLdError("invalid @version value")
        if "@import" in context:
            raise JsonLdError("@import is not supported")
        if "@base" in context and not remote:
            base = context["@base"]
            if base is None:
                result.base = None
            elif isinstance(base, str) and is_absolute_iri(base):
                result.base = base
            else:
                raise JsonLdError("invalid @base: only absolute IRIs are supported")
        if "@vocab" in context:
            vocab = context["@vocab"]
            if vocab is None:
                result.vocab = None
            elif isinstance(vocab, str):
                expanded = expand_iri(result, vocab, vocab=True, relative=True)
                if expanded is None or not (is_absolute_iri(expanded) or expanded.startswith("_:")):
                    raise JsonLdError("invalid @vocab mapping")
                result.vocab = expanded
            else:
                raise JsonLdError("invalid @vocab mapping")
        if "@language" in context:
            lang = context["@language"]
            if lang is not None and not isinstance(lang, str):
                raise JsonLdError("invalid default language")
            result.language = lang.lower() if isinstance(lang, str) else None
        if "@direction" in context:
            direction = context["@direction"]
            if direction not in (None, "ltr", "rtl"):
                raise JsonLdError("invalid base direction")
            result.direction = direction
        protected = context.get("@protected", False)
        if not isinstance(protected, bool):
            raise JsonLdError("invalid @protected value")
        defined: dict[str, bool] = {}
        builder = _TermBuilder(self, result, context, defined, base_url, protected, override_protected)
        for term in context:
            if term in ("@base", "@direction", "@import", "@language", "@propagate",
                        "@protected", "@version", "@vocab"):  # fmt: skip
                continue
            builder.define(term)
        return result


class _TermBuilder:
    """Create Term Definition (JSON-LD 1.1 API 4.2.2) for one local context."""

    def __init__(
        self,
        processor: ContextProcessor,
        active: ActiveContext,
        local: dict[str, Any],
        defined: dict[str, bool],
        base_url: str | None,
        protected: bool,
        override_protected: bool,
    ) -> None:
        self.processor = processor
        self.active = active
        self.local = local
        self.defined = defined
        self.base_url = base_url
        self.protected = protected
        self.override_protected = override_protected

    def define(self, term: str) -> None:
        if term in self.defined:
            if not self.defined[term]:
                raise JsonLdError(f"cyclic IRI mapping for term {term!r}")
            return
        if term == "":
            raise JsonLdError("invalid term definition: empty term")
        self.defined[term] = False
        value = self.local[term]
        if term == "@type":
            self._define_type_keyword(value)
            return
        if is_keyword(term):
            raise JsonLdError(f"keyword redefinition: {term}")
        if looks_like_keyword(term):
            self.defined[term] = True
            return
        previous = self.active.terms.pop(term, None)
        definition = self._build(term, value)
        self._check_protected(term, previous, definition)
        self.active.terms[term] = definition
        if definition.protected:
            self.active.has_protected = True
        self.defined[term] = True

    def _define_type_keyword(self, value: Any) -> None:
        if not isinstance(value, dict) or not set(value) <= {"@container", "@protected"}:
            raise JsonLdError("keyword redefinition: @type")
        if value.get("@container", "@set") != "@set":
            raise JsonLdError("keyword redefinition: @type container")
        previous = self.active.terms.get("@type")
        definition = TermDefinition(
            iri="@type",
            container=frozenset({"@set"}) if "@container" in value else frozenset(),
            protected=value.get("@protected", self.protected),
        )
        self._check_protected("@type", previous, definition)
        self.active.terms["@type"] = definition
        self.defined["@type"] = True

    def _check_protected(self, term: str, previous: TermDefinition | None, definition: TermDefinition) -> None:
        if previous is None or not previous.protected or self.override_protected:
            return
        if not definition.same_as(previous):
            raise JsonLdError(f"protected term redefinition: {term}")
        definition.protected = True

    def _build(self, term: str, value: Any) -> TermDefinition:
        simple = isinstance(value, str)
        if value is None:
            value = {"@id": None}
        elif simple:
            value = {"@id": value}
        if not isinstance(value, dict):
            raise JsonLdError(f"invalid term definition for {term!r}")
        definition = TermDefinition(iri=None, protected=value.get("@protected", self.protected))
        if not isinstance(definition.protected, bool):
            raise JsonLdError(f"invalid @protected value for {term!r}")
        if "@type" in value:
            definition.type_mapping = self._type_mapping(term, value["@type"])
        if "@reverse" in value:
            self._reverse(term, value, definition)
        else:
            self._iri_mapping(term, value, simple, definition)
        self._options(term, value, definition)
        return definition

    def _type_mapping(self, term: str, raw: Any) -> str:
        if not isinstance(raw, str):
            raise JsonLdError(f"invalid type mapping for {term!r}")
        mapped = expand_iri(self.active, raw, vocab=True, local=self.local, defined=self.defined, builder=self)
        if mapped not in ("@id", "@json", "@none", "@vocab") and not (mapped and is_absolute_iri(mapped)):
            raise JsonLdError(f"invalid type mapping for {term!r}")
        return mapped

    def _reverse(self, term: str, value: dict[str, Any], definition: TermDefinition) -> None:
        if "@id" in value or "@nest" in value or not isinstance(value["@reverse"], str):
            raise JsonLdError(f"invalid reverse property for {term!r}")
        iri = expand_iri(
            self.active, value["@reverse"], vocab=True, local=self.local, defined=self.defined, builder=self
        )
        if iri is None or ":" not in iri:
            raise JsonLdError(f"invalid IRI mapping for {term!r}")
        definition.iri = iri
        definition.reverse = True

    def _iri_mapping(self, term: str, value: dict[str, Any], simple: bool, definition: TermDefinition) -> None:
        if "@id" in value and value["@id"] != term:
            raw = value["@id"]
            if raw is None:
                definition.iri = None
                return
            if not isinstance(raw, str):
                raise JsonLdError(f"invalid IRI mapping for {term!r}")
            if not is_keyword(raw) and looks_like_keyword(raw):
                definition.iri = None
                return
            iri = expand_iri(self.active, raw, vocab=True, local=self.local, defined=self.defined, builder=self)
            if iri is None or not (is_keyword(iri) or ":" in iri):
                raise JsonLdError(f"invalid IRI mapping for {term!r}")
            if iri == "@context":
                raise JsonLdError("invalid keyword alias: @context")
            if ":" in term[1:-1] or "/" in term:
                self.defined[term] = True
                check = expand_iri(self.active, term, vocab=True, local=self.local, defined=self.defined, builder=self)
                if check != iri:
                    raise JsonLdError(f"invalid IRI mapping for {term!r}")
            definition.iri = iri
            if ":" not in term and "/" not in term and simple:
                definition.prefix = iri[-1] in _GEN_DELIMS or iri.startswith("_:")
            return
        if ":" in term[1:]:
            prefix, suffix = term.split(":", 1)
            if prefix in self.local:
                self.define(prefix)
            prefix_def = self.active.terms.get(prefix)
            if prefix_def is not None and prefix_def.iri is not None:
                definition.iri = prefix_def.iri + suffix
            else:
                definition.iri = term
            return
        if "/" in term:
            definition.iri = expand_iri(self.active, term, vocab=True)
            if definition.iri is None or not is_absolute_iri(definition.iri):
                raise JsonLdError(f"invalid IRI mapping for {term!r}")
            return
        if self.active.vocab is None:
            raise JsonLdError(f"invalid IRI mapping for {term!r}: no @vocab")
        definition.iri = self.active.vocab + term

    def _options(self, term: str, value: dict[str, Any], definition: TermDefinition) -> None:
        if "@container" in value:
            raw = value["@container"]
            items = raw if isinstance(raw, list) else [raw]
            allowed = {"@graph", "@id", "@index", "@language", "@list", "@set", "@type"}
            if not all(isinstance(c, str) and c in allowed for c in items):
                raise JsonLdError(f"invalid container mapping for {term!r}")
            definition.container = frozenset(items)
        if "@index" in value:
            if "@index" not in definition.container or not isinstance(value["@index"], str):
                raise JsonLdError(f"invalid term definition for {term!r}: @index")
            definition.index = value["@index"]
        if "@context" in value:
            definition.context = value["@context"]
            definition.base_url = self.base_url
        if "@language" in value and "@type" not in value:
            lang = value["@language"]
            if lang is not None and not isinstance(lang, str):
                raise JsonLdError(f"invalid language mapping for {term!r}")
            definition.language = lang.lower() if isinstance(lang, str) else None
        if "@direction" in value and "@type" not in value:
            if value["@direction"] not in (None, "ltr", "rtl"):
                raise JsonLdError(f"invalid base direction for {term!r}")
            definition.direction = value["@direction"]
        if "@nest" in value:
            raise JsonLdError(f"@nest is not supported (term {term!r})")
        if "@prefix" in value:
            if ":" in term or "/" in term or not isinstance(value["@prefix"], bool):
                raise JsonLdError(f"invalid @prefix for {term!r}")
            definition.prefix = value["@prefix"]


def expand_iri(
    active: ActiveContext,
    value: str,
    *,
    vocab: bool = False,
    relative: bool = False,
    local: dict[str, Any] | None = None,
    defined: dict[str, bool] | None = None,
    builder: _TermBuilder | None = None,
) -> str | None:
    """IRI Expansion (JSON-LD 1.1 API 5.2.2). Returns None for null mappings."""
    if is_keyword(value):
        return value
    if looks_like_keyword(value):
        return None
    if builder is not None and local is not None and defined is not None:
        if value in local and defined.get(value) is not True:
            builder.define(value)
    term = active.terms.get(value)
    if term is not None and is_keyword(term.iri or ""):
        return term.iri
    if vocab and term is not None:
        return term.iri
    colon = value.find(":", 1)
    if colon > 0:
        prefix, suffix = value[:colon], value[colon + 1 :]
        if prefix == "_" or suffix.startswith("//"):
            return value
        if builder is not None and local is not None and defined is not None:
            if prefix in local and defined.get(prefix) is not True:
                builder.define(prefix)
        prefix_def = active.terms.get(prefix)
        if prefix_def is not None and prefix_def.iri is not None and prefix_def.prefix:
            return prefix_def.iri + suffix
        if is_absolute_iri(value):
            return value
    if vocab and active.vocab is not None:
        return active.vocab + value
    if relative and active.base is not None:
        return resolve_relative(active.base, value)
    return value


def resolve_relative(base: str, value: str) -> str:
    from urllib.parse import urljoin

    return urljoin(base, value)


__all__ = [
    "UNSET",
    "ActiveContext",
    "ContextProcessor",
    "TermDefinition",
    "expand_iri",
    "is_absolute_iri",
    "is_keyword",
]
