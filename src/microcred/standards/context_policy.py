"""Which `@context` values a credential may carry: pinned URLs, and inline objects that only add terms.

VCDM 2.0 section 4.3 allows context objects after the base context, and the W3C suites' own vectors
use them. An inline context is a part of the signed document that changes how the rest of it is
read, so it is accepted only when it cannot change the meaning of anything an earlier context
already defines:

- every term it defines (at any depth, scoped contexts included) is new: defined by no earlier
  context, pinned or inline, and only once. Redefining even an unprotected term lets two swapped
  definitions with swapped JSON values keep the N-Quads, and so the signature, identical while a
  JSON reader sees something else;
- no `@vocab`, `@base`, `@language`, `@direction`, `@import` or `@propagate`, which change how
  terms or values that are already defined are read;
- no keyword aliases and no null (dropped) terms;
- every term maps to an absolute URL;
- `@context` only at the top of the document: in a subtree only pinned URLs (embedded credentials
  such as endorsements and CLR contents are verified as documents of their own).

An operator who wants the strict policy sets `MICROCRED_INLINE_CONTEXTS=false`: pinned URLs only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from typing import Any

from microcred.errors import MicrocredError
from microcred.standards.jsonld.context import ActiveContext, ContextProcessor, is_keyword
from microcred.standards.model import Violation, is_url

RULE = "microcred context policy (docs/decisions.md)"
_SPEC = "VCDM 2.0 4.3 Contexts"
ALLOWED_CONTEXT_KEYWORDS = frozenset({"@protected", "@version"})
TERM_KEYS = frozenset(
    {"@id", "@type", "@container", "@context", "@reverse", "@protected", "@language", "@direction", "@prefix", "@index"}
)


class ContextPolicy:
    """Decides a document's contexts against one processor's pinned documents."""

    def __init__(self, contexts: ContextProcessor, *, allow_inline: bool = True) -> None:
        self.contexts = contexts
        self.allow_inline = allow_inline
        self._names: dict[str, frozenset[str]] = {}

    def violations(self, document: dict[str, Any]) -> list[Violation]:
        out = list(self._top_level(document.get("@context")))
        for key, value in document.items():
            # An eddsa-jcs-2022 proof repeats the document's @context; the proof check compares them.
            if key not in ("@context", "proof"):
                out += self._nested(value, f"$.{key}")
        return out

    def uses_inline(self, document: dict[str, Any]) -> bool:
        contexts = document.get("@context")
        return isinstance(contexts, list) and any(isinstance(item, dict) for item in contexts)

    # -- the top-level @context ------------------------------------------------
    def _top_level(self, contexts: Any) -> Iterator[Violation]:
        items = contexts if isinstance(contexts, list) else [contexts]
        if not any(isinstance(item, dict) for item in items):  # the common case: URLs only
            for i, item in enumerate(items):
                if isinstance(item, str) and not self.contexts.loader.knows(item):
                    yield Violation(
                        _SPEC, f"$['@context'][{i}]", f"context {item!r} is not on the allowlist of pinned contexts"
                    )
            return
        active = self.contexts.initial
        defined: set[str] = set()
        for i, item in enumerate(items):
            path = f"$['@context'][{i}]"
            if isinstance(item, str):
                if not self.contexts.loader.knows(item):
                    yield Violation(_SPEC, path, f"context {item!r} is not on the allowlist of pinned contexts")
                    continue
                defined |= self._names_in_url(item)
            elif isinstance(item, dict):
                if not self.allow_inline:
                    yield Violation(
                        RULE, path, "inline context objects are refused here (MICROCRED_INLINE_CONTEXTS=false)"
                    )
                    continue
                if i == 0:
                    continue  # the model check already says the base context comes first
                problems = list(self._additive(item, path, defined))
                if problems:
                    yield from problems
                    continue
            else:
                continue  # the model check names a number, null or list here
            try:
                active = self.contexts.process(active, item, None)
            except MicrocredError as exc:
                yield Violation(_SPEC, path, f"the context cannot be processed: {exc.message}")
                return
            if isinstance(item, dict):
                yield from self._term_iris(item, active, path)

    def _names_in_url(self, url: str) -> frozenset[str]:
        """Every term a pinned context defines, scoped contexts and the contexts it imports included."""
        found = self._names.get(url)
        if found is None:
            names: set[str] = set()
            with suppress(MicrocredError):  # processing reports a broken context
                _collect(self.contexts.loader.load(url).document.get("@context"), names, self.contexts, [url])
            found = self._names[url] = frozenset(names)
        return found

    def _additive(self, item: dict[str, Any], path: str, defined: set[str]) -> Iterator[Violation]:
        local = _terms_of(item)
        if not isinstance(local, dict):
            yield Violation(_SPEC, path, "a context object's @context must itself be a context object")
            return
        if "@context" in local:
            yield Violation(_SPEC, path, "a context object may wrap its terms in @context only once")
            return
        yield from self._context_map(local, path, defined)

    def _context_map(self, local: dict[str, Any], path: str, defined: set[str]) -> Iterator[Violation]:
        for key, value in local.items():
            where = f"{path}['{key}']"
            if key.startswith("@"):
                if key not in ALLOWED_CONTEXT_KEYWORDS:
                    yield Violation(
                        RULE,
                        where,
                        f"an inline context may only add terms: {key} changes how "
                        "terms that are already defined are read",
                    )
                elif key == "@version" and value != 1.1:
                    yield Violation(_SPEC, where, "@version must be 1.1")
                continue
            if key in defined:
                yield Violation(
                    RULE,
                    where,
                    f"the inline context redefines {key!r}, which an earlier context "
                    "defines: an inline context may only add terms",
                )
                continue
            defined.add(key)
            yield from self._term(key, value, where, defined)

    def _term(self, term: str, value: Any, where: str, defined: set[str]) -> Iterator[Violation]:
        if value is None:
            yield Violation(RULE, where, f"{term!r} is mapped to null: its values would be dropped from what is signed")
            return
        definition = {"@id": value} if isinstance(value, str) else value
        if not isinstance(definition, dict):
            yield Violation(_SPEC, where, f"the definition of {term!r} must be a string or an object")
            return
        unknown = sorted(set(definition) - TERM_KEYS)
        if unknown:
            yield Violation(_SPEC, where, f"the definition of {term!r} uses {unknown[0]}, which is not supported")
        target = definition.get("@id", definition.get("@reverse"))
        if isinstance(target, str) and is_keyword(target):
            yield Violation(RULE, where, f"{term!r} aliases the keyword {target}: a JSON reader would miss it")
        scoped = definition.get("@context")
        if isinstance(scoped, dict):
            yield from self._context_map(scoped, f"{where}['@context']", defined)
        elif scoped is not None:
            yield Violation(RULE, f"{where}['@context']", "a scoped context in an inline context must be an object")

    def _term_iris(self, item: dict[str, Any], active: ActiveContext, path: str) -> Iterator[Violation]:
        for key in _terms_of(item):
            definition = active.terms.get(key)
            if key.startswith("@") or definition is None:
                continue
            if not is_url(definition.iri):
                yield Violation(
                    "VCDM 2.0 4.5 Types",
                    f"{path}['{key}']",
                    f"{key!r} maps to {definition.iri!r}, which is not an absolute URL",
                )

    # -- @context below the top ------------------------------------------------------
    def _nested(self, value: Any, path: str) -> list[Violation]:
        out: list[Violation] = []
        if isinstance(value, list):
            for i, item in enumerate(value):
                out += self._nested(item, f"{path}[{i}]")
        elif isinstance(value, dict):
            for key, item in value.items():
                if key == "@context":
                    out += self._nested_context(item, f"{path}['@context']")
                else:
                    out += self._nested(item, f"{path}.{key}")
        return out

    def _nested_context(self, value: Any, path: str) -> list[Violation]:
        out = []
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                out.append(Violation(RULE, path, "inline context objects are accepted only in the top-level @context"))
            elif not isinstance(item, str):
                out.append(Violation(_SPEC, path, "a @context value must be a URL"))
            elif not self.contexts.loader.knows(item):
                out.append(Violation(_SPEC, path, f"context {item!r} is not on the allowlist of pinned contexts"))
        return out


def _terms_of(item: dict[str, Any]) -> Any:
    """The term definitions of a context object, which may wrap them in @context."""
    return item["@context"] if set(item) == {"@context"} else item


def _collect(context: Any, names: set[str], contexts: ContextProcessor, seen: list[str]) -> None:
    for item in context if isinstance(context, list) else [context]:
        if isinstance(item, str) and item not in seen and len(seen) < 32:
            seen.append(item)
            _collect(contexts.loader.load(item).document.get("@context"), names, contexts, seen)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key.startswith("@"):
                    continue
                names.add(key)
                if isinstance(value, dict) and "@context" in value:
                    _collect(value["@context"], names, contexts, seen)
