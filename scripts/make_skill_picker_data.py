"""Regenerate src/microcred/services/data/esco_picker.json.gz: the ESCO skills the designer's picker offers
until the full taxonomy ships (issue 6). Reads ../shared/data/skills (ESCO v1.1.1, CC BY 4.0; attribution:
"This service uses the ESCO classification of the European Commission"). Modified: a subset (the digital,
green and transversal collections) with at most five alternative labels per skill."""

import csv
import gzip
import json
import sys
from pathlib import Path

source = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/skills")
wanted = {
    r["skillUri"]
    for r in csv.DictReader((source / "skill_collections.csv").open())
    if r["collection"] in ("digital", "green", "transversal")
}
skills = []
for row in csv.DictReader((source / "esco_skills.csv").open()):
    if row["conceptUri"] in wanted:
        alts = [a for a in row["altLabels"].split("|") if a][:5]
        skills.append({"uri": row["conceptUri"], "label": row["preferredLabel"], "alt": alts})
skills.sort(key=lambda s: s["label"])
target = Path(__file__).resolve().parents[1] / "src/microcred/services/data/esco_picker.json.gz"
target.write_bytes(
    gzip.compress(
        json.dumps(
            {
                "source": "ESCO v1.1.1 (subset)",
                "attribution": "This service uses the ESCO classification of the European Commission.",
                "skills": skills,
            },
            separators=(",", ":"),
        ).encode(),
        mtime=0,
    )
)
print(f"{len(skills)} skills -> {target} ({target.stat().st_size:,} bytes)")
