"""JSON Canonicalization Scheme (RFC 8785).

Fast path: documents with only strings, small integers, booleans and nulls
(nearly every credential) are serialized by the C JSON encoder, whose output
for those values is already RFC 8785 (sorted keys, minimal escaping). Anything
else (floats, integers beyond 2^53, keys that UTF-16 order would sort
differently) takes the exact pure-Python path.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from microcred.errors import JcsError

_MAX_SAFE = 2**53
_encode_string = json.encoder.encode_basestring
_fast = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value."""
    text = _try_fast(value)
    if text is None:
        simple = _simplify(value)
        text = _fast.encode(simple) if simple is not _COMPLEX else _serialize(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise JcsError("lone surrogates cannot be canonicalized (I-JSON)") from exc


_COMPLEX: Any = object()
# In compact JSON a number token follows ':', ',' or '['. A match may also come from
# string content; that only sends the value down the exact (slower) path.
_NUMBER_TOKEN = re.compile(r"[:,\[](-?[0-9][0-9.eE+\-]*)")
_SUSPECT_KEY_CHAR = re.compile("[\ue000-\U0010ffff]")


def _try_fast(value: Any) -> str | None:
    """The C encoder's output when it is provably RFC 8785 already, else None."""
    try:
        text = _fast.encode(value)
    except (TypeError, ValueError):
        return None
    for match in _NUMBER_TOKEN.finditer(text):
        token = match.group(1)
        if len(token) >= 16 or "." in token or "e" in token or "E" in token:
            return None
    if not text.isascii() and _SUSPECT_KEY_CHAR.search(text):
        return None
    if text[:1] not in "{[" and not isinstance(value, (str, bool, type(None))):
        return None  # a bare number: let the exact path format it
    return text


def _simplify(value: Any) -> Any:
    """`value` with floats in a form the C encoder prints exactly as ECMAScript
    does (a new container only where something changed), or _COMPLEX."""
    if isinstance(value, str) or value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_MAX_SAFE < value < _MAX_SAFE else _COMPLEX
    if isinstance(value, float):
        return _simple_float(value)
    if isinstance(value, dict):
        changed = False
        out = {}
        for key, item in value.items():
            if not isinstance(key, str) or _needs_utf16_sort(key):
                return _COMPLEX
            new = _simplify(item)
            if new is _COMPLEX:
                return _COMPLEX
            changed = changed or new is not item
            out[key] = new
        return out if changed else value
    if isinstance(value, list):
        items = [_simplify(item) for item in value]
        if any(item is _COMPLEX for item in items):
            return _COMPLEX
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return _COMPLEX


def _simple_float(value: float) -> Any:
    if value.is_integer():
        return int(value) if abs(value) < _MAX_SAFE else _COMPLEX  # ECMAScript prints 5.0 as 5
    text = repr(value)
    # Without an exponent, CPython's shortest round-trip digits are ECMAScript's.
    return value if "e" not in text and "n" not in text else _COMPLEX


def _needs_utf16_sort(key: str) -> bool:
    # Code-point order equals UTF-16 order except between astral characters
    # and U+E000..U+FFFF; only keys holding either can be ordered differently.
    return any(ord(ch) >= 0xE000 for ch in key)


def _serialize(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return str(_encode_string(value))
    if isinstance(value, (int, float)):
        return number_to_string(value)
    if isinstance(value, list):
        return "[" + ",".join(_serialize(v) for v in value) + "]"
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise JcsError("object keys must be strings")
        items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be"))
        return "{" + ",".join(f"{_encode_string(k)}:{_serialize(v)}" for k, v in items) + "}"
    raise JcsError(f"value of type {type(value).__name__} is not JSON")


def number_to_string(value: float) -> str:
    """ECMAScript Number.prototype.toString for an IEEE 754 double (RFC 8785 3.2.2.3)."""
    if isinstance(value, int):
        try:
            value = float(value)
        except OverflowError as exc:
            raise JcsError("integer out of IEEE 754 double range") from exc
    if not math.isfinite(value):
        raise JcsError("NaN and Infinity are not JSON numbers")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits, exponent = _shortest_digits(abs(value))
    n = exponent + 1  # position of the decimal point relative to the digits
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    exp = n - 1
    exp_text = f"e+{exp}" if exp >= 0 else f"e-{-exp}"
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return sign + mantissa + exp_text


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip significant digits and the decimal exponent of the first."""
    text = repr(value)  # CPython repr is the shortest round-trip form
    mantissa, _, exp_part = text.partition("e")
    exponent = int(exp_part) if exp_part else 0
    int_part, _, frac_part = mantissa.partition(".")
    if frac_part == "0":
        frac_part = ""
    raw = int_part + frac_part
    stripped = raw.lstrip("0")
    leading = len(raw) - len(stripped)
    digits = stripped.rstrip("0") or "0"
    return digits, exponent + len(int_part) - 1 - leading
