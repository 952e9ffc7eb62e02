"""Who may issue and change status, the loopback-only development switch, and `microcred serve` over TLS."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from microcred import bootstrap
from microcred.cli.platform import check_serve_settings
from microcred.config import Settings
from microcred.errors import UsageError
from microcred.server import create_app
from tests.live_server import database_url, free_port, self_signed_certificate, serving
from tests.test_platform_cli import _cli, _env, _json
from tests.vcapi.conftest import V2, Lab, furnish, lab_settings

pytestmark = pytest.mark.enable_socket
STATUS = {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}


def _issue(lab: Lab, headers: dict[str, str]) -> Any:
    return lab.client.post("/credentials/issue", json={"credential": lab.credential()}, headers=headers)


def test_issuing_needs_a_token_scoped_for_it(lab: Lab) -> None:
    assert _issue(lab, {}).status_code == 401
    assert _issue(lab, {"Authorization": "Bearer mct_unknown"}).status_code == 401
    assert _issue(lab, lab.auth("api-only")).status_code == 403
    assert _issue(lab, lab.auth("learner")).status_code == 403
    assert _issue(lab, lab.auth("issue-only")).status_code == 201
    assert _issue(lab, lab.auth("full")).status_code == 201


def test_status_changes_need_the_status_scope(lab: Lab) -> None:
    signed = lab.issue(lab.credential(id="urn:uuid:5c5c5c5c-2222-4b4b-9c9c-000000000001"), credentialStatus=STATUS)
    body = {"credentialId": signed["id"], "credentialStatus": STATUS, "status": True}
    assert lab.client.post("/credentials/status", json=body).status_code == 401
    assert lab.client.post("/credentials/status", json=body, headers=lab.auth("issue-only")).status_code == 403
    assert lab.client.post("/credentials/status", json=body, headers=lab.auth()).status_code == 200


def test_a_vc_api_token_cannot_use_the_rest_api(lab: Lab) -> None:
    assert lab.client.get("/api/v1/issuers", headers=lab.auth("vc")).status_code == 403
    assert lab.client.get("/api/v1/issuers", headers=lab.auth("api-only")).status_code == 200


def test_verifying_needs_no_token(lab: Lab) -> None:
    assert lab.verify(lab.issue()).status_code == 200


def test_the_development_switch_opens_issuing_on_loopback_only(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    port = free_port()
    with database_url(tmp_path) as url:
        settings = lab_settings(tmp_path, url, port, vcapi_insecure_dev=True)
        platform = bootstrap.build_platform(settings, create=True)
        try:
            dids, _tokens = furnish(platform)
            credential = {"@context": [V2], "type": ["VerifiableCredential"], "issuer": dids["elsewhere"],
                          "credentialSubject": {"id": "did:example:x"}}  # fmt: skip
            app = create_app(platform)
            tls = ssl.create_default_context(cafile=str(cert))
            with serving(app, port, ssl_certfile=str(cert), ssl_keyfile=str(key)):
                answer = httpx2.post(
                    f"https://127.0.0.1:{port}/credentials/issue", json={"credential": credential}, verify=tls
                )
                assert answer.status_code == 201, answer.text
            from fastapi.testclient import TestClient

            with TestClient(app, base_url=f"https://127.0.0.1:{port}", client=("203.0.113.9", 40000)) as remote:
                assert remote.post("/credentials/issue", json={"credential": credential}).status_code == 401
        finally:
            platform.close()


@pytest.mark.parametrize("switch", ["vcapi_insecure_dev", "allow_example_contexts"])
def test_serve_refuses_lab_switches_off_loopback(tmp_path: Path, switch: str) -> None:
    settings = Settings(data_dir=tmp_path, **{switch: True})
    for host in ("0.0.0.0", "192.0.2.10", "example.org", "::"):
        with pytest.raises(UsageError, match="loopback"):
            check_serve_settings(settings, host, None, None)
    for host in ("127.0.0.1", "::1", "127.0.0.2"):
        check_serve_settings(settings, host, None, None)


def test_serve_needs_both_tls_files(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    with pytest.raises(UsageError, match="both"):
        check_serve_settings(Settings(data_dir=tmp_path), "127.0.0.1", cert, None)
    with pytest.raises(UsageError, match="no such file"):
        check_serve_settings(Settings(data_dir=tmp_path), "127.0.0.1", cert, tmp_path / "missing.pem")
    check_serve_settings(Settings(data_dir=tmp_path), "127.0.0.1", cert, key)


def test_cli_lab_setup_then_https_serve_issue_verify_revoke(tmp_path: Path, database_url: str) -> None:
    """The documented lab: a did:key issuer for the VC-API, a scoped token, `serve --tls-cert --tls-key`."""
    port = free_port()
    env = _env(tmp_path, database_url) | {
        "MICROCRED_PUBLIC_BASE_URL": f"https://127.0.0.1:{port}",
        "MICROCRED_ALLOW_EXAMPLE_CONTEXTS": "true",
    }
    _json(_cli(env, "init", "--json"))
    issuer = _json(_cli(env, "issuer", "create", "--name", "Lab", "--slug", "lab", "--country", "NL",
                        "--did-method", "key", "--vcapi", "--json"))  # fmt: skip
    assert issuer["did"].startswith("did:key:z6Mk")
    listed = _json(_cli(env, "vcapi", "issuers", "--json"))
    assert [i["did"] for i in listed] == [issuer["did"]]
    token = _json(_cli(env, "token", "create", "--email", "admin@example.org", "--scope", "vc:issue",
                       "--scope", "vc:status", "--json"))  # fmt: skip
    assert token["scopes"] == ["vc:issue", "vc:status"]
    refused = _cli(env | {"MICROCRED_VCAPI_INSECURE_DEV": "true"}, "serve", "--host", "0.0.0.0")
    assert refused.returncode != 0 and "loopback" in refused.stderr + refused.stdout
    cert, key = self_signed_certificate(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "microcred.cli.app", "serve", "--port", str(port), "--tls-cert", str(cert),
         "--tls-key", str(key)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        tls = ssl.create_default_context(cafile=str(cert))
        with httpx2.Client(base_url=f"https://127.0.0.1:{port}", verify=tls, timeout=30) as client:
            _wait_until_up(client, server)
            auth = {"Authorization": f"Bearer {token['token']}"}
            credential = {"@context": [V2], "id": "urn:uuid:7d7d7d7d-3333-4c4c-8d8d-000000000001",
                          "type": ["VerifiableCredential"], "issuer": issuer["did"],
                          "credentialSubject": {"id": "did:example:x"}}  # fmt: skip
            issued = client.post("/credentials/issue", json={"credential": credential,
                                 "options": {"credentialStatus": STATUS}}, headers=auth)  # fmt: skip
            assert issued.status_code == 201, issued.text
            signed = issued.json()["verifiableCredential"]
            assert client.post("/credentials/verify", json={"verifiableCredential": signed}).status_code == 200
            body = {"credentialId": signed["id"], "credentialStatus": STATUS, "status": True}
            assert client.post("/credentials/status", json=body, headers=auth).status_code == 200
            again = client.post("/credentials/verify", json={"verifiableCredential": signed})
            assert again.status_code == 400 and "status.revocation" in json.dumps(again.json()["errors"])
    finally:
        server.terminate()
        server.wait(timeout=20)
        if server.stdout:
            server.stdout.close()


def _wait_until_up(client: httpx2.Client, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"microcred serve exited: {server.stdout.read() if server.stdout else ''}")
        try:
            client.get("/.well-known/did.json")
            return
        except httpx2.TransportError:
            time.sleep(0.2)
    raise AssertionError("microcred serve did not start over https")
