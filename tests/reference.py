"""pyld as the reference JSON-LD implementation (tests and benchmarks only)."""

from __future__ import annotations

import json
from typing import Any

from pyld import jsonld

from microcred.standards.loader import DocumentLoader


def pyld_loader(loader: DocumentLoader) -> Any:
    def load(url: str, options: Any = None) -> dict[str, Any]:
        pinned = loader.load(url)
        # "tag": "static" keeps pyld's context cache (1.4x faster): fair to the reference
        return {"contextUrl": None, "documentUrl": url, "document": pinned.document, "tag": "static"}

    return load


def pyld_canonize(document: Any, loader: DocumentLoader) -> str:
    # base None: otherwise pyld 3.3 turns undefined types into extra triples (see ARCHITECTURE.md)
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": pyld_loader(loader),
        "base": None,
    }
    result: str = jsonld.normalize(json.loads(json.dumps(document)), options)
    return result
