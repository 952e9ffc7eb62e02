"""Decompression with a hard output cap: the defence against zip bombs in PNGs and status lists."""

from __future__ import annotations

import zlib

ZLIB, GZIP = 15, 31  # zlib window bits: zlib stream, gzip member


def inflate_capped(data: bytes, limit: int, wbits: int = ZLIB) -> bytes | None:
    """The inflated bytes, or None when they would exceed `limit`. Raises zlib.error when corrupt."""
    decoder = zlib.decompressobj(wbits=wbits)
    out = decoder.decompress(data, limit + 1)
    if len(out) > limit or decoder.unconsumed_tail:
        return None
    return out
