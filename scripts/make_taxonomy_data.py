"""Rebuild the taxonomy bundled in the package from ../shared's ESCO v1.1.1 and O*NET 29.2 copies.

    python scripts/make_taxonomy_data.py [SHARED_DATA_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

from microcred.services.taxonomy_build import build, write

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "src/microcred/services/data/taxonomy.json.gz"

if __name__ == "__main__":
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared/data"
    bundle = build(shared / "skills", shared / "onet", "ESCO v1.1.1 (en) + O*NET 29.2 technology skills", print)
    write(bundle, TARGET)
    print(f"{TARGET}: {len(bundle['skills'])} skills, {len(bundle['occupations'])} occupations, {TARGET.stat().st_size:,} bytes")
