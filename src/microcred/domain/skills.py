"""The skills taxonomy in memory: lookup, typo-tolerant search and skill extraction from text.

Pure: the taxonomy arrives as the decoded bundle (services/taxonomy_build.py writes it). Matching works
on normalised tokens; a light suffix stemmer makes "managing projects" meet "manage project", and
tokens keep `+`, `#` and inner dots so C++, C# and Node.js survive.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

TOKEN = re.compile(r"\.?[a-z0-9][a-z0-9+#]*(?:\.[a-z0-9]+)*")
PARENTHESES = re.compile(r"\s*\([^)]*\)")
LABEL_WEIGHT = {"preferred": 1.0, "alternative": 0.85, "short": 0.8, "hidden": 0.6}
DETERMINERS = frozenset({"a", "an", "the", "your", "their", "our", "his", "her", "its", "my"})
ACRONYM = re.compile(r"[A-Z][A-Z0-9]{1,4}")  # "IT", "HR": they match the text only in capitals, never "it"
GENERIC_DF = 25  # a one-word label whose word is part of this many labels is too generic to extract alone
MAX_QUERY = 200


@dataclass(frozen=True, slots=True)
class SkillRecord:
    uri: str
    label: str
    alt_labels: tuple[str, ...]
    hidden_labels: tuple[str, ...]
    kind: str  # skill, knowledge or tool
    reuse: str  # ESCO reuse level, or the O*NET commodity of a tool
    framework: str  # ESCO or O*NET
    popularity: int
    broader: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OccupationRecord:
    uri: str
    label: str
    alt_labels: tuple[str, ...]
    code: str
    essential: tuple[int, ...]  # skill positions
    optional: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SkillHit:
    skill: SkillRecord
    score: float
    matched: str  # the label (search) or text (extraction) that matched


def normalise(text: str, *, lower: bool = True) -> str:
    if text.isascii():
        return text.lower() if lower else text
    decomposed = unicodedata.normalize("NFKD", text.lower() if lower else text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    return TOKEN.findall(normalise(text))


@functools.lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    """Strips inflections (plural, -ing, -ed, final e) so word forms meet; derivations (-ment, -tion) stay."""
    if len(token) <= 3 or not token.isalpha():
        return token
    for suffix, replacement, minimum in (("ies", "y", 5), ("sses", "ss", 5), ("ing", "", 6), ("ed", "", 5)):
        if token.endswith(suffix) and len(token) >= minimum:
            token = token[: -len(suffix)] + replacement
            if suffix in {"ing", "ed"} and len(token) > 3 and token[-1] == token[-2] and token[-1] not in "lsz":
                token = token[:-1]
            break
    else:
        if token.endswith(("ches", "shes", "xes", "zes")) and len(token) > 5:
            token = token[:-2]
        elif token.endswith("s") and not token.endswith(("ss", "us", "is")) and len(token) > 4:
            token = token[:-1]
    if token.endswith("e") and len(token) > 4:
        token = token[:-1]
    return token


def stems(text: str) -> tuple[str, ...]:
    return tuple(stem(t) for t in tokens(text))


def phrase_key(text: str) -> tuple[str, ...]:
    """Stems without determiners, so "manage your time" meets "manage time"."""
    key = stems(text)
    return tuple(w for w in key if w not in DETERMINERS) or key


CASED = re.compile(TOKEN.pattern, re.IGNORECASE)


def _deletes(token: str) -> set[str]:
    return {token[:i] + token[i + 1 :] for i in range(len(token))}


@dataclass
class Taxonomy:
    release: str
    skills: list[SkillRecord]
    occupations: list[OccupationRecord]
    groups: dict[str, str]
    attribution: list[str]
    by_uri: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_bundle(cls, bundle: dict[str, Any]) -> Taxonomy:
        skills = [
            SkillRecord(r[0], r[1], tuple(r[2]), tuple(r[3]), r[4], r[5], r[6], int(r[7]), tuple(r[8]))
            for r in bundle["skills"]
        ]
        occupations = [
            OccupationRecord(r[0], r[1], tuple(r[2]), r[3], tuple(r[4]), tuple(r[5])) for r in bundle["occupations"]
        ]
        taxonomy = cls(
            bundle.get("release", ""),
            skills,
            occupations,
            dict(bundle.get("groups", {})),
            list(bundle.get("attribution", [])),
        )
        taxonomy.by_uri = {s.uri: i for i, s in enumerate(skills)}
        return taxonomy  # fmt: skip

    def skill(self, uri: str) -> SkillRecord | None:
        at = self.by_uri.get(uri)
        return None if at is None else self.skills[at]

    @cached_property
    def occupations_by_uri(self) -> dict[str, OccupationRecord]:
        return {o.uri: o for o in self.occupations}

    def occupation_skills(self, uri: str) -> tuple[list[SkillRecord], list[SkillRecord]]:
        occupation = self.occupations_by_uri.get(uri)
        if occupation is None:
            return [], []
        return [self.skills[i] for i in occupation.essential], [self.skills[i] for i in occupation.optional]

    def labels_of(self, position: int) -> list[tuple[str, str]]:
        """(label, kind) of a skill: preferred, alternatives, the preferred without its bracketed qualifier, hidden."""
        skill = self.skills[position]
        found = [(skill.label, "preferred")] + [(alt, "alternative") for alt in skill.alt_labels]
        short = PARENTHESES.sub("", skill.label).strip()
        if short and short != skill.label:
            found.append((short, "short"))
        return found + [(hidden, "hidden") for hidden in skill.hidden_labels]

    # -- search -----------------------------------------------------------------------
    @cached_property
    def _search_index(self) -> _SearchIndex:
        return _SearchIndex(self)

    def search(self, query: str, limit: int = 10, framework: str | None = None) -> list[SkillHit]:
        return self._search_index.search(query[:MAX_QUERY], limit, framework)

    def search_occupations(self, query: str, limit: int = 10) -> list[OccupationRecord]:
        words = tokens(query[:MAX_QUERY])
        if not words:
            return []
        scored = []
        for occupation in self.occupations:
            names = [occupation.label, *occupation.alt_labels]
            text = " | ".join(normalise(n) for n in names)
            if all(w in text for w in words):
                starts = normalise(occupation.label).startswith(words[0])
                scored.append((not starts, len(occupation.label), occupation.label, occupation))
        return [item[3] for item in sorted(scored)[:limit]]

    # -- extraction ---------------------------------------------------------------------
    @cached_property
    def _phrases(self) -> _PhraseIndex:
        return _PhraseIndex(self)

    def extract(self, text: str, limit: int = 50, minimum: float = 0.35) -> list[SkillHit]:
        return self._phrases.extract(text, limit, minimum)


class _SearchIndex:
    """Token postings over every label, with prefix lookup for the word being typed and one-edit typo matches."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.entries: list[tuple[int, str, str, int]] = []  # (skill position, label, kind, token count)
        postings: dict[str, set[int]] = defaultdict(set)
        for position in range(len(taxonomy.skills)):
            for label, kind in taxonomy.labels_of(position):
                words = tokens(label)
                if not words:
                    continue
                entry = len(self.entries)
                self.entries.append((position, label, kind, len(words)))
                for word in words:
                    postings[word].add(entry)
                    postings[stem(word)].add(entry)
        self.postings = dict(postings)
        self.vocabulary = sorted(self.postings)
        near: dict[str, list[str]] = defaultdict(list)
        for word in self.vocabulary:
            if len(word) >= 4:
                for variant in _deletes(word):
                    near[variant].append(word)
        self.near = dict(near)

    def _candidates(self, word: str, last: bool) -> dict[str, float]:
        """Vocabulary words that may stand for `word`, each with how sure that is."""
        found: dict[str, float] = {}
        for exact in (word, stem(word)):
            if exact in self.postings:
                found[exact] = 1.0
        if last and len(word) >= 2:
            start = bisect.bisect_left(self.vocabulary, word)
            for other in self.vocabulary[start : start + 300]:
                if not other.startswith(word):
                    break
                found.setdefault(other, 0.9)
        if len(word) >= 4 and not found:
            typos = set(self.near.get(word, ())) | {v for v in _deletes(word) if v in self.postings}
            for variant in _deletes(word):
                typos.update(self.near.get(variant, ()))
            for other in typos:
                found.setdefault(other, 0.7)
        return found

    def search(self, query: str, limit: int, framework: str | None) -> list[SkillHit]:
        words = tokens(query)[:8]
        if not words:
            return []
        weight_of: dict[int, float] = {}
        matched_all: set[int] | None = None
        for n, word in enumerate(words):
            reached: dict[int, float] = {}
            for other, sure in self._candidates(word, last=n == len(words) - 1).items():
                for entry in self.postings[other]:
                    if reached.get(entry, 0.0) < sure:
                        reached[entry] = sure
            for entry, sure in reached.items():
                weight_of[entry] = weight_of.get(entry, 0.0) + sure
            matched_all = set(reached) if matched_all is None else matched_all & set(reached)
        pool = matched_all or set(weight_of)
        first = words[0]
        best: dict[int, tuple[float, str]] = {}
        for entry in pool:
            position, label, kind, count = self.entries[entry]
            skill = self.taxonomy.skills[position]
            if framework and skill.framework != framework:
                continue
            score = weight_of[entry] / len(words) * LABEL_WEIGHT[kind]
            score *= 1.0 if entry in (matched_all or ()) else 0.6
            score += 0.15 if normalise(label).startswith(first) else 0.0
            score += 0.1 * min(len(words), count) / max(len(words), count)
            score += min(skill.popularity, 200) / 4000
            if score > best.get(position, (0.0, ""))[0]:
                best[position] = (score, label)
        ranked = sorted(best.items(), key=lambda item: (-item[1][0], len(self.taxonomy.skills[item[0]].label)))
        return [SkillHit(self.taxonomy.skills[p], round(s, 4), label) for p, (s, label) in ranked[:limit]]


class _PhraseIndex:
    """Every label as a stemmed token sequence, found in text by a scan from each token."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        document_frequency: dict[str, set[int]] = defaultdict(set)
        phrases: dict[tuple[str, ...], dict[int, str]] = defaultdict(dict)
        self.acronyms: set[tuple[str, ...]] = set()
        plain: set[tuple[str, ...]] = set()
        for position in range(len(taxonomy.skills)):
            for label, kind in taxonomy.labels_of(position):
                key = phrase_key(label)
                if not key:
                    continue
                (self.acronyms if ACRONYM.fullmatch(label.strip()) else plain).add(key)
                known = phrases[key].get(position)
                if known is None or LABEL_WEIGHT[kind] > LABEL_WEIGHT[known]:
                    phrases[key][position] = kind
                if taxonomy.skills[position].framework == "ESCO":  # tool names reuse "sql", "java" endlessly
                    for word in key:
                        document_frequency[word].add(position)
        self.acronyms -= plain  # "CISCO" beside "Cisco": the word matches in any case
        self.by_first: dict[str, list[tuple[tuple[str, ...], dict[int, str]]]] = defaultdict(list)
        for key, owners in phrases.items():
            if len(key) == 1 and (len(document_frequency[key[0]]) >= GENERIC_DF or len(key[0]) < 2):
                continue  # "management", "data": words, not skills, when they stand alone
            self.by_first[key[0]].append((key, owners))
        for candidates in self.by_first.values():
            candidates.sort(key=lambda item: -len(item[0]))

    def extract(self, text: str, limit: int, minimum: float) -> list[SkillHit]:
        text = text[:200_000]
        surface = tokens(text)
        cased = CASED.findall(normalise(text, lower=False))
        if len(cased) != len(surface):
            cased = surface  # a case change altered the tokens: acronyms then never match
        kept_at = [n for n, t in enumerate(surface) if t not in DETERMINERS]
        words = [stem(surface[n]) for n in kept_at]
        spans: list[tuple[int, int, dict[int, str]]] = []
        for start, word in enumerate(words):
            for key, owners in self.by_first.get(word, ()):
                if tuple(words[start : start + len(key)]) != key:
                    continue
                if key in self.acronyms and not cased[kept_at[start]].isupper():
                    continue
                spans.append((start, start + len(key), owners))
        kept = [s for s in spans if not any(o[0] <= s[0] and s[1] <= o[1] and o[1] - o[0] > s[1] - s[0] for o in spans)]
        scores: dict[int, float] = {}
        matched: dict[int, str] = {}
        for start, end, owners in kept:
            preferred = {p: k for p, k in owners.items() if self.taxonomy.skills[p].framework == "ESCO"} or owners
            share = 1.0 / len(preferred) ** 0.5
            length = 0.6 + 0.4 * min(end - start, 3) / 3
            for position, kind in preferred.items():
                score = LABEL_WEIGHT[kind] * length * share
                scores[position] = max(scores.get(position, 0.0), score) + (0.05 if position in scores else 0.0)
                matched.setdefault(position, " ".join(surface[kept_at[start] : kept_at[end - 1] + 1]))
        ranked = sorted(scores.items(), key=lambda item: (-item[1], self.taxonomy.skills[item[0]].label))
        return [
            SkillHit(self.taxonomy.skills[p], round(min(s, 1.0), 4), matched[p]) for p, s in ranked if s >= minimum
        ][:limit]


def exact_label_matches(taxonomy: Taxonomy, text: str) -> list[str]:
    """The baseline extraction: preferred labels found verbatim (case-insensitive, whole words) in the text."""
    haystack = f" {' '.join(tokens(text))} "
    return [skill.uri for skill in taxonomy.skills if f" {' '.join(tokens(skill.label))} " in haystack]
