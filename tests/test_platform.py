"""The issuing platform end to end on the database under test."""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any

import pytest

from microcred import bootstrap
from microcred.errors import InputError, SigningError, UsageError
from microcred.services.awarding import AwardRequest
from microcred.services.issuing import Conflict, NotFound, parse_definition
from microcred.services.keys import KeyVault
from microcred.standards.schema import validate_against
from microcred.storage import models
from tests.platform_fixtures import COMPLETE


def test_issuer_gets_a_did_web_identity_and_an_encrypted_key(platform: bootstrap.Platform, issuer: Any) -> None:
    assert issuer.did == "did:web:microcred.example:issuers:tu-example"
    with platform.runtime.db.transaction() as repo:
        (key,) = repo.keys(issuer.id)
        assert len(key.encrypted_secret) == 12 + 32 + 16  # nonce, seed, tag: never the raw seed
        pair = platform.runtime.vault.open(key.encrypted_secret, f"{issuer.did}#{key.key_id}")
        assert pair.public_bytes == key.public_key
        with pytest.raises(SigningError):
            KeyVault(b"\x01" * 32).open(key.encrypted_secret, f"{issuer.did}#{key.key_id}")
        with pytest.raises(SigningError):
            platform.runtime.vault.open(key.encrypted_secret, f"{issuer.did}#another-key")


@pytest.mark.parametrize(
    ("field", "value"), [("slug", "Bad Slug"), ("country", "Netherlands"), ("name", " "), ("url", "ftp://x")]
)
def test_invalid_issuer_fields_are_refused(platform: bootstrap.Platform, field: str, value: str) -> None:
    fields = {"name": "X", "slug": "x", "country": "NL", "url": None} | {field: value}
    with pytest.raises(InputError):
        platform.issuers.create(**fields)
    assert platform.issuers.list() == []


def test_duplicate_issuer_slug_is_a_conflict(platform: bootstrap.Platform, issuer: Any) -> None:
    with pytest.raises(Conflict):
        platform.issuers.create(name="Other", slug=issuer.slug, country="DE")


def test_award_is_signed_stored_exactly_and_verifies_locally(
    platform: bootstrap.Platform, microcredential: Any, local_verifier: Any
) -> None:
    outcome = platform.awards.award(AwardRequest(microcredential.id, "Ada@Example.org", name="Ada Lovelace", grade="A"))
    assert outcome.created and outcome.url == f"https://microcred.example/credentials/{outcome.id}"
    with platform.runtime.db.transaction() as repo:
        stored = repo.award(outcome.id)
        assert stored is not None and json.loads(stored.credential) == outcome.credential
        assert stored.recipient_email == "ada@example.org"
    report = local_verifier.verify(outcome.credential)
    assert report.verified, report.to_json()
    assert report.status_of("status.revocation") == "passed" and report.status_of("status.suspension") is None
    achievement = outcome.credential["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "MicroCredential"
    assert (
        achievement["eqfLevel"] == 6
        and achievement["ectsCredits"] == 5
        and achievement["participationForm"] == "online"
    )
    assert outcome.credential["validUntil"] > outcome.credential["validFrom"]


def test_eu_elements_are_signed_not_dropped(platform: bootstrap.Platform, microcredential: Any) -> None:
    outcome = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org"))
    canonical = platform.jsonld.canonize({k: v for k, v in outcome.credential.items() if k != "proof"})
    for term in (
        "learningOutcome",
        "workloadHours",
        "eqfLevel",
        "assessmentType",
        "participationForm",
        "qualityAssurance",
    ):
        assert f"<https://microcred.dev/ns/eu#{term}>" in canonical


def test_awarding_the_same_row_twice_issues_once(platform: bootstrap.Platform, microcredential: Any) -> None:
    first = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", external_id="S-1"))
    again = platform.awards.award(AwardRequest(microcredential.id, " ADA@example.org ", external_id="S-1"))
    other = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", external_id="S-2"))
    assert again.id == first.id and not again.created
    assert other.created and other.id != first.id


@pytest.mark.parametrize("email", ["not-an-email", "", "a@b", "x" * 400 + "@example.org"])
def test_bad_recipient_is_refused_and_nothing_is_written(
    platform: bootstrap.Platform, microcredential: Any, email: str
) -> None:
    with pytest.raises(InputError):
        platform.awards.award(AwardRequest(microcredential.id, email))
    with platform.runtime.db.transaction() as repo:
        assert repo.count(models.Award) == 0 and repo.count(models.StatusEntry) == 0


def test_unknown_microcredential_is_not_found(platform: bootstrap.Platform, issuer: Any) -> None:
    with pytest.raises(NotFound):
        platform.awards.award(AwardRequest("00000000-0000-0000-0000-000000000000", "ada@example.org"))


def test_revocation_shows_in_the_signed_status_list(
    platform: bootstrap.Platform, microcredential: Any, local_verifier: Any
) -> None:
    outcome = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org"))
    platform.awards.revoke(outcome.id, "issued in error")
    report = local_verifier.verify(outcome.credential)
    assert not report.verified and report.status_of("status.revocation") == "failed"
    with pytest.raises(Conflict):
        platform.awards.revoke(outcome.id, "again")
    with pytest.raises(Conflict):
        platform.awards.suspend(outcome.id, "too late")


def test_a_revocable_award_has_one_revocation_entry_and_cannot_be_suspended(
    platform: bootstrap.Platform, microcredential: Any
) -> None:
    outcome = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org"))
    assert outcome.credential["credentialStatus"]["statusPurpose"] == "revocation"
    with pytest.raises(Conflict, match="revoked but not suspended"):
        platform.awards.suspend(outcome.id, "investigation")
    assert not platform.awards.suspendable(outcome.id)


def test_our_awards_show_no_warning_at_all(
    platform: bootstrap.Platform, microcredential: Any, suspendable: Any, local_verifier: Any
) -> None:
    """Against the official OB 3.0 AchievementCredential schema, the VCDM 2.0 rules and every other check."""
    for mc in (microcredential, suspendable):
        outcome = platform.awards.award(AwardRequest(mc.id, "ada@example.org", "Ada Lovelace"))
        assert isinstance(outcome.credential["credentialStatus"], dict)
        report = local_verifier.verify(outcome.credential)
        assert report.verified
        assert [c.to_json() for c in report.checks if c.status == "warning"] == []
        schema = next(c for c in report.checks if c.code == "schema")
        assert schema.status == "passed" and "AchievementCredential" in schema.message
        assert validate_against("VerifiableCredential", outcome.credential).errors == []  # the VCDM 2.0 schema


def test_a_suspendable_award_is_suspended_and_revoked_through_one_entry(
    platform: bootstrap.Platform, suspendable: Any, local_verifier: Any
) -> None:
    outcome = platform.awards.award(AwardRequest(suspendable.id, "ada@example.org"))
    assert outcome.credential["credentialStatus"]["statusPurpose"] == "suspension"
    platform.awards.revoke(outcome.id, "plagiarism")
    assert local_verifier.verify(outcome.credential).status_of("status.suspension") == "failed"
    with pytest.raises(Conflict):
        platform.awards.unsuspend(outcome.id, "no")


def test_suspension_can_be_lifted(platform: bootstrap.Platform, suspendable: Any, local_verifier: Any) -> None:
    outcome = platform.awards.award(AwardRequest(suspendable.id, "ada@example.org"))
    platform.awards.suspend(outcome.id, "investigation")
    assert local_verifier.verify(outcome.credential).status_of("status.suspension") == "failed"
    with pytest.raises(Conflict):
        platform.awards.suspend(outcome.id, "twice")
    platform.awards.unsuspend(outcome.id, "cleared")
    assert local_verifier.verify(outcome.credential).verified


def test_status_list_credential_is_signed_by_the_issuer(
    platform: bootstrap.Platform, microcredential: Any, local_verifier: Any
) -> None:
    platform.awards.award(AwardRequest(microcredential.id, "ada@example.org"))
    status_list = platform.awards.status_list_credential("tu-example", "revocation", 1)
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert isinstance(status_list["issuer"], str)
    report = local_verifier.verify(status_list)
    assert report.verified, report.to_json()
    with pytest.raises(NotFound):
        platform.awards.status_list_credential("tu-example", "revocation", 2)


def test_status_indexes_are_random_and_never_shared(platform: bootstrap.Platform, microcredential: Any) -> None:
    outcomes = [platform.awards.award(AwardRequest(microcredential.id, f"learner{i}@example.org")) for i in range(30)]
    indexes = [int(o.credential["credentialStatus"]["statusListIndex"]) for o in outcomes]
    assert len(set(indexes)) == 30
    assert indexes != sorted(indexes)  # random, not max+1
    with platform.runtime.db.transaction() as repo:
        assert repo.count(models.StatusEntry) == 30


def test_concurrent_awarding_never_shares_an_index(make_platform: Any, microcredential: Any) -> None:
    platforms = [make_platform() for _ in range(4)]
    results: list[Any] = []
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(10):
                results.append(
                    platforms[worker].awards.award(AwardRequest(microcredential.id, f"w{worker}-{i}@example.org"))
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == 40
    pairs = {
        (e["statusListCredential"], e["statusListIndex"]) for e in (r.credential["credentialStatus"] for r in results)
    }
    assert len(pairs) == 40


def test_key_rotation_keeps_old_credentials_verifying(
    platform: bootstrap.Platform, microcredential: Any, local_verifier: Any
) -> None:
    before = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org"))
    assert local_verifier.verify(before.credential).verified  # the DID document is now cached
    assert platform.issuers.rotate_key("tu-example") == "key-2"
    after = platform.awards.award(AwardRequest(microcredential.id, "grace@example.org"))
    assert after.credential["proof"][0]["verificationMethod"].endswith("#key-2")
    assert before.credential["proof"][0]["verificationMethod"].endswith("#key-1")
    assert local_verifier.verify(before.credential).verified
    assert local_verifier.verify(after.credential).verified


def test_editing_an_awarded_microcredential_creates_a_version(
    platform: bootstrap.Platform, microcredential: Any
) -> None:
    edited = parse_definition(COMPLETE | {"name": "Data Analytics with Python (2027)"})
    assert platform.catalog.update(microcredential.id, edited).version == 1  # no awards yet: edited in place
    first = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org"))
    assert platform.catalog.update(microcredential.id, parse_definition(COMPLETE | {"ects": 6})).version == 2
    second = platform.awards.award(AwardRequest(microcredential.id, "grace@example.org"))
    assert first.credential["credentialSubject"]["achievement"]["ectsCredits"] == 5
    assert first.credential["credentialSubject"]["achievement"]["id"].endswith("/v1")
    assert second.credential["credentialSubject"]["achievement"]["ectsCredits"] == 6
    assert second.credential["credentialSubject"]["achievement"]["id"].endswith("/v2")


def test_lint_names_missing_eu_elements(platform: bootstrap.Platform, issuer: Any) -> None:
    sparse = platform.catalog.create(
        issuer.slug, parse_definition({"name": "Intro", "description": "d", "criteria": "c"})
    )
    missing = platform.catalog.lint(sparse.id)
    assert "learning outcomes" in missing and "level (EQF 1-8)" in missing and "type of quality assurance" in missing
    assert "country of the issuer" not in missing


@pytest.mark.parametrize(
    "data",
    [
        {"name": "x"},
        COMPLETE | {"eqf_level": 9},
        COMPLETE | {"participation_form": "hybrid"},
        COMPLETE | {"achievement_type": "Trophy"},
        COMPLETE | {"unknown": 1},
        COMPLETE | {"skills": [{"uri": "not a url", "label": "x"}]},
    ],
)
def test_invalid_definitions_give_clear_errors(data: dict[str, Any]) -> None:
    with pytest.raises(InputError, match="invalid microcredential"):
        parse_definition(data)


def test_accounts_hash_passwords_and_tokens(platform: bootstrap.Platform) -> None:
    user = platform.accounts.create_user("admin@example.org", "correct horse battery", "platform_admin")
    assert user.password_hash and user.password_hash.startswith("$argon2")
    assert platform.accounts.check_password("admin@example.org", "correct horse battery") is not None
    assert platform.accounts.check_password("admin@example.org", "wrong password!!") is None
    token = platform.accounts.create_token("admin@example.org", "platform_admin", days=1)
    assert token.token.startswith("mct_") and len(token.token) > 40
    who = platform.accounts.principal(token.token)
    assert who is not None and (who.email, who.role) == ("admin@example.org", "platform_admin")
    with platform.runtime.db.read() as repo:
        row = repo.token_by_prefix(token.prefix)
        assert row is not None and row.token_hash == hashlib.sha256(token.token.encode()).hexdigest() != token.token
    assert platform.accounts.principal(token.token + "x") is None
    platform.accounts.revoke_token(token.prefix)
    assert platform.accounts.principal(token.token) is None
    with pytest.raises(InputError):
        platform.accounts.create_user("weak@example.org", "short", "learner")


def test_audit_log_records_who_did_what(platform: bootstrap.Platform, microcredential: Any) -> None:
    outcome = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org"), actor="staff@tu.example")
    platform.awards.revoke(outcome.id, "error", actor="admin@tu.example")
    with platform.runtime.db.transaction() as repo:
        actions = [(e.actor, e.action) for e in repo.audit_events()]
    assert ("staff@tu.example", "award.create") in actions and ("admin@tu.example", "award.revoke") in actions
    assert ("cli", "issuer.create") in actions and ("cli", "key.create") in actions


def test_models_and_migrations_never_drift(platform: bootstrap.Platform) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from microcred.storage.models import Base

    with platform.runtime.db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert diff == []


def test_a_database_behind_the_code_is_refused(platform: bootstrap.Platform, settings: Any, clock: Any) -> None:
    with platform.runtime.db.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0000'")
    with pytest.raises(UsageError, match="db upgrade"):
        bootstrap.build_platform(settings, clock)


def test_a_key_that_does_not_match_the_did_document_stores_nothing(
    platform: bootstrap.Platform, issuer: Any, microcredential: Any
) -> None:
    with platform.runtime.db.transaction() as repo:
        (key,) = repo.keys(issuer.id)
        key.public_key = bytes(31) + b"\x09"  # the published key no longer matches the sealed secret
    with pytest.raises(SigningError, match="nothing was stored"):
        platform.awards.award(AwardRequest(microcredential.id, "ada@example.org"))
    with platform.runtime.db.read() as repo:
        assert repo.count(models.Award) == 0 and repo.count(models.StatusEntry) == 0


def test_a_full_status_list_is_followed_by_a_new_one(
    platform: bootstrap.Platform, microcredential: Any, local_verifier: Any
) -> None:
    first = platform.awards.award(AwardRequest(microcredential.id, "first@example.org"))
    with platform.runtime.db.transaction() as repo:
        status_list = repo.open_status_list(1, "revocation")
        assert status_list is not None
        allocated = bytearray(b"\xff" * (status_list.size // 8))
        allocated[-1] = 0xFE  # exactly one free index left: the last one
        status_list.allocated, status_list.used = bytes(allocated), status_list.size - 1
    last = platform.awards.award(AwardRequest(microcredential.id, "last@example.org"))
    overflow = platform.awards.award(AwardRequest(microcredential.id, "overflow@example.org"))
    assert last.credential["credentialStatus"]["statusListIndex"] == "131071"
    assert last.credential["credentialStatus"]["statusListCredential"].endswith("/revocation/1")
    assert overflow.credential["credentialStatus"]["statusListCredential"].endswith("/revocation/2")
    for outcome in (first, last, overflow):
        assert local_verifier.verify(outcome.credential).verified


def test_an_issuer_can_sign_with_eddsa_jcs_2022(platform: bootstrap.Platform, local_verifier: Any) -> None:
    platform.issuers.create(name="JCS Academy", slug="jcs-academy", country="FR", suite="eddsa-jcs-2022")
    mc = platform.catalog.create("jcs-academy", parse_definition(COMPLETE), publish=True, exemption="test fixture")
    credential = platform.awards.award(AwardRequest(mc.id, "ada@example.org")).credential
    assert credential["proof"][0]["cryptosuite"] == "eddsa-jcs-2022"
    assert local_verifier.verify(credential).verified
    with pytest.raises(InputError, match="suite"):
        platform.issuers.create(name="X", slug="x", country="FR", suite="rsa")


def test_versions_and_keys_are_listed(platform: bootstrap.Platform, issuer: Any, microcredential: Any) -> None:
    platform.awards.award(AwardRequest(microcredential.id, "ada@example.org"))
    platform.catalog.update(microcredential.id, parse_definition(COMPLETE | {"ects": 6}))
    assert [(n, d.ects, awards) for n, d, _created, awards in platform.catalog.versions(microcredential.id)] == [
        (1, 5, 1),
        (2, 6, 0),
    ]
    platform.issuers.rotate_key(issuer.slug)
    keys = platform.issuers.keys(issuer.slug)
    assert [(k["id"].rsplit("#", 1)[1], k["active"]) for k in keys] == [("key-1", False), ("key-2", True)]
    assert keys[0]["retired"] is not None and all(k["publicKeyMultibase"].startswith("z6Mk") for k in keys)


def test_a_value_the_database_cannot_hold_is_an_input_error(platform: bootstrap.Platform) -> None:
    """PostgreSQL refuses NUL characters in text (SQLite stores them): either way, never a 500."""
    from microcred.errors import InputError

    if platform.runtime.db.engine.dialect.name == "postgresql":
        with pytest.raises(InputError, match="cannot be stored or searched for"), platform.runtime.db.read() as repo:
            repo.issuer_by_slug("tu\x00example")
    else:
        with platform.runtime.db.read() as repo:
            assert repo.issuer_by_slug("tu\x00example") is None
