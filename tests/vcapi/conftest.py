"""A conformance lab on loopback: the real app over https with a self-signed certificate,
issuers enabled for the VC-API (a did:key and a did:web), and scoped tokens."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from microcred import bootstrap
from microcred.config import Settings
from microcred.server import create_app
from tests.live_server import database_url, free_port, self_signed_certificate, serving

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
PASSWORD = "correct horse battery staple"


@dataclass
class Lab:
    platform: bootstrap.Platform
    url: str
    client: httpx2.Client
    dids: dict[str, str]  # slug -> DID
    tokens: dict[str, str]  # name -> bearer token
    tls: ssl.SSLContext

    def auth(self, token: str = "vc") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[token]}"}

    def credential(self, slug: str = "lab-key", **extra: Any) -> dict[str, Any]:
        """An unsecured VC 2.0 credential of the W3C examples kind, for one of the lab's issuers."""
        return {
            "@context": [V2, EXAMPLES],
            "type": ["VerifiableCredential", "ExampleAlumniCredential"],
            "issuer": self.dids[slug],
            "credentialSubject": {"id": "did:example:learner-1", "alumniOf": "The School of Examples"},
            **extra,
        }

    def issue(self, credential: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
        response = self.client.post(
            "/credentials/issue", json={"credential": credential or self.credential(), "options": options},
            headers=self.auth(),
        )  # fmt: skip
        assert response.status_code == 201, response.text
        signed: dict[str, Any] = response.json()["verifiableCredential"]
        return signed

    def verify(self, credential: Any, **options: Any) -> httpx2.Response:
        return self.client.post("/credentials/verify", json={"verifiableCredential": credential, "options": options})


def lab_settings(folder: Any, url: str, port: int, **extra: Any) -> Settings:
    return Settings(
        data_dir=folder / "data",
        database_url=url,
        public_base_url=f"https://127.0.0.1:{port}",
        allow_example_contexts=True,
        vcapi_verify_per_minute=0,
        **extra,
    )


def furnish(platform: bootstrap.Platform) -> tuple[dict[str, str], dict[str, str]]:
    """The lab's issuers, users and tokens."""
    issuers = platform.issuers
    dids = {}
    for slug, method, org, enabled in (
        ("lab-key", "key", "lab", True),
        ("lab-web", "web", "lab", True),
        ("lab-jcs", "key", "lab", True),
        ("elsewhere", "web", "elsewhere", True),
        ("dormant", "web", "lab", False),
    ):
        suite = "eddsa-jcs-2022" if slug == "lab-jcs" else "eddsa-rdfc-2022"
        issuer = issuers.create(
            name=slug.title(), slug=slug, country="NL", organisation=org, did_method=method, suite=suite
        )
        if enabled:
            issuers.set_vcapi(slug, True)
        dids[slug] = issuer.did
    accounts = platform.accounts
    accounts.create_user("admin@lab.example", PASSWORD, "issuer_admin", "lab")
    accounts.create_user("learner@lab.example", PASSWORD, "learner")
    tokens = {
        "vc": accounts.create_token("admin@lab.example", "issuer_admin", scopes=["vc:issue", "vc:status"]).token,
        "issue-only": accounts.create_token("admin@lab.example", "issuer_admin", scopes=["vc:issue"]).token,
        "api-only": accounts.create_token("admin@lab.example", "issuer_admin", scopes=["api"]).token,
        "full": accounts.create_token("admin@lab.example", "issuer_admin").token,
        "learner": accounts.create_token("learner@lab.example", "learner").token,
    }
    return dids, tokens


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    folder = tmp_path_factory.mktemp("lab")
    cert, key = self_signed_certificate(folder)
    port = free_port()
    tls = ssl.create_default_context(cafile=str(cert))
    with database_url(folder) as url:
        platform = bootstrap.build_platform(lab_settings(folder, url, port), create=True)
        dids, tokens = furnish(platform)
        try:
            with (
                serving(create_app(platform), port, ssl_certfile=str(cert), ssl_keyfile=str(key)),
                httpx2.Client(base_url=f"https://127.0.0.1:{port}", verify=tls, timeout=30) as client,
            ):
                yield Lab(platform, f"https://127.0.0.1:{port}", client, dids, tokens, tls)
        finally:
            platform.close()
