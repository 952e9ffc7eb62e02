"""The web edge without a browser: CSRF on every form, who may open what, sessions, back-off, mail links."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from microcred import bootstrap
from microcred.server import create_app
from microcred.services.awarding import AwardRequest

PASSWORD = "correct horse battery staple"
HTML = {"accept": "text/html"}


@pytest.fixture
def app(platform: bootstrap.Platform, issuer: Any, microcredential: Any) -> Any:
    platform.accounts.create_user("admin@tu.example", PASSWORD, "issuer_admin", "tu-example")
    platform.accounts.create_user("ada@example.org", PASSWORD, "learner")
    platform.issuers.create(name="Other College", slug="other", country="BE")
    platform.accounts.create_user("admin@other.example", PASSWORD, "issuer_admin", "other")
    return create_app(platform)


def client_for(app: Any, email: str | None = None) -> TestClient:
    client = TestClient(app, base_url="https://microcred.example", raise_server_exceptions=False)
    if email:
        csrf = csrf_of(client, "/signin")
        response = client.post(
            "/signin", data={"csrf": csrf, "email": email, "password": PASSWORD}, follow_redirects=False
        )
        assert response.status_code == 303, response.text
    return client


def csrf_of(client: TestClient, path: str) -> str:
    page = client.get(path, headers=HTML)
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, f"no form on {path}"
    return found.group(1)


@pytest.fixture
def award(platform: bootstrap.Platform, microcredential: Any) -> Any:
    return platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", "Ada"))


def _post_routes(app: Any) -> list[str]:
    """The web forms: neither the REST API, the VC-API nor the OB 3.0 API and its OAuth endpoints (those take
    bearer tokens or client credentials, never cookies)."""
    return sorted(
        {
            r.path
            for r in app.routes
            if "POST" in getattr(r, "methods", set())
            and not r.path.startswith("/api/")
            and not {"vc-api", "Open Badges 3.0", "OAuth 2.0"} & set(getattr(r, "tags", []))
        }
    )


def test_every_form_refuses_a_missing_or_foreign_csrf_token(
    app: Any, platform: bootstrap.Platform, award: Any, microcredential: Any
) -> None:
    client = client_for(app, "admin@tu.example")
    params = {"award_id": award.id, "entry_id": award.id, "item_id": "x", "mc_id": microcredential.id, "action": "revoke",
              "slug": "tu-example", "prefix": "mct_x", "token": "t", "pathway_id": "p", "completion_id": "c",
              "request_id": "r", "role_id": "1", "client_id": "c", "connection_id": "n", "subscription_id": "s", "delivery_id": "d", "upload": "u"}  # fmt: skip
    routes = _post_routes(app)
    assert len(routes) >= 20
    other = client_for(app)  # another browser's valid token must not work here either
    foreign = csrf_of(other, "/signin")
    for route in routes:
        path = route.format(**{k: v for k, v in params.items() if "{" + k + "}" in route})
        for data in ({}, {"csrf": foreign}):
            response = client.post(
                path, data={**data, "reason": "x", "email": "a@b.example"}, headers=HTML, follow_redirects=False
            )
            assert response.status_code == 403, (route, response.status_code)
    for path in ("/credentials/issue", "/credentials/status"):  # a signed-in browser is not a VC-API client
        assert client.post(path, json={}, headers={"Origin": "https://evil.example"}).status_code == 401
    # nor an OB 3.0 API client, nor an OAuth 2.0 client
    assert (
        client.post("/ims/ob/v3p0/credentials", json={}, headers={"Origin": "https://evil.example"}).status_code == 401
    )
    assert client.put("/ims/ob/v3p0/profile", json={}, headers={"Origin": "https://evil.example"}).status_code == 401
    for path in ("/oauth/token", "/oauth/revoke"):
        assert client.post(path, data={"grant_type": "refresh_token", "token": "t"}).status_code == 401
    with platform.runtime.db.read() as repo:
        assert repo.award(award.id).revoked_at is None  # nothing changed


def test_a_form_from_another_origin_is_refused(app: Any) -> None:
    client = client_for(app)
    csrf = csrf_of(client, "/signin")
    response = client.post(
        "/signin",
        data={"csrf": csrf, "email": "admin@tu.example", "password": PASSWORD},
        headers={"origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_session_cookie_is_httponly_samesite_and_secure_on_https(app: Any) -> None:
    client = client_for(app)
    csrf = csrf_of(client, "/signin")
    response = client.post(
        "/signin", data={"csrf": csrf, "email": "admin@tu.example", "password": PASSWORD}, follow_redirects=False
    )
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("mc_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    assert response.headers["location"] == "/console"


def test_pages_need_the_right_account(app: Any, award: Any, microcredential: Any) -> None:
    anonymous = client_for(app)
    for path in ("/console", "/console/awards", "/wallet", "/admin/outbox", f"/console/awards/{award.id}"):
        response = anonymous.get(path, headers=HTML, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/signin?next="), path
    learner = client_for(app, "ada@example.org")
    for path in ("/console", "/console/microcredentials/new", "/console/tokens", "/admin/outbox"):
        assert learner.get(path, headers=HTML).status_code == 403, path
    assert learner.get("/wallet", headers=HTML).status_code == 200
    rival = client_for(app, "admin@other.example")
    for path in (
        f"/console/awards/{award.id}",
        f"/console/microcredentials/{microcredential.id}",
        "/console/issuers/tu-example",
    ):
        assert rival.get(path, headers=HTML).status_code == 404, path
    csrf = csrf_of(rival, "/console")
    response = rival.post(f"/console/awards/{award.id}/revoke", data={"csrf": csrf, "reason": "x"}, headers=HTML)
    assert response.status_code == 404
    staff = client_for(app, "admin@tu.example")
    assert staff.get(f"/wallet/credentials/{award.id}", headers=HTML).status_code == 404  # not their credential


def test_private_credentials_answer_404_to_all_but_holder_and_issuer(app: Any, award: Any) -> None:
    learner = client_for(app, "ada@example.org")
    assert learner.get(f"/wallet/credentials/{award.id}", headers=HTML).status_code == 200
    csrf = csrf_of(learner, f"/wallet/credentials/{award.id}")
    learner.post(f"/wallet/credentials/{award.id}/visibility", data={"csrf": csrf, "public": "0"})
    anonymous = client_for(app)
    for path in (
        f"/credentials/{award.id}",
        f"/credentials/{award.id}.json",
        f"/credentials/{award.id}.jwt",
        f"/credentials/{award.id}/download/png",
    ):
        assert anonymous.get(path, headers=HTML).status_code == 404, path
    assert learner.get(f"/credentials/{award.id}", headers=HTML).status_code == 200
    assert client_for(app, "admin@tu.example").get(f"/credentials/{award.id}.json").status_code == 200


def test_public_page_unfurls_and_counts_views(app: Any, platform: bootstrap.Platform, award: Any) -> None:
    page = client_for(app).get(f"/credentials/{award.id}", headers=HTML)
    assert page.status_code == 200 and "Verified" in page.text
    assert (
        f'<meta property="og:image" content="https://microcred.example/credentials/{award.id}/badge.png">' in page.text
    )
    assert 'name="twitter:card"' in page.text and "Content-Security-Policy" in page.headers
    assert client_for(app).get(f"/credentials/{award.id}").json()["id"].endswith(award.id)  # machines still get JSON-LD
    app.state.counters.flush()
    with platform.runtime.db.read() as repo:
        assert repo.award(award.id).view_count == 1


def test_sign_in_backs_off_after_repeated_failures(app: Any) -> None:
    client = client_for(app)
    csrf = csrf_of(client, "/signin")
    codes = [
        client.post(
            "/signin", data={"csrf": csrf, "email": "admin@tu.example", "password": "wrong password!!"}
        ).status_code
        for _ in range(6)
    ]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    refused = client.post("/signin", data={"csrf": csrf, "email": "admin@tu.example", "password": PASSWORD})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0  # even the right password waits


def test_sign_up_proves_the_address_before_showing_awards(
    app: Any, platform: bootstrap.Platform, microcredential: Any
) -> None:
    platform.awards.award(AwardRequest(microcredential.id, "grace@example.org", "Grace"))
    client = client_for(app)
    csrf = csrf_of(client, "/signup")
    response = client.post(
        "/signup", data={"csrf": csrf, "email": "grace@example.org", "password": PASSWORD, "name": "Grace"}
    )
    assert "Check your mail" in response.text
    client.post(
        "/signin", data={"csrf": csrf_of(client, "/signin"), "email": "grace@example.org", "password": PASSWORD}
    )
    assert "Confirm your email" in client.get("/wallet", headers=HTML).text
    mail = platform.mailer.messages(to="grace@example.org")[0]  # type: ignore[attr-defined]
    link = re.search(r"https://microcred.example(/confirm/\S+)", mail.text).group(1)
    assert client.get(link, headers=HTML).status_code == 200
    assert "Data Analytics with Python" in client.get("/wallet", headers=HTML).text
    assert client.get(link, headers=HTML).status_code == 422  # a link works once


def test_sign_up_with_a_taken_address_reveals_nothing(app: Any, platform: bootstrap.Platform) -> None:
    client = client_for(app)
    response = client.post(
        "/signup", data={"csrf": csrf_of(client, "/signup"), "email": "ada@example.org", "password": PASSWORD}
    )
    assert "Check your mail" in response.text
    assert "already has an account" in platform.mailer.messages(to="ada@example.org")[0].text  # type: ignore[attr-defined]


def test_password_reset_link_works_once_and_signs_other_browsers_out(app: Any, platform: bootstrap.Platform) -> None:
    old = client_for(app, "ada@example.org")
    client = client_for(app)
    client.post("/reset", data={"csrf": csrf_of(client, "/reset"), "email": "ada@example.org"})
    client.post(
        "/reset", data={"csrf": csrf_of(client, "/reset"), "email": "nobody@example.org"}
    )  # same answer, no mail
    assert platform.mailer.messages(to="nobody@example.org") == []  # type: ignore[attr-defined]
    link = re.search(
        r"https://microcred.example(/reset/\S+)", platform.mailer.messages(to="ada@example.org")[0].text
    ).group(1)  # type: ignore[attr-defined]
    response = client.post(
        link, data={"csrf": csrf_of(client, link), "password": "a brand new passphrase"}, follow_redirects=False
    )
    assert response.status_code == 303
    assert old.get("/wallet", headers=HTML, follow_redirects=False).status_code == 303  # signed out
    again = client.post(link, data={"csrf": csrf_of(client, "/reset"), "password": "another new passphrase"})
    assert again.status_code == 422 and "already been used" in again.text


def test_admin_invites_staff_who_join_through_the_link(app: Any, platform: bootstrap.Platform) -> None:
    admin = client_for(app, "admin@tu.example")
    admin.post(
        "/console/staff",
        data={
            "csrf": csrf_of(admin, "/console/staff"),
            "email": "new.staff@tu.example",
            "role": "issuer_staff",
            "organisation": "tu-example",
        },
    )
    link = re.search(
        r"https://microcred.example(/invite/\S+)", platform.mailer.messages(to="new.staff@tu.example")[0].text
    ).group(1)  # type: ignore[attr-defined]
    staff = client_for(app)
    response = staff.post(
        link, data={"csrf": csrf_of(staff, link), "password": PASSWORD, "name": "New Staff"}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/console"
    assert staff.get("/console/awards", headers=HTML).status_code == 200
    assert staff.get("/console/staff", headers=HTML).status_code == 403  # staff, not admin
    assert staff.get("/console/audit", headers=HTML).status_code == 200  # their organisation's log
    rival = client_for(app, "admin@other.example")
    refused = rival.post(
        "/console/staff",
        data={
            "csrf": csrf_of(rival, "/console/staff"),
            "email": "spy@x.example",
            "role": "issuer_admin",
            "organisation": "tu-example",
        },
        follow_redirects=False,
    )
    # Refused: back to the staff page with the reason in the flash message, and no mail sent.
    assert refused.status_code == 303 and refused.headers["location"] == "/console/staff"
    assert "Not%20invited%3A%20no%20organisation" in refused.headers["set-cookie"]
    assert platform.mailer.messages(to="spy@x.example") == []  # type: ignore[attr-defined]


def test_downloads_verify_and_the_pdf_carries_the_verification_url(
    app: Any, platform: bootstrap.Platform, award: Any, local_verifier: Any
) -> None:
    from pypdf import PdfReader

    learner = client_for(app, "ada@example.org")
    for kind in ("png", "svg", "json", "jwt"):
        response = learner.get(f"/wallet/credentials/{award.id}/download/{kind}")
        assert response.status_code == 200
        assert local_verifier.verify(response.content).verified, kind
    pdf = learner.get(f"/wallet/credentials/{award.id}/download/pdf")
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert f"https://microcred.example/credentials/{award.id}" in text and "Data Analytics with Python" in text


def test_linkedin_link_carries_the_certification(app: Any, award: Any, platform: bootstrap.Platform) -> None:
    response = client_for(app).get(f"/credentials/{award.id}/share/linkedin", follow_redirects=False)
    location = response.headers["location"]
    assert location.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME")
    for part in (
        "name=Data+Analytics+with+Python",
        "organizationName=TU+Example",
        "issueYear=",
        "expirationYear=",
        f"certId={award.id}",
        "certUrl=https%3A%2F%2Fmicrocred.example%2Fcredentials%2F",
    ):
        assert part in location


def test_hostile_wallet_zips_are_refused_without_a_trace(app: Any, platform: bootstrap.Platform) -> None:
    learner = client_for(app, "ada@example.org")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("microcred-wallet.json", json.dumps({"items": [{"file": "../../etc/passwd"}]}))
        archive.writestr("big.json", b"{" + b" " * (60 * 1024 * 1024) + b"}")
    csrf = csrf_of(learner, "/wallet/import")
    response = learner.post(
        "/wallet/import", data={"csrf": csrf}, files={"file": ("w.zip", bomb.getvalue(), "application/zip")}
    )
    assert response.status_code == 422 and "too large" in response.text
    bad = io.BytesIO()
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("microcred-wallet.json", json.dumps({"items": [{"file": "../../etc/passwd", "public": True}]}))
    response = learner.post(
        "/wallet/import",
        data={"csrf": csrf},
        files={"file": ("w.zip", bad.getvalue(), "application/zip")},
        follow_redirects=True,
    )
    assert "Imported 0" in response.text and "missing from the archive" in response.text


def test_verify_page_explains_garbage_without_an_error(app: Any) -> None:
    client = client_for(app)
    csrf = csrf_of(client, "/verify")
    response = client.post("/verify", data={"csrf": csrf, "text": '{"@context": 5'})
    assert response.status_code == 200 and "Not verified" in response.text
    empty = client.post("/verify", data={"csrf": csrf})
    assert empty.status_code == 422 and "paste a credential" in empty.text
    fetch = client.post("/verify", data={"csrf": csrf, "url": "https://other.example/credential.json"})
    assert fetch.status_code == 422 and "does not fetch" in fetch.text


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received: list[Any] = []

    class Keep(Message):
        def handle_message(self, message: Any) -> None:
            received.append(message)

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    controller.received = received  # type: ignore[attr-defined]
    yield controller
    controller.stop()


@pytest.mark.enable_socket
def test_smtp_mailer_delivers_through_a_real_server(smtp_server: Any) -> None:
    from microcred.services.mail import Mail, SmtpMailer, SmtpSettings

    port = smtp_server.port
    SmtpMailer(SmtpSettings("127.0.0.1", port, starttls=False), "microcred <no-reply@microcred.example>").send(
        Mail("ada@example.org", "Hello", "A claim link")
    )
    assert (
        smtp_server.received[0]["To"] == "ada@example.org" and "A claim link" in smtp_server.received[0].get_payload()
    )


def test_api_token_is_shown_once_and_can_be_revoked(app: Any, platform: bootstrap.Platform) -> None:
    admin = client_for(app, "admin@tu.example")
    page = admin.post(
        "/console/tokens", data={"csrf": csrf_of(admin, "/console/tokens"), "role": "issuer_staff", "days": "30"}
    )
    token = re.search(r'id="new-token" readonly value="(mct_[^"]+)"', page.text).group(1)
    assert platform.accounts.principal(token) is not None
    assert token not in admin.get("/console/tokens", headers=HTML).text  # shown once
    admin.post(f"/console/tokens/{token[:12]}/revoke", data={"csrf": csrf_of(admin, "/console/tokens")})
    assert platform.accounts.principal(token) is None
    refused = admin.post(
        "/console/tokens",
        data={"csrf": csrf_of(admin, "/console/tokens"), "role": "platform_admin"},
        follow_redirects=False,
    )
    assert refused.status_code == 303  # an issuer admin cannot mint a platform token


def test_baked_downloads_pass_microcred_verify(
    app: Any, platform: bootstrap.Platform, award: Any, tmp_path: Any
) -> None:
    from tests.test_platform_cli import _cli

    learner = client_for(app, "ada@example.org")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env |= {
        "MICROCRED_DATA_DIR": str(platform.settings.data_dir),
        "MICROCRED_DATABASE_URL": platform.settings.resolved_database_url,
        "MICROCRED_PUBLIC_BASE_URL": "https://microcred.example",
    }
    for kind in ("png", "svg"):
        baked = tmp_path / f"badge.{kind}"
        baked.write_bytes(learner.get(f"/wallet/credentials/{award.id}/download/{kind}").content)
        result = _cli(env, "verify", str(baked), "--json")
        assert result.returncode == 0, result.stdout + result.stderr
        assert json.loads(result.stdout)["verified"] is True


def test_wallet_reminds_of_credentials_expiring_soon(
    app: Any, platform: bootstrap.Platform, microcredential: Any
) -> None:
    from datetime import timedelta

    soon = platform.runtime.clock.now() + timedelta(days=30)
    platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", "Ada", valid_until=soon))
    page = client_for(app, "ada@example.org").get("/wallet", headers=HTML).text
    reminder = page[page.index('id="expiring"') : page.index("</section>", page.index('id="expiring"'))]
    assert "Data Analytics with Python" in reminder and soon.strftime("%d %b %Y") in reminder


def test_dashboard_counts_and_charts_the_organisations_awards(
    app: Any, platform: bootstrap.Platform, award: Any
) -> None:
    platform.awards.revoke(award.id, "test")
    page = client_for(app, "admin@tu.example").get("/console", headers=HTML).text
    assert "<strong>1</strong> awarded" in page and "<strong>1</strong> revoked" in page
    assert re.search(r"<title>[^<]+: 1</title></rect>", page)  # this week's bar
    assert 'Python (computer programming) <span class="muted">(1)</span>' in page  # top skills
    other = client_for(app, "admin@other.example").get("/console", headers=HTML).text
    assert "<strong>0</strong> awarded" in other  # another organisation's awards are not counted
