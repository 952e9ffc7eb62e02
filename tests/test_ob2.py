"""Open Badges 2.0: hosted, signed and baked assertions verified with a per-check report, and imported
into the wallet. The issuer's documents are served over real HTTPS on loopback and read through the
guarded fetcher (the operator allows that network); signatures come from joserfc and baked images from
openbadges-bakery, code we did not write. The documents follow the OB 2.0 specification's examples."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import openbadges_bakery
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from joserfc import jws
from joserfc.jwk import ECKey, RSAKey

from microcred import bootstrap
from microcred.clock import FixedClock
from microcred.config import Settings
from microcred.services.wallet import ImportRefused
from microcred.services.web_accounts import SessionUser
from microcred.standards.verify import FAILED, PASSED, WARNING
from tests.ob3_helpers import PASSWORD
from tests.webhook_receiver import _certificates, tls_server

CONTEXT = "https://w3id.org/openbadges/v2"
SALT = "deadsea"


@dataclass
class Documents:
    """An issuer's web server: path -> (status, JSON body)."""

    base: str
    ca: Path
    served: dict[str, tuple[int, Any]] = field(default_factory=dict)

    def put(self, path: str, document: Any, status: int = 200) -> str:
        self.served[path] = (status, document)
        return self.base + path


@contextmanager
def issuer_site(folder: Path) -> Iterator[Documents]:
    folder.mkdir(parents=True, exist_ok=True)
    ca, cert, key = _certificates(folder)
    state = Documents("", ca)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, document = state.served.get(self.path, (404, {"error": "not found"}))
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("content-type", "application/ld+json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with tls_server(Handler, cert, key) as base:
        state.base = base
        yield state


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Documents]:
    with issuer_site(tmp_path / "site") as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path, database_url: str, site: Documents) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=database_url, public_base_url="https://microcred.example",
        allow_fetch=True, fetch_allow_networks="127.0.0.1/32", fetch_ca_file=site.ca,
    )  # fmt: skip


def _hashed(email: str) -> dict[str, Any]:
    return {"type": "email", "hashed": True, "salt": SALT,
            "identity": "sha256$" + hashlib.sha256((email + SALT).encode()).hexdigest()}  # fmt: skip


def _issuer(site: Documents, **extra: Any) -> str:
    return site.put("/organization.json", {
        "@context": CONTEXT, "type": "Issuer", "id": site.base + "/organization.json",
        "name": "An Example Badge Issuer", "url": site.base, "email": "steved@example.org", **extra,
    })  # fmt: skip


def _badge(site: Documents, issuer: str) -> str:
    return site.put("/robotics-badge.json", {
        "@context": CONTEXT, "type": "BadgeClass", "id": site.base + "/robotics-badge.json",
        "name": "Awesome Robotics Badge",
        "description": "For doing awesome things with robots that people think is pretty great.",
        "image": "https://example.org/robotics-badge.png", "criteria": {"narrative": "Build a robot."},
        "issuer": issuer,
        "alignment": [{"targetName": "robotics", "targetUrl": "http://data.europa.eu/esco/skill/robotics"}],
    })  # fmt: skip


def _hosted(site: Documents, email: str = "ada@example.org", path: str = "/beths-robot-badge.json",
            **extra: Any) -> dict[str, Any]:  # fmt: skip
    """The specification's hosted example, served at its id."""
    badge = _badge(site, _issuer(site))
    assertion = {
        "@context": CONTEXT, "type": "Assertion", "id": site.base + path, "recipient": _hashed(email),
        "image": "https://example.org/beths-robot-badge.png", "evidence": "https://example.org/beths-robot-work.html",
        "issuedOn": "2016-12-31T23:59:59Z", "badge": badge, "verification": {"type": "hosted"}, **extra,
    }  # fmt: skip
    site.put(path, assertion)
    return assertion


def _checks(report: Any) -> dict[str, str]:
    return {c.code: c.status for c in report.checks}


# -- hosted ----------------------------------------------------------------------------------------
def test_a_hosted_assertion_verifies_with_a_report_per_check(platform: bootstrap.Platform, site: Documents) -> None:
    assertion = _hosted(site)
    report = platform.credentials.verify(json.dumps(assertion))
    assert report.verified, report.to_json()
    assert report.format == "ob2+json"
    checks = _checks(report)
    for code in ("parse", "format", "ob2.hosted", "ob2.assertion", "ob2.badge", "ob2.issuer", "key_binding",
                 "valid_from", "status.revocation"):  # fmt: skip
        assert checks[code] == PASSED, (code, report.to_json())
    assert checks["ob2.recipient"] == "skipped"  # no address to compare with: the form is named
    assert "a salted sha256 hash of an email" in str(report.to_json())
    assert report.to_json()["credential"]["achievement"] == "Awesome Robotics Badge"


def test_the_served_copy_is_the_one_checked(platform: bootstrap.Platform, site: Documents) -> None:
    assertion = _hosted(site)
    edited = {**assertion, "issuedOn": "2015-01-01T00:00:00Z"}
    report = platform.credentials.verify(json.dumps(edited))
    assert _checks(report)["ob2.hosted"] == WARNING and report.verified
    assert report.original == assertion


@pytest.mark.parametrize(
    ("served", "code"),
    [({"revoked": True, "revocationReason": "cheated"}, "status.revocation"), ({"expires": "2017-01-01T00:00:00Z"},
     "valid_until"), ({"issuedOn": "2099-01-01T00:00:00Z"}, "valid_from")],
)  # fmt: skip
def test_revoked_expired_and_future_hosted_assertions_fail_their_check(
    platform: bootstrap.Platform, site: Documents, served: dict[str, Any], code: str
) -> None:
    assertion = _hosted(site, **served)
    report = platform.credentials.verify(json.dumps(assertion))
    assert _checks(report)[code] == FAILED and not report.verified


def test_a_withdrawn_hosted_assertion_is_revoked(platform: bootstrap.Platform, site: Documents) -> None:
    assertion = _hosted(site)
    site.put("/beths-robot-badge.json", {"error": "gone"}, status=410)
    report = platform.credentials.verify(json.dumps(assertion))
    assert _checks(report)["status.revocation"] == FAILED and "410" in report.checks[-1].message


def test_a_hosted_assertion_must_live_where_its_issuer_allows(platform: bootstrap.Platform, site: Documents) -> None:
    badge = _badge(site, site.put("/elsewhere.json", {
        "@context": CONTEXT, "type": "Issuer", "id": "https://issuer.example/organization.json", "name": "Elsewhere",
        "url": "https://issuer.example"}))  # fmt: skip
    assertion = {"@context": CONTEXT, "type": "Assertion", "id": site.base + "/a1.json", "recipient": _hashed("a@b.c"),
                 "issuedOn": "2016-12-31T23:59:59Z", "badge": badge, "verification": {"type": "HostedBadge"}}  # fmt: skip
    site.put("/a1.json", assertion)
    report = platform.credentials.verify(json.dumps(assertion))
    # the issuer document is served at a URL other than its id: refused before any origin rule
    assert _checks(report)["ob2.issuer"] == FAILED
    site.put("/elsewhere.json", {"@context": CONTEXT, "type": "Issuer", "id": site.base + "/elsewhere.json",
                                 "name": "Elsewhere", "verification": {"allowedOrigins": "issuer.example"}})  # fmt: skip
    refused = platform.credentials.verify(json.dumps(assertion))
    assert _checks(refused)["key_binding"] == FAILED and "issuer.example" in str(refused.to_json())
    host = site.base.removeprefix("https://")
    site.put("/elsewhere.json", {"@context": CONTEXT, "type": "Issuer", "id": "https://issuer.example/o.json",
                                 "name": "Elsewhere", "verification": {"allowedOrigins": [host]}})  # fmt: skip
    site.put("/badge2.json", {**site.served["/robotics-badge.json"][1], "id": site.base + "/badge2.json",
                              "issuer": {"type": "Issuer", "id": "https://issuer.example/o.json", "name": "Elsewhere",
                                         "verification": {"allowedOrigins": [host]}}})  # fmt: skip
    allowed = {**assertion, "badge": site.base + "/badge2.json"}
    site.put("/a1.json", allowed)
    assert _checks(platform.credentials.verify(json.dumps(allowed)))["key_binding"] == PASSED


@pytest.mark.parametrize(
    "broken",
    [{"recipient": None}, {"badge": None}, {"badge": 5}, {"verification": None}, {"type": "BadgeClass"},
     {"issuedOn": "soon"}, {"recipient": {"type": "email"}}],
)  # fmt: skip
def test_malformed_assertions_fail_cleanly(
    platform: bootstrap.Platform, site: Documents, broken: dict[str, Any]
) -> None:
    assertion = {k: v for k, v in {**_hosted(site), **broken}.items() if v is not None}
    site.put("/beths-robot-badge.json", assertion)
    report = platform.credentials.verify(json.dumps(assertion))
    assert not report.verified and "internal" not in _checks(report)


def test_offline_a_hosted_assertion_cannot_be_confirmed(tmp_path: Path, site: Documents, clock: FixedClock,
                                                        database_url: str) -> None:  # fmt: skip
    assertion = _hosted(site)
    offline = bootstrap.build_platform(Settings(data_dir=tmp_path / "off", database_url=database_url,
                                                public_base_url="https://microcred.example"), clock, create=True)  # fmt: skip
    try:
        report = offline.credentials.verify(json.dumps(assertion))
        assert _checks(report)["ob2.hosted"] == FAILED and "fetching is off" in str(report.to_json())
    finally:
        offline.close()


# -- signed --------------------------------------------------------------------------------------------
def _signing_key(site: Documents, kind: str = "rsa", owner: str | None = None) -> tuple[Any, str]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa" else (
        ec.generate_private_key(ec.SECP256R1()))  # fmt: skip
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()  # fmt: skip
    url = site.put(f"/key-{kind}.json", {"@context": CONTEXT, "type": "CryptographicKey", "id": site.base +
                                         f"/key-{kind}.json", "owner": owner or site.base + "/organization.json",
                                         "publicKeyPem": pem})  # fmt: skip
    pem_private = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())  # fmt: skip
    key = RSAKey.import_key(pem_private) if kind == "rsa" else ECKey.import_key(pem_private)
    return key, url


def _signed(site: Documents, key: Any, key_url: str, alg: str = "RS256", email: str = "ada@example.org",
            **extra: Any) -> str:  # fmt: skip
    badge = _badge(site, _issuer(site, publicKey=key_url, revocationList=site.base + "/revocations.json"))
    site.put("/revocations.json", {"@context": CONTEXT, "type": "RevocationList", "id": site.base + "/revocations.json",
                                   "issuer": site.base + "/organization.json", "revokedAssertions": []})  # fmt: skip
    assertion = {"@context": CONTEXT, "type": "Assertion", "id": "urn:uuid:2d2c4e1a-5a6e-4bde-8a12-64c9b2b1f0aa",
                 "recipient": _hashed(email), "issuedOn": "2016-12-31T23:59:59Z", "badge": badge,
                 "verification": {"type": "SignedBadge", "creator": key_url}, **extra}  # fmt: skip
    return jws.serialize_compact({"alg": alg}, json.dumps(assertion), key, algorithms=[alg])


@pytest.mark.parametrize(("kind", "alg"), [("rsa", "RS256"), ("ec", "ES256")])
def test_a_signed_assertion_verifies(platform: bootstrap.Platform, site: Documents, kind: str, alg: str) -> None:
    key, url = _signing_key(site, kind)
    token = _signed(site, key, url, alg)
    report = platform.credentials.verify(token)
    assert report.verified, report.to_json()
    assert report.format == "ob2+jws"
    assert _checks(report)["proof"] == PASSED and _checks(report)["key_binding"] == PASSED


def test_signed_assertion_refusals(platform: bootstrap.Platform, site: Documents) -> None:
    key, url = _signing_key(site)
    token = _signed(site, key, url)
    header, payload, signature = token.split(".")
    forged = json.loads(__import__("base64").urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged["issuedOn"] = "2010-01-01T00:00:00Z"
    import base64

    tampered = ".".join([header, base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode(),
                         signature])  # fmt: skip
    assert _checks(platform.credentials.verify(tampered))["proof"] == FAILED
    other_key, other_url = _signing_key(site, "ec", owner="https://someone.example/issuer")
    by_stranger = _signed(site, other_key, other_url, "ES256")
    assert _checks(platform.credentials.verify(by_stranger))["key_binding"] == FAILED
    site.put("/revocations.json", {"@context": CONTEXT, "type": "RevocationList", "id": site.base + "/revocations.json",
                                   "revokedAssertions": [{"id": "urn:uuid:2d2c4e1a-5a6e-4bde-8a12-64c9b2b1f0aa",
                                                          "revocationReason": "Honor code violation"}]})  # fmt: skip
    revoked = platform.credentials.verify(token)
    assert _checks(revoked)["status.revocation"] == FAILED and "Honor code violation" in str(revoked.to_json())
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    assert _check_weak(platform, site, weak)


def _check_weak(platform: bootstrap.Platform, site: Documents, weak: Any) -> bool:
    pem = weak.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    url = site.put("/key-weak.json", {"type": "CryptographicKey", "id": site.base + "/key-weak.json",
                                      "owner": site.base + "/organization.json", "publicKeyPem": pem.decode()})  # fmt: skip
    import warnings

    with warnings.catch_warnings():  # joserfc warns about the short key: that weakness is what is tested
        warnings.simplefilter("ignore")
        key = RSAKey.import_key(weak.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()))  # fmt: skip
        token = _signed(site, key, url)
    report = platform.credentials.verify(token)
    return _checks(report)["proof"] == FAILED


# -- baked ---------------------------------------------------------------------------------------------
def _bake(image: bytes, content: str) -> bytes:
    """openbadges-bakery's bake (it calls a deprecated rfc3986 helper on SVGs: that warning is theirs)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return bytes(openbadges_bakery.bake(io.BytesIO(image), content).read())


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (30, 64, 175, 255)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def test_badges_baked_by_the_reference_bakery_verify(platform: bootstrap.Platform, site: Documents) -> None:
    assertion = _hosted(site)
    key, url = _signing_key(site)
    token = _signed(site, key, url)
    for content in (json.dumps(assertion), assertion["id"], token):
        png = _bake(PNG, content)
        assert platform.credentials.verify(png).verified, content[:40]
    svg = _bake(SVG.encode(), json.dumps(assertion))
    report = platform.credentials.verify(svg)
    assert report.verified and report.format == "ob2+json"
    signed_svg = _bake(SVG.encode(), token)
    assert platform.credentials.verify(signed_svg).format == "ob2+jws"


# -- into the wallet -------------------------------------------------------------------------------------
def _ada(platform: bootstrap.Platform) -> SessionUser:
    user = platform.accounts.create_user("ada@example.org", PASSWORD, "learner", name="Ada")
    return SessionUser(user.id, user.email, user.role, None, user.name, True, "")


def test_the_wallet_imports_hosted_signed_and_baked_badges_of_its_learner(
    platform: bootstrap.Platform, site: Documents
) -> None:
    ada = _ada(platform)
    hosted = _hosted(site)
    item = platform.wallet.import_credential(ada, json.dumps(hosted), "pasted")
    assert item.format == "ob2" and item.name == "Awesome Robotics Badge"
    assert item.issuer_name == "An Example Badge Issuer" and item.credential_id == hosted["id"]
    key, url = _signing_key(site)
    signed = platform.wallet.import_credential(ada, _signed(site, key, url), "pasted")
    assert signed.content.count(".") == 2
    second = _hosted(site, path="/second.json")
    baked = platform.wallet.import_credential(ada, _bake(PNG, second["id"]), "png")
    assert json.loads(baked.content) == second  # a baked URL: the assertion it serves is what is kept
    entries = {e.id: e for e in platform.wallet.entries(ada)}
    assert entries[item.id].state == "verified" and entries[item.id].skills == ["robotics"]
    with pytest.raises(Exception, match="already in your wallet"):
        platform.wallet.import_credential(ada, json.dumps(hosted), "again")
    # not hers, or revoked: refused, nothing stored
    with pytest.raises(ImportRefused, match=r"was not awarded to ada@example\.org"):
        platform.wallet.import_credential(ada, json.dumps(_hosted(site, "grace@example.org", "/grace.json")), "x")
    with pytest.raises(ImportRefused, match="does not verify"):
        platform.wallet.import_credential(ada, json.dumps(_hosted(site, path="/gone.json", revoked=True)), "x")
    with platform.runtime.db.read() as repo:
        assert len(repo.wallet_items(ada.id)) == 3
    # the OB 3.0 API lists AchievementCredentials only, and takes none of these
    page = platform.ob3_host.credentials(ada.id, 10, 0, None)
    assert page.credentials == [] and page.compact_jws == [] and page.total == 0
    with pytest.raises(ImportRefused, match=r"not an OB 3\.0 AchievementCredential"):
        platform.ob3_host.upsert(ada.id, json.dumps(_hosted(site, path="/third.json")).encode(), False)


def test_the_cli_verifies_with_supplied_documents_offline(tmp_path: Path, site: Documents) -> None:
    import os

    from tests.test_platform_cli import _cli

    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")} | {
        "MICROCRED_DATA_DIR": str(tmp_path / "nothing")
    }
    assertion = _hosted(site)
    files = []
    for path, (_status, document) in site.served.items():
        target = tmp_path / (path.strip("/").replace("/", "_") or "index")
        target.write_text(json.dumps(document))
        files += ["--resource", f"{site.base}{path}={target}"]
    given = tmp_path / "assertion.json"
    given.write_text(json.dumps(assertion))
    done = _cli(env, "verify", str(given), "--json", *files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["format"] == "ob2+json"
    mine = _cli(env, "verify", str(given), "--json", "--recipient", "ada@example.org", *files)
    assert mine.returncode == 0 and "the recipient is ada@example.org (a salted sha256 hash of an email)" in mine.stdout
    theirs = _cli(env, "verify", str(given), "--json", "--recipient", "eve@example.org", *files)
    assert theirs.returncode == 1 and "the recipient is not eve@example.org" in theirs.stdout
    alone = _cli(env, "verify", str(given), "--json")
    assert alone.returncode == 1 and "fetching is off" in alone.stdout


# -- hostile input --------------------------------------------------------------------------------------
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
FIELDS = ["@context", "type", "id", "recipient", "badge", "verification", "issuedOn", "expires", "revoked",
          "evidence", "identity", "hashed", "salt", "creator", "issuer", "publicKey", "revocationList"]  # fmt: skip


@examples(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.dictionaries(st.sampled_from(FIELDS), JSONISH, max_size=8), signed=st.booleans())
def test_no_assertion_makes_the_ob2_verifier_fail(platform: bootstrap.Platform, document: dict[str, Any],
                                                  signed: bool) -> None:  # fmt: skip
    document = {"@context": CONTEXT, "type": "Assertion", **document}
    if signed:
        import base64

        body = base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()
        text = f"eyJhbGciOiJSUzI1NiJ9.{body}.c2ln"
    else:
        text = json.dumps(document)
    report = platform.credentials.verify(text)
    assert "internal" not in _checks(report), report.to_json()
    assert not (signed and report.verified)  # its signature is three bytes of nothing: it never verifies


def test_the_wallet_page_imports_a_hosted_badge_by_its_url(platform: bootstrap.Platform, site: Documents) -> None:
    from fastapi.testclient import TestClient

    from microcred.server import create_app
    from tests.ob3_helpers import csrf_of, sign_in

    _ada(platform)
    hosted = _hosted(site)
    browser = TestClient(create_app(platform), base_url="https://microcred.example", raise_server_exceptions=False)
    sign_in(browser, "ada@example.org")
    page = browser.get("/wallet/import", headers={"accept": "text/html"})
    answer = browser.post("/wallet/import", data={"csrf": csrf_of(page.text), "url": hosted["id"]},
                          follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
    with platform.runtime.db.read() as repo:
        user = repo.user_by_email("ada@example.org")
        assert user is not None
        [item] = repo.wallet_items(user.id)
    assert item.format == "ob2" and item.source == hosted["id"] and json.loads(item.content) == hosted
    shown = browser.get(answer.headers["location"], headers={"accept": "text/html"})
    assert "Awesome Robotics Badge" in shown.text and "An Example Badge Issuer" in shown.text
