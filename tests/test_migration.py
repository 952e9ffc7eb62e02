"""Migrating an issuer from Badgr: a dry run first, then BadgeClasses re-created as microcredentials and
assertions re-issued as OB 3.0 credentials citing the original, idempotently; and a plain CSV."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from microcred import bootstrap
from microcred.clock import FixedClock
from microcred.errors import InputError
from microcred.server import create_app
from microcred.standards.dates import format_datetime

BADGR = "https://api.badgr.io/public"


def _export(clock: FixedClock) -> dict[str, Any]:
    """The shape Badgr's API v2 answers (entityType, entityId, openBadgeId, plaintextIdentity)."""
    later = format_datetime(clock.now() + timedelta(days=400))
    earlier = format_datetime(clock.now() - timedelta(days=1))

    def assertion(entity: str, identity: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"entityType": "Assertion", "entityId": entity, "openBadgeId": f"{BADGR}/assertions/{entity}",
                "badgeclass": "RoboticsBC", "badgeclassOpenBadgeId": f"{BADGR}/badges/RoboticsBC",
                "issuer": "Iss1", "issuerOpenBadgeId": f"{BADGR}/issuers/Iss1", "recipient": identity,
                "issuedOn": "2021-03-04T10:00:00Z", "narrative": "Built a line-following robot.", "revoked": False,
                "evidence": [{"url": "https://portfolio.example/ada", "narrative": "Video of the robot"}],
                **extra}  # fmt: skip

    def email(address: str) -> dict[str, Any]:
        salt = "s4lt"
        return {"type": "email", "hashed": True, "salt": salt, "plaintextIdentity": address,
                "identity": "sha256$" + hashlib.sha256((address + salt).encode()).hexdigest()}  # fmt: skip

    return {
        "status": {"success": True, "description": "ok"},
        "result": [
            {"entityType": "BadgeClass", "entityId": "RoboticsBC", "openBadgeId": f"{BADGR}/badges/RoboticsBC",
             "name": "Robotics Foundations", "description": "Designing and programming small robots.",
             "criteriaNarrative": "Build and demonstrate a working robot.", "image": "https://media.badgr.io/r.png",
             "tags": ["robotics", "stem"], "expires": {"amount": 2, "duration": "years"},
             "alignments": [{"targetName": "robotics", "targetUrl": "http://data.europa.eu/esco/skill/robotics",
                             "targetFramework": "ESCO"}]},
            assertion("A1", email("ada@example.org")),
            assertion("A2", {"type": "email", "hashed": False, "identity": "grace@example.org"}, expires=later),
            assertion("A3", {"type": "email", "hashed": True, "identity": "sha256$00ff", "salt": "x"}),
            assertion("A4", email("linus@example.org"), revoked=True, revocationReason="issued in error"),
            assertion("A5", email("mei@example.org"), expires=earlier),
            {**assertion("A6", email("kim@example.org")), "badgeclass": "Unknown", "badgeclassOpenBadgeId": None},
        ],
    }  # fmt: skip


def _count(platform: bootstrap.Platform) -> tuple[int, int]:
    with platform.runtime.db.read() as repo:
        catalogue = repo.catalogue(None)
        return len(catalogue), sum(n for *_rest, n in catalogue)


def test_a_badgr_export_is_dry_run_then_migrated_once(platform: bootstrap.Platform, issuer: Any,
                                                       clock: FixedClock) -> None:  # fmt: skip
    data = json.dumps(_export(clock)).encode()
    dry = platform.migration.migrate(issuer.slug, data, dry_run=True).to_json()
    assert _count(platform) == (0, 0)  # a dry run changes nothing
    assert [m["action"] for m in dry["microcredentials"]] == ["create"]
    assert dry["awards"] == {"issue": 2, "already": 0, "skipped": 4}
    reasons = {s["where"].rsplit("/", 1)[-1]: s["reason"] for s in dry["skipped"]}
    assert "hashed identity" in reasons["A3"] and "revoked at the source" in reasons["A4"]
    assert "expired at the source" in reasons["A5"] and "names no badge class" in reasons["A6"]

    done = platform.migration.migrate(issuer.slug, data, dry_run=False).to_json()
    assert done["awards"] == {"issued": 2, "already": 0, "skipped": 4} and len(done["issued"]) == 2
    [created] = done["microcredentials"]
    entry, _issuer, _v = platform.catalog.published(created["id"])
    assert entry.definition.name == "Robotics Foundations" and entry.definition.valid_for_months == 24
    assert [s.label for s in entry.definition.skills] == ["robotics"]
    with platform.runtime.db.read() as repo:
        awards = [repo.award(a) for a in done["issued"]]
    by_email = {a.recipient_email: a for a in awards if a is not None}
    credential = json.loads(by_email["ada@example.org"].credential)
    assert platform.credentials.verify(credential).verified
    [evidence] = credential["evidence"]
    assert evidence["id"] == f"{BADGR}/assertions/A1"  # the back-reference to the original
    assert "Re-issued from the Open Badges 2.0 assertion" in evidence["narrative"]
    assert "2021-03-04" in evidence["narrative"] and "line-following robot" in evidence["narrative"]
    assert by_email["grace@example.org"].valid_until is not None

    again = platform.migration.migrate(issuer.slug, data, dry_run=False).to_json()
    assert again["awards"] == {"issued": 0, "already": 2, "skipped": 4}
    assert [m["action"] for m in again["microcredentials"]] == ["existing"]
    assert _count(platform) == (1, 2)
    dry_again = platform.migration.migrate(issuer.slug, data, dry_run=True).to_json()
    assert dry_again["awards"] == {"issue": 0, "already": 2, "skipped": 4}


def test_a_csv_of_awards_for_existing_microcredentials(platform: bootstrap.Platform, issuer: Any,
                                                        microcredential: Any) -> None:  # fmt: skip
    csv = ("badge,email,issued_on,expires,evidence_url,narrative,assertion_id\n"
           "Data Analytics with Python,ada@example.org,2022-05-01,,https://lms.example/ada,Final project,\n"
           "Data Analytics with Python,not-an-email,2022-05-01,,,,\n"
           "Unheard Of,bob@example.org,2022-05-01,,,,\n"
           "Data Analytics with Python,grace@example.org,2022-06-01,,,,https://old.example/assertions/9\n")  # fmt: skip
    dry = platform.migration.migrate(issuer.slug, csv.encode(), dry_run=True).to_json()
    assert dry["awards"] == {"issue": 2, "already": 0, "skipped": 2}
    assert {s["where"] for s in dry["skipped"]} == {"line 3", "line 4"}
    done = platform.migration.migrate(issuer.slug, csv.encode(), dry_run=False).to_json()
    assert done["awards"]["issued"] == 2
    assert platform.migration.migrate(issuer.slug, csv.encode(), dry_run=False).to_json()["awards"]["already"] == 2


@pytest.mark.parametrize(
    ("data", "words"),
    [(b"{not json", "JSON"), (b"[]", "no BadgeClass and no Assertion"), (b'{"status": {}}', "no BadgeClass"),
     (b"name,address\nx,y\n", "needs the columns badge, email and issued_on"), (b"\xff\xfe\x00", "columns")],
)  # fmt: skip
def test_unusable_exports_are_refused_and_change_nothing(
    platform: bootstrap.Platform, issuer: Any, data: bytes, words: str
) -> None:
    with pytest.raises(InputError, match=words):
        platform.migration.migrate(issuer.slug, data, dry_run=False)
    assert _count(platform) == (0, 0)


def test_the_api(tmp_path: Path, platform: bootstrap.Platform, issuer: Any, clock: FixedClock) -> None:
    data = json.dumps(_export(clock)).encode()
    other = platform.issuers.create(name="Other Academy", slug="other", country="DE")
    platform.accounts.create_user("admin@tu.example", "correct horse battery", "issuer_admin", organisation=issuer.slug)
    platform.accounts.create_user("admin@other.example", "correct horse battery", "issuer_admin",
                                  organisation=other.slug)  # fmt: skip
    mine = platform.accounts.create_token("admin@tu.example", "issuer_admin").token
    theirs = platform.accounts.create_token("admin@other.example", "issuer_admin").token
    with TestClient(create_app(platform), raise_server_exceptions=False) as client:
        path = f"/api/v1/issuers/{issuer.slug}/migrations"
        dry = client.post(path, content=data, headers={"Authorization": f"Bearer {mine}"})
        assert dry.status_code == 200 and dry.json()["dry_run"] is True and dry.json()["awards"]["issue"] == 2
        assert client.post(path, content=data, headers={"Authorization": f"Bearer {theirs}"}).status_code == 404
        assert client.post(path, content=data).status_code == 401
        bad = client.post(path, content=b"{", headers={"Authorization": f"Bearer {mine}"})
        assert bad.status_code == 422 and bad.json()["code"] == "json"
        run = client.post(path + "?dry_run=false", content=data, headers={"Authorization": f"Bearer {mine}"})
        assert run.status_code == 200 and run.json()["awards"]["issued"] == 2
    assert _count(platform) == (1, 2)


def test_the_cli_dry_runs_then_migrates(tmp_path: Path, database_url: str, clock: FixedClock) -> None:
    from tests.test_platform_cli import _cli, _env, _json

    env = _env(tmp_path, database_url)
    assert _cli(env, "init").returncode == 0
    assert (
        _cli(env, "issuer", "create", "--name", "TU Example", "--slug", "tu-example", "--country", "NL").returncode == 0
    )
    export = tmp_path / "badgr.json"
    export.write_text(json.dumps(_export(clock)))
    dry = _json(_cli(env, "migrate", str(export), "--issuer", "tu-example", "--dry-run", "--json"))
    assert dry["dry_run"] is True and dry["awards"]["issue"] == 2
    human = _cli(env, "migrate", str(export), "--issuer", "tu-example")
    assert human.returncode == 0 and "issued 2 credentials" in human.stdout and "skipped" in human.stdout
    again = _json(_cli(env, "migrate", str(export), "--issuer", "tu-example", "--json"))
    assert again["awards"] == {"issued": 0, "already": 2, "skipped": 4}
    unknown = _cli(env, "migrate", str(export), "--issuer", "nobody")
    assert unknown.returncode == 2 and "nobody" in unknown.stderr and "Traceback" not in unknown.stderr


def test_a_row_that_cannot_be_awarded_is_skipped_and_the_rest_go_on(platform: bootstrap.Platform, issuer: Any,
                                                                     microcredential: Any) -> None:  # fmt: skip
    from microcred.services.issuing import parse_definition
    from tests.platform_fixtures import COMPLETE

    platform.catalog.create(issuer.slug, parse_definition({**COMPLETE, "name": "Still a Draft"}))
    csv = ("badge,email,issued_on,evidence_url\n"
           "Still a Draft,ada@example.org,2022-05-01,\n"
           "Data Analytics with Python,ada@example.org,2022-05-01,ftp://not-a-web-address\n"
           "Data Analytics with Python,grace@example.org,2022-05-01,\n")  # fmt: skip
    done = platform.migration.migrate(issuer.slug, csv.encode(), dry_run=False).to_json()
    assert done["awards"]["issued"] == 1
    reasons = {s["where"]: s["reason"] for s in done["skipped"]}
    assert "neither in the export nor a microcredential" in reasons["line 2"]  # a draft is not awardable
    assert "evidence_url" in reasons["line 3"]


def test_the_same_award_twice_in_one_export_is_issued_once(platform: bootstrap.Platform, issuer: Any,
                                                           microcredential: Any) -> None:  # fmt: skip
    row = "Data Analytics with Python,ada@example.org,2022-05-01\n"
    csv = ("badge,email,issued_on\n" + row + row.replace("ada@", "ADA@")).encode()
    assert platform.migration.migrate(issuer.slug, csv, dry_run=True).to_json()["awards"] == {
        "issue": 1,
        "already": 1,
        "skipped": 0,
    }
    assert platform.migration.migrate(issuer.slug, csv, dry_run=False).to_json()["awards"] == {
        "issued": 1,
        "already": 1,
        "skipped": 0,
    }
