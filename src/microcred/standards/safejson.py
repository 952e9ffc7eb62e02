"""Parsing untrusted JSON: size, depth and duplicate-key limits that never raise past here."""

from __future__ import annotations

import json
import re
from typing import Any

from microcred.errors import JsonInputError

MAX_BYTES = 1_048_576
MAX_DEPTH = 64


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)  # in C; only a short result means a key came twice
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonInputError(f"duplicate key {key!r} in a JSON object")
            seen.add(key)
    return result


def _constant(name: str) -> Any:
    raise JsonInputError(f"{name} is not valid JSON")


def parse(data: bytes | str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > max_bytes:
        raise JsonInputError(f"the document is {size:,} bytes; the limit is {max_bytes:,}")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JsonInputError(f"the document is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    _check_depth(data, max_depth)
    try:
        return json.loads(data, object_pairs_hook=_pairs, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise JsonInputError(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except (RecursionError, ValueError) as exc:
        raise JsonInputError(f"malformed JSON: {exc}") from exc


# A JSON string, closing quote optional: a match never fails, so an unterminated string costs one scan to
# the end, not one per quote after it (a required closing quote made '"' + '\\"' * n quadratic).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def _check_depth(text: str, max_depth: int) -> None:
    """Reject nesting deeper than `max_depth` before the parser recurses into it. Strings are cut out
    and only the brackets left are walked, in C but for the walk (a loop over every character cost
    about 60 ns each, 0.25 ms for a credential with many alignments)."""
    if text.count("[") + text.count("{") <= max_depth:
        return
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > max_depth:
                raise JsonInputError(f"the document nests deeper than {max_depth} levels")
        else:
            depth -= 1
