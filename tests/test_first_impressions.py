"""What a new issuer, learner or employer meets first (issue 15), without a browser: wallet import rules,
the learner record, the QR code, the verdict on a failed credential, the draft lifecycle, catalogue pages,
revocation safeguards, ids out of range."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from fastapi.testclient import TestClient

from microcred import bootstrap
from microcred.server import create_app
from microcred.services.awarding import AwardRequest
from microcred.services.credentials import SignRequest
from microcred.services.issuing import Conflict, parse_definition
from microcred.services.presentation import achievement_type_label
from microcred.services.samples import data_analytics_microcredential
from microcred.services.wallet import ImportRefused, ownership_refusal
from microcred.services.web_accounts import SessionUser
from microcred.standards import ob3
from microcred.standards.dids import did_key_for
from microcred.standards.keys import Ed25519KeyPair
from microcred.web.core import download_name, hours, money
from tests.platform_fixtures import COMPLETE

PASSWORD = "correct horse battery staple"
HTML = {"accept": "text/html"}


@pytest.fixture
def app(platform: bootstrap.Platform, issuer: Any, microcredential: Any) -> Any:
    platform.accounts.create_user("admin@tu.example", PASSWORD, "issuer_admin", "tu-example")
    platform.accounts.create_user("ada@example.org", PASSWORD, "learner", name="Ada Lovelace")
    platform.accounts.create_user("hr@employer.example", PASSWORD, "employer")
    return create_app(platform)


def client_for(app: Any, email: str | None = None) -> TestClient:
    client = TestClient(app, base_url="https://microcred.example", raise_server_exceptions=False)
    if email:
        response = client.post(
            "/signin", data={"csrf": csrf_of(client, "/signin"), "email": email, "password": PASSWORD},
            follow_redirects=False,
        )  # fmt: skip
        assert response.status_code == 303, response.text
    return client


def csrf_of(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(path, headers=HTML).text)
    assert found, f"no form on {path}"
    return found.group(1)


def _holder(platform: bootstrap.Platform, email: str) -> SessionUser:
    with platform.runtime.db.read() as repo:
        user = repo.user_by_email(email)
    assert user is not None
    return SessionUser(user.id, user.email, user.role, None, user.name, verified=True, session_id="t")


def _external(platform: bootstrap.Platform, email: str, subject: str = "did:example:someone") -> str:
    key = Ed25519KeyPair.generate()
    credential = data_analytics_microcredential(
        did_key_for(key.public_bytes),
        subject,
        platform.runtime.clock.now(),
        f"urn:uuid:{key.public_multibase[-12:]}",
        email,
    )
    return json.dumps(platform.credentials.sign(SignRequest(credential, key)))


# -- wallet import rules ----------------------------------------------------------------------------------
def test_a_credential_issued_to_someone_else_is_refused_and_mine_is_kept(
    app: Any, platform: bootstrap.Platform
) -> None:
    ada = _holder(platform, "ada@example.org")
    with pytest.raises(ImportRefused, match=r"not issued to ada@example\.org"):
        platform.wallet.import_credential(ada, _external(platform, "grace@example.org"), "pasted")
    item = platform.wallet.import_credential(ada, _external(platform, "ADA@example.org"), "pasted")
    assert item.name == "Data Analytics with Python"
    with platform.runtime.db.read() as repo:
        assert [i.id for i in repo.wallet_items(ada.id)] == [item.id]


def test_ownership_reads_hashed_plain_and_mailto_identities_and_refuses_bare_dids() -> None:
    def credential(subject: dict[str, Any]) -> dict[str, Any]:
        return {"credentialSubject": subject}

    email = "ada@example.org"
    salted = ob3.hashed_email(email, "pepper")
    assert ownership_refusal(credential({"identifier": [salted]}), email) is None
    plain = {
        "type": "IdentityObject",
        "identityType": "emailAddress",
        "hashed": False,
        "identityHash": "Ada@Example.org",
    }
    assert ownership_refusal(credential({"identifier": [plain]}), email) is None
    assert ownership_refusal(credential({"id": "mailto:ada@example.org"}), email) is None
    assert ownership_refusal(credential({"identifier": [ob3.hashed_email("eve@example.org", "pepper")]}), email)
    wrong_salt = {**salted, "salt": "other"}
    assert ownership_refusal(credential({"identifier": [wrong_salt]}), email)
    refusal = ownership_refusal(credential({"id": "did:example:ada"}), email)
    assert refusal is not None and "DID" in refusal
    assert ownership_refusal(credential({"identifier": [{**salted, "identityHash": "sha1$00"}]}), email)


def test_a_revoked_credential_is_not_imported(app: Any, platform: bootstrap.Platform, microcredential: Any) -> None:
    outcome = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", "Ada"))
    platform.awards.revoke(outcome.id, "issued in error")
    # Its own holder: ownership holds, so only the revocation can refuse it.
    assert ownership_refusal(outcome.credential, "ada@example.org") is None
    with pytest.raises(ImportRefused, match="does not verify") as refused:
        platform.wallet.import_credential(_holder(platform, "ada@example.org"), json.dumps(outcome.credential), "x")
    assert "revoked" in refused.value.message


# -- the learner record ----------------------------------------------------------------------------------
def test_the_learner_record_leaves_out_and_lists_what_no_longer_verifies(
    app: Any, platform: bootstrap.Platform, microcredential: Any
) -> None:
    kept = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", "Ada", external_id="one"))
    gone = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", "Ada", external_id="two"))
    platform.awards.revoke(gone.id, "plagiarism")
    record = platform.clr.export_record("ada@example.org")
    embedded = [c["id"] for c in record.clr["credentialSubject"]["verifiableCredential"]]
    assert embedded == [kept.credential["id"]]
    assert [o.id for o in record.omitted] == [gone.credential["id"]] and "revoked" in record.omitted[0].reason
    assert platform.credentials.verify(record.clr).verified
    learner = client_for(app, "ada@example.org")
    page = learner.get("/wallet/clr", headers=HTML)
    assert page.status_code == 200 and "Left out (1)" in page.text and "In the record (1)" in page.text
    download = learner.get("/wallet/clr?download=1")
    assert download.status_code == 200 and "learner-record-ada-lovelace.json" in download.headers["content-disposition"]
    assert platform.credentials.verify(download.content).verified


# -- public credential pages ---------------------------------------------------------------------------------
def test_the_qr_code_is_a_standalone_svg(app: Any, platform: bootstrap.Platform, microcredential: Any) -> None:
    outcome = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", "Ada"))
    platform.wallet.set_public(_holder(platform, "ada@example.org"), outcome.id, True)
    response = client_for(app).get(f"/credentials/{outcome.id}/qr.svg")
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_a_tampered_credential_never_looks_genuine(
    app: Any, platform: bootstrap.Platform, microcredential: Any
) -> None:
    outcome = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", "Ada"))
    tampered = json.loads(json.dumps(outcome.credential))
    tampered["credentialSubject"]["achievement"]["name"] = "Data Analytics (Distinction)"
    client = client_for(app)
    page = client.post("/verify", data={"csrf": csrf_of(client, "/verify"), "text": json.dumps(tampered)}).text
    assert "Not verified" in page and "What it claims — not verified" in page and "Claims to be:" in page
    assert 'class="badge-img"' not in page  # no badge, so a screenshot of the claim cannot pass for the real thing
    genuine = client.post("/verify", data={"csrf": csrf_of(client, "/verify"), "text": json.dumps(outcome.credential)})
    assert "Issued by TU Example to Ada" in genuine.text and "not revoked" in genuine.text
    assert "claim-label" not in genuine.text


def test_downloads_are_named_for_people(app: Any, platform: bootstrap.Platform, microcredential: Any) -> None:
    outcome = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", "Ada Lovelace"))
    learner = client_for(app, "ada@example.org")
    response = learner.get(f"/wallet/credentials/{outcome.id}/download/pdf")
    assert response.status_code == 200
    assert 'filename="data-analytics-with-python-ada-lovelace.pdf"' in response.headers["content-disposition"]
    assert download_name("Zoë’s Café", "", suffix="png") == "zoes-cafe.png"
    assert download_name("", suffix="json") == "credential.json"


# -- the draft lifecycle and catalogue pages ---------------------------------------------------------------------
def test_drafts_stay_out_of_the_catalogue_and_cannot_be_awarded(app: Any, platform: bootstrap.Platform) -> None:
    sparse = platform.catalog.create("tu-example", parse_definition({"name": "Intro", "description": "d"}))
    assert not sparse.published
    with pytest.raises(Conflict, match="is a draft"):
        platform.awards.award(AwardRequest(sparse.id, "ada@example.org"))
    assert sparse.id not in platform.learning.catalogue()
    assert client_for(app).get(f"/microcredentials/{sparse.id}", headers=HTML).status_code == 404
    with pytest.raises(Exception, match="EU mandatory element"):
        platform.catalog.publish(sparse.id)
    published = platform.catalog.publish(sparse.id, "a taster session, not a course", actor="admin@tu.example")
    assert published.published and sparse.id in platform.learning.catalogue()
    with platform.runtime.db.read() as repo:
        audit = [e for e in repo.audit_events(None, 100) if e.action == "microcredential.publish"]
    assert audit and "a taster session" in audit[0].detail
    assert platform.awards.award(AwardRequest(sparse.id, "ada@example.org")).created


def test_the_achievement_id_answers_people_and_machines(
    app: Any, platform: bootstrap.Platform, microcredential: Any
) -> None:
    outcome = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", "Ada"))
    achievement_id = outcome.credential["credentialSubject"]["achievement"]["id"]
    path = achievement_id.removeprefix(platform.runtime.base_url)
    client = client_for(app)
    page = client.get(path, headers=HTML)
    assert page.status_code == 200 and "What you learn" in page.text and "How to earn it" in page.text
    machine = client.get(path, headers={"accept": "application/ld+json"})
    document = machine.json()
    assert machine.headers["content-type"].startswith("application/ld+json")
    assert document["id"] == achievement_id
    assert document["name"] == outcome.credential["credentialSubject"]["achievement"]["name"]
    assert client.get(path.replace("/v1", "/v9"), headers=HTML).status_code == 404
    assert client.get(path.replace("/v1", "/nonsense"), headers=HTML).status_code == 404
    catalogue = client.get("/catalogue", headers=HTML).text
    assert f'href="/microcredentials/{microcredential.id}"' in catalogue
    assert "0.0 EUR" not in catalogue and "? hours" not in catalogue and "1 microcredentials" not in catalogue


def test_catalogue_figures_read_as_people_write_them() -> None:
    assert money(None, "EUR") == "Price on request" and money(0, "EUR") == "Free"
    assert money(450.0, "EUR") == "450 EUR" and money(19.5, "EUR") == "19.50 EUR"
    assert hours(20.0) == "20 hours" and hours(1) == "1 hour" and hours(7.5) == "7.5 hours" and hours(None) == ""
    assert achievement_type_label("GeneralEducationDevelopment") == "General education development (GED)"
    assert achievement_type_label("ext:CapstoneProject") == "Capstone project"


# -- console safeguards, landing pages, ids out of range ---------------------------------------------------------
def test_revoking_needs_the_confirmation_and_ends_the_claim_link(
    app: Any, platform: bootstrap.Platform, microcredential: Any
) -> None:
    outcome = platform.awards.award(AwardRequest(microcredential.id, "new@example.org", "New"))
    staff = client_for(app, "admin@tu.example")
    csrf = csrf_of(staff, f"/console/awards/{outcome.id}")
    staff.post(f"/console/awards/{outcome.id}/revoke", data={"csrf": csrf, "reason": "error"}, headers=HTML)
    with platform.runtime.db.read() as repo:
        assert repo.award(outcome.id).revoked_at is None  # no confirmation, nothing revoked
    staff.post(f"/console/awards/{outcome.id}/revoke", data={"csrf": csrf, "reason": "error", "confirm": "yes"})
    with platform.runtime.db.read() as repo:
        assert repo.award(outcome.id).revoked_at is not None
    page = staff.get(f"/console/awards/{outcome.id}", headers=HTML).text
    assert "Send the claim link again" not in page
    sent = len(platform.mailer.messages(to="new@example.org"))  # type: ignore[attr-defined]
    staff.post(f"/console/awards/{outcome.id}/resend", data={"csrf": csrf})
    assert len(platform.mailer.messages(to="new@example.org")) == sent  # type: ignore[attr-defined]


def test_each_role_lands_on_its_own_start_page(app: Any) -> None:
    for email, home in (
        ("hr@employer.example", "/talent"),
        ("ada@example.org", "/wallet"),
        ("admin@tu.example", "/console"),
    ):
        client = TestClient(app, base_url="https://microcred.example")
        response = client.post(
            "/signin", data={"csrf": csrf_of(client, "/signin"), "email": email, "password": PASSWORD},
            follow_redirects=False,
        )  # fmt: skip
        assert response.headers["location"] == home, email
        nav = client.get(home, headers=HTML).text.split("</nav>")[0]
        assert ('href="/wallet"' in nav) == (email == "ada@example.org"), email
        assert ('href="/talent"' in nav) == (email == "hr@employer.example"), email


@pytest.mark.parametrize("big", [2**31, 359611226974075091395681452032])
def test_ids_beyond_the_database_range_are_not_found(app: Any, platform: bootstrap.Platform, big: int) -> None:
    token = platform.accounts.create_token("admin@tu.example", "issuer_admin").token
    api = TestClient(app, base_url="https://microcred.example", raise_server_exceptions=False)
    headers = {"authorization": f"Bearer {token}"}
    assert api.delete(f"/api/v1/roles/{big}", headers=headers).status_code == 404
    assert api.get(f"/api/v1/roles/{big}", headers=headers).status_code == 404
    assert api.get(f"/api/v1/awards?offset={big * 2**40}", headers=headers).status_code == 422
    employer = client_for(app, "hr@employer.example")
    assert employer.get(f"/talent/roles/{big}/shortlist.csv", headers=HTML).status_code in (404, 422)


def test_publishing_from_the_api_follows_the_same_rule(app: Any, platform: bootstrap.Platform) -> None:
    token = platform.accounts.create_token("admin@tu.example", "issuer_admin").token
    api = TestClient(app, base_url="https://microcred.example", raise_server_exceptions=False)
    headers = {"authorization": f"Bearer {token}"}
    created = api.post(
        "/api/v1/microcredentials", json={"issuer": "tu-example", "definition": COMPLETE}, headers=headers
    )
    assert created.status_code == 201 and created.json()["published"] is False
    mc_id = created.json()["id"]
    award = api.post("/api/v1/awards", json={"microcredential": mc_id, "email": "x@example.org"}, headers=headers)
    assert award.status_code == 409 and "draft" in award.json()["detail"]
    published = api.post(f"/api/v1/microcredentials/{mc_id}/publish", json={}, headers=headers)
    assert published.status_code == 200 and published.json()["published"] is True
    again = api.post("/api/v1/awards", json={"microcredential": mc_id, "email": "x@example.org"}, headers=headers)
    assert again.status_code == 201


def test_the_audit_log_reads_in_words_and_filters_searches_and_exports(
    app: Any, platform: bootstrap.Platform, microcredential: Any
) -> None:
    outcome = platform.awards.award(
        AwardRequest(microcredential.id, "ada@example.org", "Ada"), actor="admin@tu.example"
    )
    platform.awards.revoke(outcome.id, "plagiarism found", actor="admin@tu.example")
    platform.issuers.create(name="Other College", slug="other", country="BE")
    platform.accounts.create_user("admin@other.example", PASSWORD, "issuer_admin", "other")
    staff = client_for(app, "admin@tu.example")
    page = staff.get("/console/audit", headers=HTML).text
    assert "Revoked a credential" in page and f'href="/console/awards/{outcome.id}"' in page
    assert "plagiarism found" in page and "award.revoke" not in page and "{&#34;" not in page
    found = staff.get("/console/audit?q=plagiarism", headers=HTML).text
    assert "Revoked a credential" in found and "Published a microcredential" not in found
    only = staff.get("/console/audit?area=microcredential", headers=HTML).text
    assert "Published a microcredential" in only and "Revoked a credential" not in only
    exported = staff.get("/console/audit.csv?area=award")
    assert (
        exported.status_code == 200 and "Revoked a credential" in exported.text and "plagiarism found" in exported.text
    )
    rival = client_for(app, "admin@other.example").get("/console/audit", headers=HTML).text
    assert "plagiarism found" not in rival  # another organisation's log stays its own
    assert "Audit log" in staff.get("/console", headers=HTML).text  # the console links to it


def test_an_issuer_logo_reaches_new_credentials_and_their_page(
    app: Any, platform: bootstrap.Platform, microcredential: Any
) -> None:
    from microcred.standards.images import solid_png

    admin = client_for(app, "admin@tu.example")
    csrf = csrf_of(admin, "/console/issuers/tu-example")
    refused = admin.post("/console/issuers/tu-example/logo", data={"csrf": csrf},
                         files={"logo": ("logo.gif", b"GIF89a....", "image/gif")}, follow_redirects=True)  # fmt: skip
    assert "The logo was not used: logos must be PNG or SVG" in refused.text
    logo = solid_png(64, 64, (200, 30, 30))
    admin.post("/console/issuers/tu-example/logo", data={"csrf": csrf}, files={"logo": ("logo.png", logo, "image/png")})
    served = client_for(app).get("/issuers/tu-example/logo")
    assert served.content == logo and served.headers["content-type"] == "image/png"
    assert "default-src 'none'" in served.headers["content-security-policy"]
    outcome = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", "Ada"))
    assert outcome.credential["issuer"]["image"]["id"] == f"{platform.runtime.base_url}/issuers/tu-example/logo"
    page = client_for(app, "ada@example.org").get(f"/wallet/credentials/{outcome.id}", headers=HTML).text
    assert 'class="issuer-logo"' in page


def test_the_wallet_shows_badges_and_filters_by_issuer_and_skill(
    app: Any, platform: bootstrap.Platform, microcredential: Any
) -> None:
    ours = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", "Ada"))
    platform.wallet.import_credential(_holder(platform, "ada@example.org"), _external(platform, "ada@example.org"), "x")
    learner = client_for(app, "ada@example.org")
    page = learner.get("/wallet", headers=HTML).text
    assert f'src="/microcredentials/{microcredential.id}/image"' in page  # the badge, from this site
    assert "2 of 2 credentials" in page
    only_ours = learner.get("/wallet?issuer=TU+Example", headers=HTML).text
    assert f"/wallet/credentials/{ours.id}" in only_ours and "1 of 2 credentials" in only_ours
    skill = microcredential.definition.skills[0].label
    by_skill = learner.get("/wallet", params={"skill": skill}, headers=HTML).text
    assert f"/wallet/credentials/{ours.id}" in by_skill
    nothing = learner.get("/wallet", params={"skill": "Underwater basket weaving"}, headers=HTML).text
    assert "None of your credentials matches" in nothing


def test_the_designer_explains_bad_values_in_words(app: Any) -> None:
    admin = client_for(app, "admin@tu.example")
    csrf = csrf_of(admin, "/console/microcredentials/new")
    form = {"csrf": csrf, "issuer": "tu-example", "name": "Intro", "description": "d", "workload_hours": "0",
            "language": "English", "eqf_level": "6"}  # fmt: skip
    page = admin.post("/console/microcredentials/new", data=form, headers=HTML)
    assert page.status_code == 422
    assert "Must be more than 0." in page.text and "Use a language code such as en" in page.text
    assert "Input should be" not in page.text
