"""Reading a credential from whatever it arrived as: JSON-LD, a compact JWT, a baked PNG or SVG."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from microcred.errors import InputError
from microcred.standards import baking, safejson


@dataclass(slots=True)
class CredentialInput:
    credential: dict[str, Any] | None = None
    jwt: str | None = None
    format: str = "unknown"


def read_input(data: Any) -> CredentialInput:
    if isinstance(data, dict):
        return CredentialInput(credential=data, format="json-ld")
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, bytes):
        raise InputError("the input is not a document")
    if len(data) > baking.MAX_IMAGE_BYTES:
        raise InputError("the input is larger than the 10 MB image limit")
    if baking.is_png(data):
        return _from_text(baking.read_png(data), "png")
    if baking.is_svg(data):
        return _from_text(baking.read_svg(data), "svg")
    return _from_text(data, None)


def _from_text(text: str | bytes, image: str | None) -> CredentialInput:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    stripped = raw.strip()
    if stripped.startswith(b"{") or stripped.startswith(b"["):
        document = safejson.parse(raw)
        if not isinstance(document, dict):
            raise InputError("the document is JSON but not an object")
        return CredentialInput(credential=document, format=f"{image}+json-ld" if image else "json-ld")
    try:
        token = stripped.decode("ascii")
    except UnicodeDecodeError as exc:
        raise InputError("the input is neither JSON, a JWT, a PNG nor an SVG") from exc
    if looks_like_jwt(token):
        return CredentialInput(jwt=token, format=f"{image}+jwt" if image else "jwt")
    raise InputError("the input is neither JSON, a JWT, a PNG nor an SVG")


def looks_like_jwt(text: str) -> bool:
    """Compact JWS form: three base64url parts, header and payload not empty."""
    parts = text.strip().split(".")
    return len(parts) == 3 and all(parts[:2]) and all(_is_b64url(p) for p in parts)


def _is_b64url(part: str) -> bool:
    return all(c.isalnum() or c in "-_" for c in part)
