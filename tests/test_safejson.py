"""Untrusted JSON: the depth guard counts what the parser would recurse into, in linear time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.errors import JsonInputError
from microcred.standards import safejson


def _depth_by_characters(text: str) -> int:
    """The deepest nesting, character by character (the guard's first form, kept as the oracle)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _rejected(text: str, max_depth: int) -> bool:
    try:
        safejson._check_depth(text, max_depth)
    except JsonInputError:
        return True
    return False


tricky = st.text(alphabet='[]{}"\\ab:,\n', max_size=12)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky, inner, max_size=3),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(values, st.integers(min_value=0, max_value=8), st.booleans())
def test_the_guard_agrees_with_a_character_walk_on_json(value: Any, max_depth: int, indented: bool) -> None:
    text = json.dumps(value, indent=2 if indented else None)
    assert _rejected(text, max_depth) == (_depth_by_characters(text) > max_depth)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='[]{}"\\a\n', max_size=60), st.integers(min_value=0, max_value=6))
def test_on_any_text_it_agrees_with_the_walk(text: str, max_depth: int) -> None:
    assert _rejected(text, max_depth) == (_depth_by_characters(text) > max_depth)


def test_brackets_inside_strings_do_not_count_and_real_nesting_does() -> None:
    assert safejson.parse(json.dumps({"name": "[" * 500 + '\\"{' * 100})) is not None
    with pytest.raises(JsonInputError, match="deeper than 64"):
        safejson.parse("[" * 65 + "]" * 65)
    assert safejson.parse("[" * 64 + "]" * 64) is not None


def test_an_unterminated_string_full_of_escaped_quotes_is_one_scan() -> None:
    # Each quote after the first would start a scan to the end with a required closing quote:
    # about 10^11 steps at this size. The whole suite would stall here if that came back.
    text = "[" * 70 + '"' + '\\"' * 300_000
    with pytest.raises(JsonInputError):
        safejson.parse(text)
