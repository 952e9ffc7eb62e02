"""The skills commands other tools call, each with --json, run as subprocesses against a real data directory."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from microcred import bootstrap
from microcred.config import Settings
from tests.platform_fixtures import COMPLETE
from tests.test_platform_cli import _cli, _env, _json

PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
SQL = "http://data.europa.eu/esco/skill/598de5b0-5b58-4ea7-8058-a4bc4d18c742"
DOCKER = "https://www.onetonline.org/search/tech?s=Docker"
AD = "We are hiring a data engineer: Python and SQL every day, containers with Docker, and managing projects."


def _stdin(env: dict[str, str], text: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "microcred.cli.app", *args], input=text, capture_output=True,
                          text=True, timeout=120, check=False, env=env)  # fmt: skip


def test_taxonomy_commands(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    _json(_cli(env, "init", "--json"))
    found = _cli(env, "skills", "search", "pyhton", "--limit", "3", "--json")
    hits = _json(found)
    assert hits[0]["label"] == "Python" and {"uri", "label", "score", "framework"} <= set(hits[0])
    assert "This service uses the ESCO classification of the European Commission." in found.stderr
    extracted = _json(_stdin(env, AD, "skills", "extract", "-", "--json"))
    assert {PYTHON, SQL, DOCKER} <= {h["uri"] for h in extracted}
    assert [h["score"] for h in extracted] == sorted((h["score"] for h in extracted), reverse=True)
    ad_file = tmp_path / "ad.txt"
    ad_file.write_text(AD, encoding="utf-8")
    assert _json(_cli(env, "skills", "extract", str(ad_file), "--json")) == extracted
    missing = _cli(env, "skills", "extract", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr and "Traceback" not in missing.stderr
    occupations = _json(_cli(env, "skills", "occupations", "data analyst", "--json"))
    assert occupations[0]["label"] == "data analyst" and occupations[0]["essential"] > 10
    broken = tmp_path / "release"
    broken.mkdir()
    refused = _cli(env, "skills", "import", str(broken))
    assert refused.returncode == 2 and "has none of" in refused.stderr and "Traceback" not in refused.stderr


def test_role_match_gap_and_recommend_journey(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    _json(_cli(env, "init", "--json"))
    _json(_cli(env, "issuer", "create", "--name", "TU Example", "--slug", "tu-example", "--country", "NL", "--json"))
    _json(_cli(env, "issuer", "create", "--name", "Helix", "--slug", "helix", "--country", "BE", "--json"))
    ids = {}
    for name, skill, price in (("Python basics", PYTHON, 300), ("SQL basics", SQL, 200), ("Containers", DOCKER, 250)):
        path = tmp_path / f"{price}.json"
        path.write_text(json.dumps({**COMPLETE, "name": name, "price": price,
                                    "skills": [{"uri": skill, "label": name}]}))  # fmt: skip
        ids[name] = _json(
            _cli(env, "microcredential", "create", "--issuer", "tu-example", "--from", str(path), "--publish", "--json")
        )["id"]
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, public_base_url="https://microcred.example"
    )
    platform = bootstrap.build_platform(settings)
    try:
        platform.accounts.create_user("ada@example.org", "a-long-password", "learner", name="Ada")
        _json(_cli(env, "award", "--microcredential", ids["Python basics"], "--email", "ada@example.org", "--json"))
        for held in platform.skills.held("ada@example.org"):
            platform.skills.set_discoverable("ada@example.org", held.provenance.ref, True)  # the learner's own choice
    finally:
        platform.close()
    ad_file = tmp_path / "ad.txt"
    ad_file.write_text(AD, encoding="utf-8")
    role = _json(
        _cli(env, "role", "create", "--org", "helix", "--title", "Data engineer", "--from-text", str(ad_file), "--json")
    )
    assert {PYTHON, SQL, DOCKER} <= {s["uri"] for s in role["skills"]} and role["source"] == "text"
    by_skill = _json(_cli(env, "role", "create", "--org", "helix", "--title", "Pythonista", "--skill", PYTHON,
                          "--skill", SQL, "--json"))  # fmt: skip
    analyst = _json(_cli(env, "skills", "occupations", "data analyst", "--json"))[0]["uri"]
    occupation_role = _json(_cli(env, "role", "create", "--org", "helix", "--occupation", analyst, "--json"))
    assert occupation_role["title"] == "data analyst" and occupation_role["occupation"] == analyst
    both = _cli(env, "role", "create", "--org", "helix", "--title", "x", "--skill", PYTHON, "--occupation", analyst)
    assert both.returncode == 2 and "exactly one" in both.stderr
    shortlist = tmp_path / "shortlist.csv"
    match = _json(_cli(env, "match", "--role", str(by_skill["id"]), "--csv", str(shortlist), "--json"))
    assert match["total"] == 1 and match["candidates"][0]["learner"]["email"] == "ada@example.org"
    assert match["candidates"][0]["score"] == 0.5
    assert match["candidates"][0]["proves"][0]["credential"] == "Python basics"
    assert [m["skill"] for m in match["candidates"][0]["missing"]] == [SQL]
    rows = list(csv.reader(shortlist.read_text(encoding="utf-8").splitlines()))
    assert rows[1][2] == "ada@example.org"
    gap = _json(_cli(env, "gap", "--email", "ada@example.org", "--role", str(by_skill["id"]), "--json"))
    assert [c["skill"] for c in gap["covered"]] == [PYTHON] and [m["skill"] for m in gap["missing"]] == [SQL]
    plan = _json(_cli(env, "recommend", "--email", "ada@example.org", "--role", str(role["id"]), "--json"))
    assert plan["provenOptimal"] and {m["name"] for m in plan["microcredentials"]} == {"SQL basics", "Containers"}
    assert plan["totalPrice"] == 450
    tight = _json(_cli(env, "recommend", "--email", "ada@example.org", "--role", str(role["id"]), "--budget", "220",
                       "--json"))  # fmt: skip
    assert [m["name"] for m in tight["microcredentials"]] == ["SQL basics"]
    assert DOCKER in {u["skill"] for u in tight["uncovered"]}
    on_occupation = _json(_cli(env, "gap", "--email", "ada@example.org", "--occupation", analyst, "--json"))
    assert on_occupation["target"] == "data analyst" and on_occupation["missing"]
    bad = _cli(env, "recommend", "--email", "ada@example.org", "--role", str(role["id"]), "--minimize", "fun")
    assert bad.returncode == 2 and "price or hours" in bad.stderr
    catalogue = _json(_cli(env, "catalogue", "search", "--skill", "docker", "--json"))
    assert [c["name"] for c in catalogue] == ["Containers"]
    unknown = _cli(env, "match", "--role", "999")
    assert unknown.returncode == 2 and "no job role 999" in unknown.stderr
