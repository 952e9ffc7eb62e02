"""jsontext.pretty writes exactly what json.dumps(indent=2, ensure_ascii=False) writes."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.standards.jsontext import pretty

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text()
_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5), max_leaves=40
)


def _reference(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@given(_values)
@settings(max_examples=400, deadline=None)
def test_same_text_as_json_dumps(value: Any) -> None:
    assert pretty(value) == _reference(value)


def test_edge_values() -> None:
    samples: list[Any] = [
        {}, [], {"a": []}, {"a": {}}, [[[]]], "", "é\u2028\x00\"\\/", 10**30, -0.0, 1e300, 1e-7,
        float("nan"), float("-inf"), {"nested": [{"k": [1, 2.5, None, True, False]}]},
    ]  # fmt: skip
    for value in samples:
        assert pretty(value) == _reference(value)


def test_credential(unsigned_credential: dict[str, Any]) -> None:
    assert pretty(unsigned_credential) == _reference(unsigned_credential)


def test_what_is_not_plain_json_goes_to_the_standard_encoder() -> None:
    class Score(int):
        def __repr__(self) -> str:
            return "a score"

    odd: list[Any] = [{1: "int key"}, (1, 2), OrderedDict(a=1), [Score(3)], {"t": (None,)}]
    for value in odd:
        assert pretty(value) == _reference(value)
    looped: list[Any] = []
    looped.append(looped)
    try:
        pretty(looped)
    except ValueError as exc:
        assert "Circular" in str(exc)
    else:
        raise AssertionError("a cycle is refused as json.dumps refuses it")
