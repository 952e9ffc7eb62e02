"""The operator CLI from `microcred init` to a verified, then revoked, award."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.platform_fixtures import COMPLETE


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "microcred.cli.app", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env |= {
        "MICROCRED_DATA_DIR": str(tmp_path / "data"),
        "MICROCRED_DATABASE_URL": database_url,
        "MICROCRED_PUBLIC_BASE_URL": "https://microcred.example",
        "MICROCRED_ADMIN_EMAIL": "admin@example.org",
        "MICROCRED_ADMIN_PASSWORD": "correct horse battery staple",
    }
    return env


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_init_to_verified_then_revoked_award(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    init = _json(_cli(env, "init", "--json"))
    assert init["admin"] == "admin@example.org"
    key_file = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    issuer = _json(
        _cli(env, "issuer", "create", "--name", "TU Example", "--slug", "tu-example", "--country", "NL", "--json")
    )
    assert issuer["did"] == "did:web:microcred.example:issuers:tu-example"
    definition = tmp_path / "mc.json"
    definition.write_text(json.dumps(COMPLETE))
    created = _cli(env, "microcredential", "create", "--issuer", "tu-example", "--from", str(definition))
    assert created.returncode == 0, created.stderr
    mc_id = created.stdout.strip()
    assert _json(_cli(env, "lint", mc_id, "--json"))["complete"] is True
    draft = _cli(env, "award", "--microcredential", mc_id, "--email", "ada@example.org")
    assert draft.returncode == 2 and "is a draft" in draft.stderr  # drafts are not awarded
    published = _json(_cli(env, "microcredential", "publish", mc_id, "--json"))
    assert published["published"] is True and published["published_at"]
    signed = tmp_path / "award.json"
    award = _json(
        _cli(
            env,
            "award",
            "--microcredential",
            mc_id,
            "--email",
            "ada@example.org",
            "--name",
            "Ada",
            "--out",
            str(signed),
            "--json",
        )
    )
    assert award["url"] == f"https://microcred.example/credentials/{award['id']}"
    report = _json(_cli(env, "verify", str(signed), "--json"))
    assert report["verified"] is True
    assert {c["code"]: c["status"] for c in report["checks"]}["status.revocation"] == "passed"
    assert _cli(env, "revoke", award["id"], "--reason", "issued in error").returncode == 0
    after = _cli(env, "verify", str(signed), "--json")
    assert after.returncode == 1
    assert {c["code"]: c["status"] for c in json.loads(after.stdout)["checks"]}["status.revocation"] == "failed"
    listed = _json(_cli(env, "awards", "list", "--json"))
    assert [(a["id"], a["status"]) for a in listed] == [(award["id"], "revoked")]
    token = _json(_cli(env, "token", "create", "--email", "admin@example.org", "--json"))
    assert token["token"].startswith("mct_")


def test_platform_commands_report_errors_without_tracebacks(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    assert _cli(env, "issuer", "list").returncode == 2  # not initialised yet
    _cli(env, "init")
    for args in (
        ["issuer", "create", "--name", "X", "--slug", "Bad Slug", "--country", "NL"],
        ["microcredential", "create", "--issuer", "nobody", "--name", "n", "--description", "d", "--criteria", "c"],
        ["lint", "no-such-id"],
        ["award", "--microcredential", "no-such-id", "--email", "ada@example.org"],
        ["revoke", "no-such-award"],
        ["award", "--microcredential", "x", "--email", "ada@example.org", "--valid-until", "soon"],
        [
            "microcredential",
            "create",
            "--issuer",
            "tu-example",
            "--name",
            "n",
            "--description",
            "d",
            "--criteria",
            "c",
            "--exempt",
            "why",
        ],  # --exempt without --publish
        ["microcredential", "publish", "no-such-id"],
    ):
        result = _cli(env, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and "error" in result.stderr


def test_publish_needs_the_eu_elements_or_an_exemption(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    _cli(env, "init")
    _cli(env, "issuer", "create", "--name", "TU Example", "--slug", "tu-example", "--country", "NL")
    sparse = [
        "microcredential",
        "create",
        "--issuer",
        "tu-example",
        "--name",
        "Intro",
        "--description",
        "d",
        "--criteria",
        "c",
    ]
    refused = _cli(env, *sparse, "--publish")
    assert (
        refused.returncode == 2 and "EU mandatory element" in refused.stderr and "learning outcomes" in refused.stderr
    )
    created = _json(_cli(env, *sparse, "--publish", "--exempt", "a taster hour, not a course", "--json"))
    assert created["published"] is True
    draft = _json(_cli(env, *sparse, "--json"))
    assert draft["published"] is False
    assert _cli(env, "microcredential", "publish", draft["id"]).returncode == 2  # still incomplete
    again = _json(_cli(env, "microcredential", "publish", draft["id"], "--exempt", "a taster hour", "--json"))
    assert again["published"] is True
    listed = _json(_cli(env, "awards", "list", "--json"))
    assert listed == []  # publishing awards nothing


def test_a_world_readable_key_file_is_refused(tmp_path: Path, database_url: str) -> None:
    env = _env(tmp_path, database_url)
    _cli(env, "init")
    (tmp_path / "data" / "secret.key").chmod(0o644)
    result = _cli(env, "issuer", "list")
    assert result.returncode == 2 and "chmod 600" in result.stderr
