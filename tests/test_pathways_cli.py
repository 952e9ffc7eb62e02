"""The pathway commands other tools call: create, progress, CLR export, verify with parts; each with --json."""

from __future__ import annotations

import json
from pathlib import Path

from tests.platform_fixtures import COMPLETE
from tests.test_platform_cli import _cli, _env, _json


def test_pathway_journey_from_definition_to_verified_roll_up_and_clr(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    _json(_cli(env, "init", "--json"))
    _json(_cli(env, "issuer", "create", "--name", "TU Example", "--slug", "tu-example", "--country", "NL", "--json"))
    modules = []
    for n in (1, 2):
        path = tmp_path / f"mc{n}.json"
        path.write_text(json.dumps({**COMPLETE, "name": f"Module {n}"}))
        modules.append(_json(_cli(env, "microcredential", "create", "--issuer", "tu-example", "--from", str(path),
                                  "--publish", "--json"))["id"])  # fmt: skip
    definition = tmp_path / "pathway.json"
    definition.write_text(json.dumps({
        "name": "Certificate in Data Analytics", "description": "Both modules.", "achievement_type": "Certificate",
        "requirements": {"min_credits": 10, "unit": "ects", "of": [{"microcredential": m} for m in modules]},
    }))  # fmt: skip
    pathway = _json(_cli(env, "pathway", "create", "--issuer", "tu-example", "--from", str(definition), "--json"))
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "name": "x",
                "description": "y",
                "requirements": {"min_credits": 99, "of": [{"microcredential": modules[0]}]},
            }
        )
    )
    refused = _cli(env, "pathway", "create", "--issuer", "tu-example", "--from", str(bad))
    assert refused.returncode == 2 and "at most 5" in refused.stderr and "Traceback" not in refused.stderr
    parts = []
    for n, mc_id in enumerate(modules):
        out = tmp_path / f"part{n}.json"
        _json(_cli(env, "award", "--microcredential", mc_id, "--email", "ada@example.org", "--out", str(out),
                   "--json"))  # fmt: skip
        parts.append(out)
        progress = _json(_cli(env, "pathway", "progress", "--email", "ada@example.org", "--json"))
        assert progress[0]["pathway"] == pathway["id"]
        assert progress[0]["percent"] == (50 if n == 0 else 100)
    assert progress[0]["satisfied"] and progress[0]["roll_up"]["state"] == "issued"
    human = _cli(env, "pathway", "progress", "--email", "ada@example.org")
    assert "Certificate in Data Analytics (complete)" in human.stdout
    rollup_id = progress[0]["roll_up"]["award"]
    clr_file = tmp_path / "clr.json"
    exported = _json(_cli(env, "clr", "export", "--email", "ada@example.org", "--out", str(clr_file), "--json"))
    assert exported["credentials"] == 3 and exported["associations"] == 4
    report = _json(_cli(env, "verify", str(clr_file), "--json"))
    assert report["verified"] and {c["code"]: c["status"] for c in report["checks"]}["embedded"] == "passed"
    clr = json.loads(clr_file.read_text())
    rollup = next(c for c in clr["credentialSubject"]["verifiableCredential"] if c["id"].endswith(rollup_id))
    rollup_file = tmp_path / "rollup.json"
    rollup_file.write_text(json.dumps(rollup, indent=4))  # whitespace does not change a part's digest
    checked = _json(_cli(env, "verify", str(rollup_file), "--part", str(parts[0]), "--part", str(parts[1]), "--json"))
    assert {c["code"]: c["status"] for c in checked["checks"]}["parts"] == "passed"
    forged = json.loads(parts[1].read_text())
    forged["credentialSubject"]["name"] = "Mallory"
    parts[1].write_text(json.dumps(forged))
    failed = _cli(env, "verify", str(rollup_file), "--part", str(parts[0]), "--part", str(parts[1]), "--json")
    assert failed.returncode == 1 and '"parts"' in failed.stdout
