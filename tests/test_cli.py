"""The CLI forms are a contract: exit codes, outputs, file modes."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES_V2, FIXTURES, W3C

EXAMPLES = f"{EXAMPLES_V2}={FIXTURES / 'contexts' / 'credentials-examples-v2.jsonld'}"


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "microcred.cli.app", *args],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_keygen_writes_multikey_pair_with_mode_0600(tmp_path: Path) -> None:
    target = tmp_path / "key.json"
    result = run("keygen", "--out", str(target))
    assert result.returncode == 0, result.stderr
    key = json.loads(target.read_text())
    assert key["publicKeyMultibase"].startswith("z6Mk")
    assert key["secretKeyMultibase"].startswith("z3u2")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


@pytest.mark.parametrize(
    ("suite", "vector"),
    [("eddsa-rdfc-2022", "eddsa-rdfc-2022/signedDataInt.json"), ("eddsa-jcs-2022", "eddsa-jcs-2022/signedJCS.json")],
)
def test_sign_with_the_w3c_key_reproduces_the_vector(tmp_path: Path, suite: str, vector: str) -> None:
    public = json.loads((W3C / "keyPair.json").read_text())["publicKeyMultibase"]
    out = tmp_path / "signed.json"
    result = run(
        "sign", str(W3C / "unsigned.json"), "--key", str(W3C / "keyPair.json"), "--suite", suite,
        "--verification-method", f"did:key:{public}#{public}", "--created", "2023-02-24T23:36:38Z",
        "--resource", EXAMPLES, "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == (W3C / vector).read_bytes()


def test_sign_jwt_and_verify_it_from_stdin(tmp_path: Path) -> None:
    key = tmp_path / "k.json"
    run("keygen", "--out", str(key))
    credential = _own_credential(tmp_path, json.loads(key.read_text())["publicKeyMultibase"])
    out_dir = tmp_path / "out"
    assert run("sign", str(credential), "--key", str(key), "--suite", "jwt", "--out-dir", str(out_dir)).returncode == 0
    token = (out_dir / "cred.jwt").read_text()
    result = run("verify", "-", "--json", stdin=token.encode())
    assert result.returncode == 0, result.stdout
    assert json.loads(result.stdout)["verified"] is True


def _own_credential(tmp_path: Path, public: str) -> Path:
    credential = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:1d8f7a52-cc64-4b5c-9a6f-8a7a2f1e0b3c",
        "type": ["VerifiableCredential", "AchievementCredential"],
        "issuer": {"id": f"did:key:{public}", "type": ["Profile"], "name": "Test Issuer"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:learner",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "urn:uuid:0d6f1c7e-1c1a-4e31-8fb3-5c0f2e7c8d9a",
                "type": ["Achievement"],
                "name": "Testing",
                "description": "d",
                "criteria": {"narrative": "n"},
            },
        },
    }
    path = tmp_path / "cred.json"
    path.write_text(json.dumps(credential))
    return path


def test_verify_exit_codes_and_json_report_shape(tmp_path: Path) -> None:
    vector = str(W3C / "eddsa-rdfc-2022/signedDataInt.json")
    result = run("verify", vector, vector, "--json", "--resource", EXAMPLES)
    assert result.returncode == 1  # key binding rightly fails for the W3C vector
    reports: list[dict[str, Any]] = json.loads(result.stdout)
    assert len(reports) == 2
    for report in reports:
        assert report["verified"] is False
        assert all(set(c) >= {"code", "status", "message"} for c in report["checks"])
        assert {c["code"]: c["status"] for c in report["checks"]}["proof"] == "passed"


def test_verify_human_output_is_a_checklist() -> None:
    result = run("verify", str(W3C / "eddsa-rdfc-2022/signedDataInt.json"), "--resource", EXAMPLES)
    assert result.returncode == 1
    assert "NOT VERIFIED" in result.stdout and "key_binding" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "/no/such/file"],
        ["verify", "x.json", "--resource", "nonsense"],
        ["sign", "x.json"],
        ["verify", "--at", "yesterday", "x"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2_without_a_traceback(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr


def test_unreadable_and_oversized_files_are_clear_errors(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (11 * 1024 * 1024 + 1))
    for args, message in (
        (["verify", str(tmp_path)], "Is a directory"),
        (["verify", str(big)], "larger than 10 MB"),
    ):
        result = run(*args)
        assert result.returncode == 2, result
        assert message in result.stderr and "Traceback" not in result.stderr
    exactly = tmp_path / "exactly.json"
    exactly.write_bytes(b" " * (11 * 1024 * 1024 - 2) + b"{}")
    assert "larger than" not in run("verify", str(exactly), "--json").stderr


def test_garbage_input_is_a_failed_report_not_a_crash(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(os.urandom(2000))
    result = run("verify", str(junk), "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout)["checks"][0]["code"] == "parse"


def test_validate_accepts_an_unsigned_credential_and_inspect_shows_it(tmp_path: Path) -> None:
    path = _own_credential(tmp_path, "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2")
    assert run("validate", str(path)).returncode == 0
    shown = run("inspect", str(path))
    assert shown.returncode == 0 and "Testing" in shown.stdout and "Test Issuer" in shown.stdout
    data = json.loads(path.read_text())
    data["credentialSubject"]["undefinedTerm"] = 1
    path.write_text(json.dumps(data))
    assert run("validate", str(path)).returncode == 1


def test_verify_accepts_baked_png_and_at_option(tmp_path: Path) -> None:
    from microcred.standards import baking
    from microcred.standards.images import solid_png

    key = tmp_path / "k.json"
    run("keygen", "--out", str(key))
    credential = _own_credential(tmp_path, json.loads(key.read_text())["publicKeyMultibase"])
    signed = tmp_path / "signed.json"
    run("sign", str(credential), "--key", str(key), "--out", str(signed))
    png = tmp_path / "badge.png"
    png.write_bytes(baking.bake_png(solid_png(4, 4, (1, 2, 3)), signed.read_text()))
    assert run("verify", str(png)).returncode == 0
    assert run("verify", str(png), "--at", "2025-01-01T00:00:00Z").returncode == 1


def test_sign_refuses_a_verification_method_whose_key_did_not_sign(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours.json", tmp_path / "theirs.json"
    run("keygen", "--out", str(ours))
    run("keygen", "--out", str(theirs))
    other = json.loads(theirs.read_text())["publicKeyMultibase"]
    credential = _own_credential(tmp_path, json.loads(ours.read_text())["publicKeyMultibase"])
    out = tmp_path / "signed.json"
    result = run(
        "sign", str(credential), "--key", str(ours), "--verification-method", f"did:key:{other}#{other}",
        "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 2, result
    assert "does not verify" in result.stderr and not out.exists()


def test_sign_output_verifies_with_an_independent_proof_check(tmp_path: Path) -> None:
    """Signing no longer runs our own verifier: pyld's canonicalization and a raw Ed25519 check must agree."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from microcred.standards.loader import DocumentLoader
    from microcred.standards.multibase import decode_base58btc
    from tests.reference import pyld_canonize

    key = tmp_path / "k.json"
    run("keygen", "--out", str(key))
    public = json.loads(key.read_text())["publicKeyMultibase"]
    out_dir = tmp_path / "out"
    assert (
        run("sign", str(_own_credential(tmp_path, public)), "--key", str(key), "--out-dir", str(out_dir)).returncode
        == 0
    )
    signed = json.loads((out_dir / "cred.json").read_text())
    proof = signed.pop("proof")[0]
    value = proof.pop("proofValue")
    loader = DocumentLoader()
    hashed = hashlib.sha256(pyld_canonize({**proof, "@context": signed["@context"]}, loader).encode()).digest()
    hashed += hashlib.sha256(pyld_canonize(signed, loader).encode()).digest()
    Ed25519PublicKey.from_public_bytes(decode_base58btc(public)[2:]).verify(decode_base58btc(value), hashed)


_PROBE = """
import sys
from microcred.cli.app import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = {"sqlalchemy", "alembic", "pydantic", "pydantic_settings", "rich", "fastapi", "highspy", "argon2", "jinja2"}
print(sorted(heavy & {name.split(".")[0] for name in sys.modules}))
"""


@pytest.mark.parametrize(
    "args",
    [["--help"], ["verify", "{file}"], ["verify", "--json", "{file}"], ["sign", "{file}", "--key", "{key}"]],
    ids=["help", "verify", "verify-json", "sign"],
)
def test_standalone_commands_load_no_platform(tmp_path: Path, args: list[str]) -> None:
    """`microcred --help`, `verify` and `sign` pay for the engine only: no database layer, web layer,
    settings library, solver or password hashing (they cost seconds at start, see docs/performance.md)."""
    key = tmp_path / "k.json"
    run("keygen", "--out", str(key))
    file = _own_credential(tmp_path, json.loads(key.read_text())["publicKeyMultibase"])
    argv = [a.format(file=file, key=key) for a in args]
    env = {**os.environ, "MICROCRED_DATA_DIR": str(tmp_path / "no-data-here")}
    env.pop("MICROCRED_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout + result.stderr
