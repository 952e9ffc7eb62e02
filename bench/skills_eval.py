"""Quality of skills intelligence: skill extraction against human ESCO labels, and learning plans against greedy.

Extraction: `bench/data/techwolf_test.csv`, sentences of real English job advertisements, each labelled with the
ESCO skills it asks for (the first 124 labels, 80 sentences, of the TECHWOLF test set of Decorte et al.,
"Extreme Multi-Label Skill Extraction Training using Large Language Models", 2023; published by TechWolf as
the Hugging Face dataset TechWolf/skill-extraction-techwolf and in github.com/jensjorisdecorte/
Skill-Extraction-benchmark; licence CC BY 4.0; see bench/data/README.md). Labels are ESCO preferred labels
(v1.1.0); the few not in v1.1.1 are counted as misses for every method. Micro-averaged precision, recall and
F1 over (sentence, skill) pairs, for:
- the baseline: ESCO preferred labels found verbatim (case-insensitive, whole words);
- lexical: microcred's extractor (labels, alternative labels, inflections, phrase precedence);
- semantic: lexical plus sentence embeddings (only when `pip install microcred[semantic]` is installed).

Plans: for 100 cases of bench/skills.py's 10,000-offer catalogue, how often HiGHS proves optimality and how much
cheaper (or shorter) its plan is than the greedy cover at equal coverage.

`python bench/skills_eval.py [--write docs/performance.md]` replaces only its section.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

SECTION = "## Skills: extraction quality and plan optimality"
DATA = Path(__file__).resolve().parent / "data" / "techwolf_test.csv"


def load() -> dict[str, set[str]]:
    gold: dict[str, set[str]] = defaultdict(set)
    with DATA.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            gold[row["sentence"]].add(row["label"].strip().lower())
    return dict(gold)


def score(predicted: dict[str, set[str]], gold: dict[str, set[str]]) -> dict[str, float]:
    tp = sum(len(predicted[s] & g) for s, g in gold.items())
    fp = sum(len(predicted[s] - g) for s, g in gold.items())
    fn = sum(len(g - predicted[s]) for s, g in gold.items())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def labels(taxonomy: Any, uris: list[str]) -> set[str]:
    return {taxonomy.skill(u).label.lower() for u in uris if taxonomy.skill(u) is not None}


def extraction(limit: int = 3) -> dict[str, Any]:
    from microcred.domain.skills import exact_label_matches
    from microcred.services.taxonomy import TaxonomyService

    service = TaxonomyService(Path(tempfile.gettempdir()) / "no-override.json.gz")
    taxonomy = service.taxonomy
    gold = load()
    known = {s.label.lower() for s in taxonomy.skills if s.framework == "ESCO"}
    results: dict[str, Any] = {
        "sentences": len(gold), "labels": sum(len(g) for g in gold.values()),
        "unknown_labels": sum(1 for g in gold.values() for label in g if label not in known),
    }  # fmt: skip
    esco = lambda hits: [h.skill.uri for h in hits if h.skill.framework == "ESCO"][:limit]  # noqa: E731
    results["baseline"] = score({s: labels(taxonomy, exact_label_matches(taxonomy, s)) for s in gold}, gold)
    results["lexical"] = score({s: labels(taxonomy, esco(taxonomy.extract(s))) for s in gold}, gold)
    try:
        from microcred.services.semantic import SemanticExtractor
    except ImportError:
        results["semantic"] = None
        return results
    semantic = SemanticExtractor(taxonomy, Path(tempfile.gettempdir()) / "microcred-semantic-cache")
    results["semantic"] = score({s: labels(taxonomy, esco(semantic.extract(s))) for s in gold}, gold)
    return results


def optimality(cases: int = 100) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import skills

    return skills.time_recommend(cases)


def render(m: dict[str, Any]) -> list[str]:
    e, r = m["extraction"], m["plans"]
    lines = [SECTION, "", f"Extraction on {e['sentences']} job-advertisement sentences with {e['labels']} ESCO labels "
             f"(TECHWOLF test set, CC BY 4.0; {e['unknown_labels']} labels are not in ESCO v1.1.1). At most 3 ESCO "
             "skills per sentence; micro-averaged over (sentence, skill) pairs:", "",
             "| method | precision | recall | micro-F1 | × baseline F1 |", "|---|---:|---:|---:|---:|"]  # fmt: skip
    base = e["baseline"]["f1"] or 1e-9
    for name, title in (("baseline", "exact preferred label (baseline)"), ("lexical", "lexical (microcred)"),
                        ("semantic", "lexical + embeddings (`[semantic]` extra)")):  # fmt: skip
        s = e[name]
        if s is None:
            lines.append(f"| {title} | not installed | | | |")
            continue
        lines.append(f"| {title} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['f1'] / base:.1f}× |")
    lines += ["", f"Plans over {r['offers']:,} offers, {r['cases']} gaps of 20 skills: proven optimal in {r['optimal']} "
              f"({r['optimal'] / r['cases']:.0%}); never worse than greedy ({r['worse']} worse); at equal coverage the optimum "
              f"costs {r['saving_mean']:.1%} less than greedy on average, {r['saving_max']:.1%} at most.", ""]  # fmt: skip
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path)
    parser.add_argument("--cases", type=int, default=100)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import pages

    measured = {"extraction": extraction(), "plans": optimality(args.cases)}
    pages.report(render(measured), args.write)
    print({k: v for k, v in measured["extraction"].items() if isinstance(v, dict)}, file=sys.stderr)
