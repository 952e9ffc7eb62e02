"""The skills taxonomy this installation uses: the bundled ESCO + O*NET release, or one `skills import` loaded."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from microcred.domain.microcredentials import Skill
from microcred.domain.skills import OccupationRecord, SkillHit, SkillRecord, Taxonomy
from microcred.errors import InputError, UsageError
from microcred.services import taxonomy_build
from microcred.services.issuing import NotFound

_LOADED: dict[tuple[str, float], Taxonomy] = {}  # one copy per file per process: it is ~100 MB indexed
_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class ImportSummary:
    release: str
    skills: int
    occupations: int
    tools: int
    path: str


def _bundled() -> bytes:
    return resources.files("microcred.services").joinpath("data/taxonomy.json.gz").read_bytes()


class TaxonomyService:
    def __init__(self, override: Path, *, semantic: bool = False) -> None:
        self.override = override  # where `skills import` writes a newer release
        self.semantic = semantic  # extraction also by embeddings, when the extra is installed
        self._semantic: Any = None

    @property
    def taxonomy(self) -> Taxonomy:
        key = (str(self.override), self.override.stat().st_mtime) if self.override.is_file() else ("bundled", 0.0)
        found = _LOADED.get(key)
        if found is not None:
            return found
        with _LOCK:
            if key not in _LOADED:
                data = self.override.read_bytes() if key[0] != "bundled" else _bundled()
                _LOADED[key] = Taxonomy.from_bundle(taxonomy_build.decode(data))
            return _LOADED[key]

    def warm(self) -> None:
        """Build the search and extraction indexes now rather than on first use."""
        self.taxonomy.search("warm", 1)
        self.taxonomy.extract("warm")

    @property
    def attribution(self) -> list[str]:
        return self.taxonomy.attribution

    def search(self, query: str, limit: int = 10, framework: str | None = None) -> list[SkillHit]:
        return self.taxonomy.search(query, max(1, min(limit, 100)), framework)

    def extract(self, text: str, limit: int = 50, *, semantic: bool | None = None) -> list[SkillHit]:
        limit = max(1, min(limit, 200))
        if not (self.semantic if semantic is None else semantic):
            return self.taxonomy.extract(text, limit)
        return self._semantic_extractor().extract(text, limit)  # type: ignore[no-any-return]

    def _semantic_extractor(self) -> Any:
        with _LOCK:
            if self._semantic is None or self._semantic.taxonomy is not self.taxonomy:
                try:
                    from microcred.services.semantic import SemanticExtractor
                except ImportError as exc:
                    raise UsageError(
                        "semantic extraction needs the optional extra: pip install 'microcred[semantic]'"
                    ) from exc
                self._semantic = SemanticExtractor(self.taxonomy, self.override.parent / "semantic")
            return self._semantic

    def skill(self, uri: str) -> SkillRecord:
        found = self.taxonomy.skill(uri.strip())
        if found is None:
            raise NotFound(f"no skill {uri!r} in the taxonomy ({self.taxonomy.release})")
        return found

    def find_label(self, label: str) -> SkillRecord | None:
        wanted = label.strip().lower()
        return next((s for s in self.taxonomy.skills if s.label.lower() == wanted), None)

    def as_skill(self, uri: str) -> Skill:
        record = self.skill(uri)
        return Skill(uri=record.uri, label=record.label[:300], framework=record.framework)  # type: ignore[arg-type]

    def occupation(self, uri: str) -> OccupationRecord:
        found = self.taxonomy.occupations_by_uri.get(uri.strip())
        if found is None:
            raise NotFound(f"no occupation {uri!r} in the taxonomy ({self.taxonomy.release})")
        return found

    def occupation_skills(self, uri: str) -> tuple[list[SkillRecord], list[SkillRecord]]:
        self.occupation(uri)
        return self.taxonomy.occupation_skills(uri)

    def search_occupations(self, query: str, limit: int = 10) -> list[OccupationRecord]:
        return self.taxonomy.search_occupations(query, max(1, min(limit, 100)))

    def import_release(
        self, esco_dir: Path, onet_dir: Path | None, release: str, progress: Any = None
    ) -> ImportSummary:
        """Checks a newer release completely, then replaces the one in use in one step."""
        if not esco_dir.is_dir():
            raise InputError(f"{esco_dir} is not a folder")
        if onet_dir is not None and not onet_dir.is_dir():
            raise InputError(f"{onet_dir} is not a folder")
        bundle = taxonomy_build.build(esco_dir, onet_dir, release, progress)
        Taxonomy.from_bundle(bundle)
        taxonomy_build.write(bundle, self.override)
        tools = sum(1 for row in bundle["skills"] if row[6] == "O*NET")
        return ImportSummary(
            release, len(bundle["skills"]) - tools, len(bundle["occupations"]), tools, str(self.override)
        )

    def reset(self) -> None:
        """Back to the release bundled with microcred."""
        self.override.unlink(missing_ok=True)


def hit_json(hit: SkillHit) -> dict[str, Any]:
    s = hit.skill
    return {
        "uri": s.uri, "label": s.label, "framework": s.framework, "type": s.kind, "reuseLevel": s.reuse,
        "score": hit.score, "matched": hit.matched,
    }  # fmt: skip
