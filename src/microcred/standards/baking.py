"""Baked badges (OB 3.0 section 5.3): a credential inside a PNG or SVG image.

PNG: an `iTXt` chunk with keyword `openbadgecredential` holding the JSON or the
compact JWT. SVG: an `openbadges:credential` element in the
`https://purl.imsglobal.org/ob/v3p0` namespace, holding the JSON as text or a
JWT in its `verify` attribute. Reading is capped in size, refuses DTDs (so no
entity expansion can happen) and never inflates compressed text past a cap.
"""

from __future__ import annotations

import re
import struct
import zlib
from typing import TYPE_CHECKING

from microcred.errors import BakingError
from microcred.standards.compression import inflate_capped

if TYPE_CHECKING:
    from xml.etree import ElementTree

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
KEYWORD = b"openbadgecredential"
OB_NS = "https://purl.imsglobal.org/ob/v3p0"
OB2_KEYWORD = b"openbadges"  # OB 2.0 baking: the assertion JSON, a compact JWS, or the hosted URL
OB2_NS = "http://openbadges.org"
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_CREDENTIAL_BYTES = 1_048_576
MAX_CHUNKS = 10_000


def _svg_root(data: bytes) -> ElementTree.Element:
    """The parsed SVG, refusing oversize documents and any DTD (so no entity expansion ever runs).
    The XML parser is imported here: most credentials are not images, and it costs every start."""
    from xml.etree import ElementTree

    if len(data) > MAX_IMAGE_BYTES:
        raise BakingError(f"the image is larger than {MAX_IMAGE_BYTES // 1_048_576} MB")
    if _DTD.search(data):
        raise BakingError("SVG documents with a DTD or entity declarations are refused")
    try:
        return ElementTree.fromstring(data)  # noqa: S314 - DTDs refused above, so no entities
    except ElementTree.ParseError as exc:
        raise BakingError(f"the SVG is not well-formed XML: {exc}") from exc


def is_png(data: bytes) -> bool:
    return data.startswith(PNG_SIGNATURE)


def is_svg(data: bytes) -> bool:
    head = data[:2048].lstrip().lower()
    return (head.startswith(b"<?xml") and b"<svg" in data[:4096].lower()) or head.startswith(b"<svg")


def _chunks(data: bytes) -> list[tuple[bytes, bytes, int]]:
    if len(data) > MAX_IMAGE_BYTES:
        raise BakingError(f"the image is larger than {MAX_IMAGE_BYTES // 1_048_576} MB")
    if not is_png(data):
        raise BakingError("not a PNG image")
    chunks: list[tuple[bytes, bytes, int]] = []
    pos = len(PNG_SIGNATURE)
    while pos < len(data):
        if pos + 8 > len(data) or len(chunks) >= MAX_CHUNKS:
            raise BakingError("truncated or malformed PNG")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise BakingError("truncated PNG chunk")
        body = data[pos + 8 : pos + 8 + length]
        if struct.unpack(">I", data[end - 4 : end])[0] != zlib.crc32(kind + body):
            raise BakingError(f"PNG chunk {kind.decode('latin-1')!r} has a bad CRC")
        chunks.append((kind, body, pos))
        pos = end
        if kind == b"IEND":
            break
    return chunks


def png_chunks(data: bytes) -> list[tuple[bytes, bytes, int]]:
    """The chunks of a PNG (kind, body, offset), checked for structure and CRCs."""
    chunks = _chunks(data)
    if not chunks or chunks[0][0] != b"IHDR" or chunks[-1][0] != b"IEND":
        raise BakingError("the PNG lacks its IHDR or IEND chunk")
    return chunks


def check_svg(data: bytes) -> None:
    """A well-formed SVG without DTDs or entities (so no expansion attack can be stored)."""
    root = _svg_root(data)
    if not root.tag.endswith("svg"):
        raise BakingError("the document is not an SVG")
    if re.search(rb"<script|\son[a-z]+\s*=", data, re.IGNORECASE):
        raise BakingError("SVG images with scripts or event handlers are refused")


def read_png(data: bytes) -> str:
    """The credential text baked into a PNG: an OB 3.0 credential, or else an OB 2.0 assertion (its JSON,
    its JWS, or the URL it is hosted at)."""
    chunks = _chunks(data)
    for keyword in (KEYWORD, OB2_KEYWORD):
        found = [body for kind, body, _ in chunks if kind == b"iTXt" and body.split(b"\0", 1)[0] == keyword]
        if len(found) > 1:
            raise BakingError("the PNG carries more than one baked credential")
        if found:
            return _itxt_text(found[0])
    # OB 2.0 (and the Mozilla Backpack before it) also baked into tEXt: keyword, NUL, Latin-1 text
    plain = [body for kind, body, _ in chunks if kind == b"tEXt" and body.split(b"\0", 1)[0] == OB2_KEYWORD]
    if len(plain) > 1:
        raise BakingError("the PNG carries more than one baked credential")
    if plain:
        text = plain[0].split(b"\0", 1)[1]
        if len(text) > MAX_CREDENTIAL_BYTES:
            raise BakingError("the baked credential is larger than 1 MB")
        return text.decode("latin-1")
    raise BakingError("the PNG carries no openbadgecredential (or OB 2.0 openbadges) iTXt chunk")


def _itxt_text(body: bytes) -> str:
    _keyword, _, rest = body.partition(b"\0")
    if len(rest) < 4 or rest[2:].count(b"\0") < 2:
        raise BakingError("malformed iTXt chunk")
    flag, method = rest[0], rest[1]
    _language, _, rest = rest[2:].partition(b"\0")
    _translated, _, text = rest.partition(b"\0")
    if flag == 1:
        if method != 0:
            raise BakingError("unknown iTXt compression method")
        text = _inflate_capped(text)
    if len(text) > MAX_CREDENTIAL_BYTES:
        raise BakingError("the baked credential is larger than 1 MB")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BakingError("the baked credential is not UTF-8") from exc


def _inflate_capped(data: bytes) -> bytes:
    try:
        out = inflate_capped(data, MAX_CREDENTIAL_BYTES)
    except zlib.error as exc:
        raise BakingError(f"the compressed iTXt chunk is corrupt: {exc}") from exc
    if out is None:
        raise BakingError("the compressed iTXt chunk inflates beyond 1 MB (a decompression bomb?)")
    return out


def bake_png(image: bytes, credential_text: str) -> bytes:
    """The image with the credential in an iTXt chunk just after IHDR (any old one replaced)."""
    chunks = _chunks(image)
    if not chunks or chunks[0][0] != b"IHDR":
        raise BakingError("the PNG does not start with IHDR")
    body = KEYWORD + b"\0\0\0\0\0" + credential_text.encode("utf-8")
    baked = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    out = [PNG_SIGNATURE]
    for kind, chunk_body, pos in chunks:
        if kind == b"iTXt" and chunk_body.split(b"\0", 1)[0] == KEYWORD:
            continue
        out.append(image[pos : pos + 12 + len(chunk_body)])
        if kind == b"IHDR":
            out.append(baked)
    return b"".join(out)


_DTD = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)


def read_svg(data: bytes) -> str:
    """The credential text baked into an SVG (element text or `verify` attribute)."""
    root = _svg_root(data)
    found = root.findall(f".//{{{OB_NS}}}credential") or root.findall(f".//{{{OB2_NS}}}assertion")
    if not found:
        raise BakingError("the SVG carries no openbadges:credential (or OB 2.0 openbadges:assertion) element")
    if len(found) > 1:
        raise BakingError("the SVG carries more than one baked credential")
    element = found[0]
    text = element.get("verify") or (element.text or "").strip()
    if not text:
        raise BakingError("the openbadges:credential element is empty")
    if len(text.encode("utf-8")) > MAX_CREDENTIAL_BYTES:
        raise BakingError("the baked credential is larger than 1 MB")
    return text


def bake_svg(svg: str, credential_text: str, *, jwt: bool = False) -> str:
    """The SVG with an openbadges:credential element as the first child of <svg>."""
    if _DTD.search(svg.encode("utf-8")):
        raise BakingError("SVG documents with a DTD are refused")
    match = re.search(r"<svg\b[^>]*>", svg)
    if match is None:
        raise BakingError("no <svg> element found")
    cleaned = re.sub(r"<openbadges:credential\b.*?(</openbadges:credential>|/>)", "", svg, flags=re.S)
    match = re.search(r"<svg\b[^>]*>", cleaned)
    assert match is not None
    tag = match.group(0)
    if "xmlns:openbadges" not in tag:
        tag = tag[:-1].rstrip("/") + f' xmlns:openbadges="{OB_NS}">'
    if jwt:
        element = f'<openbadges:credential verify="{credential_text}"/>'
    else:
        safe = credential_text.replace("]]>", "]]]]><![CDATA[>")
        element = f"<openbadges:credential><![CDATA[{safe}]]></openbadges:credential>"
    return cleaned[: match.start()] + tag + element + cleaned[match.end() :]
