"""Bitstring Status List 1.0: encode, decode and read entries.

The bitstring is GZIP-compressed and multibase base64url encoded (`u...`).
Index 0 is the most significant bit of the first byte.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from typing import Any

from microcred.errors import InputError, StatusListError
from microcred.standards.compression import GZIP, inflate_capped
from microcred.standards.multibase import b64url_decode, b64url_encode

MIN_ENTRIES = 131_072
MAX_DECODED_BYTES = 16 * 1024 * 1024  # 134M entries: far above any real list


class Bitstring:
    def __init__(self, size: int = MIN_ENTRIES, data: bytes | None = None) -> None:
        if size <= 0 or size % 8:
            raise StatusListError("a status list holds a positive multiple of 8 entries")
        self.size = size
        self.bits = bytearray(data if data is not None else size // 8)

    def get(self, index: int, status_size: int = 1) -> int:
        value = 0
        for offset in range(status_size):
            position = index * status_size + offset
            if position >= self.size:
                raise StatusListError(f"status index {index} is outside the list of {self.size // status_size} entries")
            value = (value << 1) | ((self.bits[position // 8] >> (7 - position % 8)) & 1)
        return value

    def set(self, index: int, value: bool) -> None:
        if not 0 <= index < self.size:
            raise StatusListError(f"status index {index} is outside the list")
        mask = 1 << (7 - index % 8)
        if value:
            self.bits[index // 8] |= mask
        else:
            self.bits[index // 8] &= ~mask & 0xFF

    def set_value(self, index: int, value: int, status_size: int = 1) -> None:
        """Write a `status_size`-bit value (most significant bit first) at entry `index`."""
        if not 0 <= value < 1 << status_size:
            raise StatusListError(f"status value {value} does not fit in {status_size} bit(s)")
        if not 0 <= index < self.size // status_size:
            raise StatusListError(f"status index {index} is outside the list")
        for offset in range(status_size):
            self.set(index * status_size + offset, bool(value >> (status_size - 1 - offset) & 1))

    def encode(self) -> str:
        return "u" + b64url_encode(gzip.compress(bytes(self.bits), mtime=0))

    @classmethod
    def decode(cls, encoded: str) -> Bitstring:
        if not isinstance(encoded, str) or not encoded:
            raise StatusListError("encodedList is missing")
        text = encoded[1:] if encoded[0] == "u" else encoded  # StatusList2021 lists carry no prefix
        try:
            compressed = b64url_decode(text)
        except InputError as exc:
            raise StatusListError("encodedList is not base64url") from exc
        data = _gunzip_capped(compressed)
        if not data:
            raise StatusListError("encodedList decodes to an empty list")
        return cls(len(data) * 8, data)


def _gunzip_capped(compressed: bytes) -> bytes:
    try:
        data = inflate_capped(compressed, MAX_DECODED_BYTES, GZIP)
    except zlib.error as exc:
        raise StatusListError(f"encodedList is not GZIP data: {exc}") from exc
    if data is None:
        raise StatusListError("encodedList expands beyond 16 MB")
    return data


@dataclass(frozen=True, slots=True)
class StatusEntry:
    id: str | None
    purpose: str
    index: int
    list_url: str
    status_size: int = 1


def parse_entry(entry: Any) -> StatusEntry:
    """A BitstringStatusListEntry (or StatusList2021Entry) from a credential."""
    if not isinstance(entry, dict):
        raise StatusListError("credentialStatus entry is not an object")
    if entry.get("type") not in ("BitstringStatusListEntry", "StatusList2021Entry"):
        raise StatusListError(f"unsupported credentialStatus type {entry.get('type')!r}")
    purpose = entry.get("statusPurpose")
    raw_index = entry.get("statusListIndex")
    url = entry.get("statusListCredential")
    if not isinstance(purpose, str) or not isinstance(url, str):
        raise StatusListError("credentialStatus needs statusPurpose and statusListCredential")
    if isinstance(raw_index, bool) or not isinstance(raw_index, (str, int)) or not str(raw_index).isdigit():
        raise StatusListError(f"statusListIndex {raw_index!r} is not a non-negative integer string")
    size = entry.get("statusSize", 1)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 8:
        raise StatusListError("statusSize must be an integer from 1 to 8")
    return StatusEntry(entry.get("id"), purpose, int(str(raw_index)[:12]), url, size)


def status_list_credential(
    list_url: str, issuer: str, purpose: str, bits: Bitstring, valid_from: str, valid_until: str | None = None
) -> dict[str, Any]:
    """An unsigned BitstringStatusListCredential."""
    credential: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": bits.encode(),
        },
    }
    if valid_until:
        credential["validUntil"] = valid_until
    return credential
