"""Multibase encodings used by Data Integrity: base58-btc (`z`) and base64url (`u`)."""

from __future__ import annotations

import base64

from microcred.errors import InputError

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {ch: i for i, ch in enumerate(_ALPHABET)}
_MAX_ENCODED = 16_384


_CHUNK = 58**10  # ten base58 digits per big-integer division
_PAIRS = [_ALPHABET[i // 58] + _ALPHABET[i % 58] for i in range(58 * 58)]


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    chunks: list[str] = []
    while number:
        number, chunk = divmod(number, _CHUNK)
        c1, p5 = divmod(chunk, 3364)
        c2, p4 = divmod(c1, 3364)
        c3, p3 = divmod(c2, 3364)
        p1, p2 = divmod(c3, 3364)
        chunks.append(_PAIRS[p1] + _PAIRS[p2] + _PAIRS[p3] + _PAIRS[p4] + _PAIRS[p5])
    digits = "".join(reversed(chunks)).lstrip("1")  # the top chunk's leading zeros
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + digits


def b58decode(text: str) -> bytes:
    if len(text) > _MAX_ENCODED:
        raise InputError("base58 value too long")
    number = 0
    for ch in text:
        digit = _INDEX.get(ch)
        if digit is None:
            raise InputError(f"invalid base58 character {ch!r}")
        number = number * 58 + digit
    pad = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * pad + body


def encode_base58btc(data: bytes) -> str:
    return "z" + b58encode(data)


def decode_base58btc(value: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("z"):
        raise InputError("expected a base58-btc multibase value (leading 'z')")
    return b58decode(value[1:])


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or any(c not in _B64URL for c in text):
        raise InputError("invalid base64url value")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise InputError("invalid base64url value") from exc


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
