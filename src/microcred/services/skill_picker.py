"""Skill suggestions for the designer: a bundled ESCO subset (the full taxonomy arrives with the skills issue)."""

from __future__ import annotations

import functools
import gzip
import json
from importlib import resources
from typing import Any


@functools.cache
def _skills() -> list[dict[str, Any]]:
    raw = resources.files("microcred.services").joinpath("data/esco_picker.json.gz").read_bytes()
    data = json.loads(gzip.decompress(raw))
    for skill in data["skills"]:
        skill["_search"] = " | ".join([skill["label"], *skill["alt"]]).lower()
    return data["skills"]  # type: ignore[no-any-return]


def search(query: str, limit: int = 10) -> list[dict[str, str]]:
    """Skills whose label or an alternative label contains every word of the query; label prefixes first."""
    words = query.lower().split()[:6]
    if not words or len(query) > 200:
        return []
    hits = [s for s in _skills() if all(w in s["_search"] for w in words)]
    hits.sort(key=lambda s: (not s["label"].lower().startswith(words[0]), len(s["label"])))
    return [{"uri": s["uri"], "label": s["label"], "framework": "ESCO"} for s in hits[:limit]]


def find(label: str) -> dict[str, str] | None:
    for skill in _skills():
        if skill["label"] == label:
            return {"uri": skill["uri"], "label": skill["label"], "framework": "ESCO"}
    return None
