"""Digests of related resources (VCDM 2.0 section 5.3): digestSRI and digestMultibase.

A digest is computed over the exact bytes of the resource. Only resources this installation pins
(its contexts) can be checked offline; others are left to the checks that know them (a roll-up's
parts are verified as credentials of their own).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from microcred.errors import InputError
from microcred.standards.multibase import b58decode, b64url_decode

_SRI_ALGORITHMS = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_STRENGTH = ("sha256", "sha384", "sha512")
# digestMultibase is a multibase-encoded multihash in VC Data Integrity; the W3C suites and many
# issuers send the bare digest, which the length tells apart.
_MULTIHASH = {b"\x12\x20": "sha256", b"\x20\x30": "sha384", b"\x13\x40": "sha512"}
_BARE = {32: "sha256", 48: "sha384", 64: "sha512"}


def sri_matches(value: str, data: bytes) -> bool:
    """SRI: among the strongest algorithm listed, any one hash matching is enough."""
    hashes: dict[str, list[bytes]] = {}
    for expression in value.split():
        algorithm, _, encoded = expression.partition("-")
        if algorithm not in _SRI_ALGORITHMS:
            continue
        try:
            hashes.setdefault(algorithm, []).append(base64.b64decode(encoded.split("?")[0], validate=True))
        except (binascii.Error, ValueError):
            return False
    if not hashes:
        return False
    strongest = max(hashes, key=_STRENGTH.index)
    digest = _SRI_ALGORITHMS[strongest](data).digest()
    return digest in hashes[strongest]


def multibase_matches(value: str, data: bytes) -> bool:
    try:
        raw = _multibase_bytes(value)
    except InputError:
        return False
    algorithm = _MULTIHASH.get(raw[:2]) if len(raw) in (34, 50, 66) else None
    body = raw[2:] if algorithm else raw
    algorithm = algorithm or _BARE.get(len(raw))
    return algorithm is not None and _SRI_ALGORITHMS[algorithm](data).digest() == body


def _multibase_bytes(value: str) -> bytes:
    if len(value) < 2:
        raise InputError("empty multibase value")
    prefix, body = value[0], value[1:]
    try:
        if prefix == "u":
            return b64url_decode(body)
        if prefix == "z":
            return b58decode(body)
        if prefix in "mM":
            return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        if prefix in "fF":
            return bytes.fromhex(body)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"not a multibase value: {exc}") from exc
    raise InputError(f"unsupported multibase prefix {prefix!r}")


def resource_digest_problems(entry: dict[str, Any], data: bytes) -> list[str]:
    """What does not match in one relatedResource entry, checked against the resource's bytes."""
    problems = []
    sris = entry.get("digestSRI")
    for sri in sris if isinstance(sris, list) else [sris]:
        if isinstance(sri, str) and not sri_matches(sri, data):
            problems.append(f"digestSRI of {entry.get('id')} does not match the resource")
    multibases = entry.get("digestMultibase")
    for item in multibases if isinstance(multibases, list) else [multibases]:
        if isinstance(item, str) and not multibase_matches(item, data):
            problems.append(f"digestMultibase of {entry.get('id')} does not match the resource")
    return problems
