"""Builds the compact taxonomy bundle (ESCO + O*NET technology skills) from the published CSV files.

The same code makes the bundle shipped in the package (scripts/make_taxonomy_data.py) and the one
`microcred skills import` writes for a newer release, so both are read the same way.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from microcred.errors import InputError

FORMAT = 1
ESCO_ATTRIBUTION = "This service uses the ESCO classification of the European Commission."
ONET_ATTRIBUTION = (
    "This product includes information from the O*NET Database by the U.S. Department of Labor, Employment and "
    "Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA."
)
MODIFIED = "The data was modified: labels joined, descriptions left out, tool names given alternative labels."
ONET_URL = "https://www.onetonline.org/search/tech?s="
VENDORS = ("microsoft ", "oracle ", "adobe ", "google ", "amazon ", "ibm ", "apache ", "autodesk ", "atlassian ")

# The official ESCO download names and the names of ../shared's copy, for each file we read.
ESCO_FILES = {
    "skills": ("esco_skills.csv", "skills_en.csv"),
    "occupations": ("esco_occupations.csv", "occupations_en.csv"),
    "links": ("occupation_skills.csv", "occupationSkillRelations_en.csv", "occupationSkillRelations.csv"),
    "broader": ("skill_broader_relations.csv", "broaderRelationsSkillPillar_en.csv", "broaderRelationsSkillPillar.csv"),
    "groups": ("esco_skill_groups.csv", "skillGroups_en.csv"),
}
ONET_FILES = ("onet_technology_skills.csv", "Technology Skills.csv")
Progress = Callable[[str], None]


def _maybe(folder: Path, names: tuple[str, ...]) -> Path | None:
    return next((folder / name for name in names if (folder / name).is_file()), None)


def _find(folder: Path, names: tuple[str, ...]) -> Path:
    found = _maybe(folder, names)
    if found is None:
        raise InputError(f"{folder} has none of {', '.join(names)}")
    return found


def _rows(path: Path, needed: set[str]) -> Iterator[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = needed - set(reader.fieldnames or [])
            if missing:
                raise InputError(f"{path.name} lacks the columns {', '.join(sorted(missing))}")
            yield from reader
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name} is not UTF-8 text") from exc
    except csv.Error as exc:
        raise InputError(f"{path.name} is not a readable CSV file: {exc}") from exc


def _labels(cell: str) -> list[str]:
    """Multi-valued cells: newline-separated in the official files, `|`-joined in ../shared's copy."""
    return [label.strip() for label in re.split(r"[|\n]", cell or "") if label.strip()]


def build(esco_dir: Path, onet_dir: Path | None, release: str, progress: Progress | None = None) -> dict[str, Any]:
    say = progress or (lambda _step: None)
    say("skills")
    skills: list[list[Any]] = []
    index: dict[str, int] = {}
    needed = {"conceptUri", "preferredLabel", "altLabels", "skillType", "reuseLevel"}
    for row in _rows(_find(esco_dir, ESCO_FILES["skills"]), needed):
        uri, label = row["conceptUri"].strip(), row["preferredLabel"].strip()
        if not uri.startswith("http") or not label or uri in index:
            continue
        alts = [a for a in _labels(row["altLabels"]) if a != label]
        hidden = _labels(row.get("hiddenLabels", ""))
        kind = "knowledge" if row["skillType"].startswith("knowledge") else "skill"
        index[uri] = len(skills)
        skills.append([uri, label, alts, hidden, kind, row["reuseLevel"], "ESCO", 0, []])
    if len(skills) < 10:
        raise InputError("the skills file holds fewer than 10 skills; is it the right file?")
    say("groups and broader relations")
    groups = _groups(esco_dir)
    broader = _maybe(esco_dir, ESCO_FILES["broader"])
    if broader is not None:
        for row in _rows(broader, {"conceptUri", "broaderUri"}):
            at = index.get(row["conceptUri"])
            if at is not None:
                skills[at][8].append(row["broaderUri"])
    say("occupations")
    occupations = _occupations(esco_dir, index)
    if onet_dir is not None:
        say("O*NET technology skills")
        _add_onet(onet_dir, skills, index)
    return {
        "format": FORMAT, "release": release, "skills": skills, "occupations": occupations, "groups": groups,
        "attribution": [ESCO_ATTRIBUTION, *([ONET_ATTRIBUTION] if onet_dir else []), MODIFIED],
    }  # fmt: skip


def _groups(esco_dir: Path) -> dict[str, str]:
    path = _maybe(esco_dir, ESCO_FILES["groups"])
    if path is None:
        return {}
    return {row["conceptUri"]: row["preferredLabel"] for row in _rows(path, {"conceptUri", "preferredLabel"})}


def _occupations(esco_dir: Path, index: dict[str, int]) -> list[list[Any]]:
    links: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for row in _rows(_find(esco_dir, ESCO_FILES["links"]), {"occupationUri", "relationType", "skillUri"}):
        at = index.get(row["skillUri"])
        if at is not None:
            links[row["occupationUri"]][0 if row["relationType"] == "essential" else 1].append(at)
    occupations = []
    needed = {"conceptUri", "preferredLabel", "altLabels", "code"}
    for row in _rows(_find(esco_dir, ESCO_FILES["occupations"]), needed):
        essential, optional = links.get(row["conceptUri"], ([], []))
        alts = [a for a in _labels(row["altLabels"]) if a != row["preferredLabel"]]
        occupations.append([row["conceptUri"], row["preferredLabel"], alts, row["code"], essential, optional])
    return occupations


def _add_onet(onet_dir: Path, skills: list[list[Any]], index: dict[str, int]) -> None:
    tools: Counter[str] = Counter()
    hot: set[str] = set()
    commodity: dict[str, str] = {}
    for row in _rows(_find(onet_dir, ONET_FILES), {"technology", "commodity_title", "hot_technology"}):
        name = row["technology"].strip()
        if name:
            tools[name] += 1
            commodity.setdefault(name, row["commodity_title"])
            if row["hot_technology"] == "Y":
                hot.add(name)
    popularity = {name: count + (50 if name in hot else 0) for name, count in tools.items()}
    aliases = {name: tool_aliases(name) for name in tools}
    owner: dict[str, str] = {}  # an alias several tools share ("AWS") goes to the most used of them
    for name, names in aliases.items():
        for alias in names:
            if alias not in owner or popularity[name] > popularity[owner[alias]]:
                owner[alias] = name
    for name in sorted(tools):
        uri = ONET_URL + quote_plus(name)
        if uri in index:
            continue
        index[uri] = len(skills)
        own = [alias for alias in aliases[name] if owner[alias] == name]
        skills.append([uri, name, own, [], "tool", commodity[name], "O*NET", popularity[name], []])


def tool_aliases(name: str) -> list[str]:
    """Shorter names people use for a tool: without the vendor, without 'software', the acronym it carries."""
    aliases: list[str] = []
    lowered = name.lower()
    for vendor in VENDORS:
        if lowered.startswith(vendor) and len(name) > len(vendor) + 2 and " " not in name[len(vendor) :]:
            aliases.append(name[len(vendor) :])
    for candidate in [name, *aliases]:
        if candidate.lower().endswith(" software") and len(candidate) > 12:
            aliases.append(candidate[: -len(" software")])
    words = name.split()
    acronyms = [w for w in words if re.fullmatch(r"[A-Z][A-Z0-9]{1,6}", w)]
    if len(words) >= 3 and len(acronyms) == 1:
        aliases.append(acronyms[0])
    return list(dict.fromkeys(a.strip() for a in aliases if a.strip() and a.strip() != name))


def encode(bundle: dict[str, Any]) -> bytes:
    return gzip.compress(json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode(), 9, mtime=0)


def write(bundle: dict[str, Any], target: Path) -> None:
    """Atomically: a reader never sees half a taxonomy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(encode(bundle))
    os.replace(partial, target)


def decode(data: bytes) -> dict[str, Any]:
    try:
        bundle = json.load(io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(data)), encoding="utf-8"))
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"the taxonomy file is unreadable: {exc}") from exc
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise InputError("the taxonomy file is not in a format this version reads")
    return bundle
