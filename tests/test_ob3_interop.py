"""Two microcred instances on loopback over real TLS exchange credentials both ways through the OB 3.0
API (discovery, dynamic registration, PKCE, tokens), driven through their pages as two learners'
browsers would; and an independent OAuth 2.0 client (authlib) against one of them."""

from __future__ import annotations

import html
import re
import ssl
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from microcred import bootstrap
from microcred.clock import SystemClock
from microcred.config import Settings
from microcred.server import create_app
from microcred.services.awarding import AwardRequest
from microcred.services.issuing import parse_definition
from microcred.standards import ob3_api
from tests.live_server import database_url, free_port, serving
from tests.ob3_helpers import PASSWORD, REDIRECT, REGISTRATION, csrf_of, sign_in
from tests.platform_fixtures import COMPLETE
from tests.webhook_receiver import _certificates


def _trust(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


@dataclass
class Instance:
    platform: bootstrap.Platform
    url: str
    ca: Path
    microcredential_id: str
    clients: list[httpx.Client] = field(default_factory=list)

    def browser(self, email: str) -> httpx.Client:
        client = httpx.Client(base_url=self.url, verify=_trust(self.ca), timeout=30)
        self.clients.append(client)
        sign_in(client, email)
        return client


@contextmanager
def instance(folder: Path, slug: str, certificates: tuple[Path, Path, Path]) -> Iterator[Instance]:
    ca, cert, key = certificates
    port = free_port()
    with database_url(folder) as url:
        settings = Settings(
            data_dir=folder / "data", database_url=url, public_base_url=f"https://127.0.0.1:{port}",
            allow_host_connections=True, connect_allow_networks="127.0.0.1/32", connect_ca_file=ca,
            allow_fetch=True, fetch_allow_networks="127.0.0.1/32", fetch_ca_file=ca, webhook_dispatch=False,
        )  # fmt: skip
        platform = bootstrap.build_platform(settings, SystemClock(), create=True)
        platform.issuers.create(
            name=f"{slug.upper()} University", slug=slug, country="NL", url=f"https://{slug}.example"
        )
        definition = parse_definition({**COMPLETE, "name": f"Data Analytics at {slug.upper()}"})
        entry = platform.catalog.create(slug, definition, publish=True, exemption="test fixture")
        platform.accounts.create_user("ada@example.org", PASSWORD, "learner", name="Ada Lovelace")
        try:
            with serving(create_app(platform), port, ssl_certfile=str(cert), ssl_keyfile=str(key)):
                running = Instance(platform, f"https://127.0.0.1:{port}", ca, entry.id)
                yield running
                for client in running.clients:
                    client.close()
        finally:
            platform.close()


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Instance, Instance]]:
    certificates = _certificates(tmp_path)
    with ExitStack() as stack:
        a = stack.enter_context(instance(tmp_path / "a", "alpha", certificates))
        b = stack.enter_context(instance(tmp_path / "b", "beta", certificates))
        yield a, b


def _award(side: Instance) -> Any:
    return side.platform.awards.award(AwardRequest(side.microcredential_id, "ada@example.org", name="Ada Lovelace"))


def _consent(browser: httpx.Client, authorize_url: str, decision: str = "allow", name: str = "microcred") -> str:
    """The learner, signed in at the host, answers its consent page; where the host sends them next."""
    page = browser.get(authorize_url, headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    assert f"Connect {name}" in page.text
    form = {k: html.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                                                       page.text)}  # fmt: skip
    answer = browser.post("/oauth/authorize", data={**form, "decision": decision}, follow_redirects=False)
    assert answer.status_code == 303
    return str(answer.headers["location"])


def _connect(a: Instance, b: Instance, at_a: httpx.Client, at_b: httpx.Client) -> str:
    page = at_a.get("/wallet/connections", headers={"accept": "text/html"})
    started = at_a.post("/wallet/connections/hosts", data={"csrf": csrf_of(page.text), "address": b.url},
                        follow_redirects=False)  # fmt: skip
    assert started.status_code == 303, started.text
    authorize = started.headers["location"]
    assert authorize.startswith(f"{b.url}/oauth/authorize?") and "code_challenge_method=S256" in authorize
    callback = _consent(at_b, authorize)
    assert callback.startswith(f"{a.url}/wallet/connections/callback?code=")
    done = at_a.get(callback, follow_redirects=False)
    assert done.status_code == 303, done.text
    listed = at_a.get("/wallet/connections", headers={"accept": "text/html"}).text
    found = re.search(r"/wallet/connections/hosts/([0-9a-f-]{36})/pull", listed)
    assert found, listed
    assert f"microcred ({urlsplit(b.url).netloc})" in listed  # the host, named by its discovery title
    return found.group(1)


def test_two_instances_exchange_credentials_both_ways(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    from_b, from_a = _award(b), _award(a)
    at_a, at_b = a.browser("ada@example.org"), b.browser("ada@example.org")
    connection = _connect(a, b, at_a, at_b)
    # one registration at B serves every learner of A; B lists A among Ada's applications
    with b.platform.runtime.db.read() as repo:
        [client] = repo.oauth_clients()
    assert client.name == f"microcred ({urlsplit(a.url).netloc})"
    assert "microcred (127.0.0.1" in at_b.get("/wallet/connections").text

    # pull: B's credential comes over, is verified at A (B's DID and status list fetched over TLS) and kept
    page = at_a.get("/wallet/connections", headers={"accept": "text/html"})
    pulled = at_a.post(f"/wallet/connections/hosts/{connection}/pull", data={"csrf": csrf_of(page.text)})
    assert pulled.status_code == 200, (pulled.headers, pulled.text)
    assert "1 credential added, 0 already in your wallet" in pulled.text
    with a.platform.runtime.db.read() as repo:
        user = repo.user_by_email("ada@example.org")
        assert user is not None
        [item] = repo.wallet_items(user.id)
    assert item.credential_id == from_b.credential["id"] and item.source.endswith("(OB 3.0 API)")
    again = at_a.post(f"/wallet/connections/hosts/{connection}/pull", data={"csrf": csrf_of(page.text)})
    assert "0 credentials added, 1 already in your wallet" in again.text

    # push: A's credential goes to B through POST /credentials, verified there, and added
    page = at_a.get(f"/wallet/credentials/{from_a.id}", headers={"accept": "text/html"})
    assert "Send to another platform" in page.text
    pushed = at_a.post(f"/wallet/credentials/{from_a.id}/push", data={"csrf": csrf_of(page.text),
                                                                       "connection": connection},
                         follow_redirects=True)  # fmt: skip
    assert pushed.status_code == 200 and "the other host added it" in pushed.text
    with b.platform.runtime.db.read() as repo:
        user = repo.user_by_email("ada@example.org")
        assert user is not None
        [kept] = repo.wallet_items(user.id)
    assert kept.credential_id == from_a.credential["id"]
    again = at_a.post(f"/wallet/credentials/{from_a.id}/push", data={"csrf": csrf_of(page.text),
                                                                      "connection": connection},
                        follow_redirects=True)  # fmt: skip
    assert "the other host updated its copy" in again.text

    # Ada disconnects A at B: A's next pull is refused, and says so
    apps = at_b.get("/wallet/connections", headers={"accept": "text/html"})
    client_id = re.search(r"/wallet/connections/apps/([0-9a-f]+)/disconnect", apps.text)
    assert client_id
    at_b.post(f"/wallet/connections/apps/{client_id.group(1)}/disconnect", data={"csrf": csrf_of(apps.text)})
    page = at_a.get("/wallet/connections", headers={"accept": "text/html"})
    refused = at_a.post(f"/wallet/connections/hosts/{connection}/pull", data={"csrf": csrf_of(page.text)})
    assert refused.status_code == 422 and "no longer accepts this connection" in refused.text


def test_a_denied_or_forged_callback_connects_nothing(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    at_a, at_b = a.browser("ada@example.org"), b.browser("ada@example.org")
    page = at_a.get("/wallet/connections", headers={"accept": "text/html"})
    started = at_a.post("/wallet/connections/hosts", data={"csrf": csrf_of(page.text), "address": b.url},
                        follow_redirects=False)  # fmt: skip
    callback = _consent(at_b, started.headers["location"], decision="deny")
    denied = at_a.get(callback)
    assert denied.status_code == 422 and "did not connect your wallet" in denied.text
    forged = at_a.get("/wallet/connections/callback?code=mcoc_x&state=guess")
    assert forged.status_code == 422 and "start again" in forged.text
    assert a.platform.host_connections.connections(_holder(a)) == []


def _holder(side: Instance) -> Any:
    from microcred.services.web_accounts import SessionUser

    with side.platform.runtime.db.read() as repo:
        user = repo.user_by_email("ada@example.org")
    assert user is not None
    return SessionUser(user.id, user.email, user.role, None, user.name, True, "")


@pytest.mark.parametrize(
    "address", ["http://127.0.0.1:1/", "https://10.0.0.1/", "https://169.254.169.254/latest", "ftp://x", "not a url"]
)
def test_connecting_never_reaches_a_private_address_or_plain_http(
    pair: tuple[Instance, Instance], address: str
) -> None:
    a, _b = pair
    at_a = a.browser("ada@example.org")
    page = at_a.get("/wallet/connections", headers={"accept": "text/html"})
    answer = at_a.post("/wallet/connections/hosts", data={"csrf": csrf_of(page.text), "address": address},
                       follow_redirects=False)  # fmt: skip
    assert answer.status_code == 422, answer.text
    with a.platform.runtime.db.read() as repo:
        assert repo.host_connections(_holder(a).id) == []


def test_an_independent_oauth_client_completes_the_flow(pair: tuple[Instance, Instance]) -> None:
    """authlib, code we did not write: registration, PKCE S256, state check, token, refresh, revocation."""
    _a, b = pair
    award = _award(b)
    with httpx.Client(verify=_trust(b.ca)) as plain:
        document = plain.get(f"{b.url}/ims/ob/v3p0/discovery").json()
        endpoints = ob3_api.read_service_description(document, f"{b.url}/ims/ob/v3p0/discovery")
        registered = plain.post(endpoints.registration, json=REGISTRATION).json()
    scope = f"{ob3_api.CREDENTIAL_READ} {ob3_api.PROFILE_READ}"
    client = OAuth2Client(
        registered["client_id"], registered["client_secret"], token_endpoint_auth_method="client_secret_basic",
        scope=scope, redirect_uri=REDIRECT, code_challenge_method="S256", verify=_trust(b.ca),
    )  # fmt: skip
    verifier = generate_token(64)
    url, state = client.create_authorization_url(endpoints.authorization, code_verifier=verifier)
    back = _consent(b.browser("ada@example.org"), url, name="Example Client Application")
    assert f"state={state}" in back
    token = client.fetch_token(endpoints.token, authorization_response=back, code_verifier=verifier)
    assert token["token_type"].lower() == "bearer" and set(token["scope"].split()) == set(scope.split())
    listed = client.get(f"{endpoints.api}/credentials")
    assert listed.status_code == 200 and listed.json()["credential"] == [award.credential]
    assert client.get(f"{endpoints.api}/profile").json()["name"] == "Ada Lovelace"
    renewed = client.refresh_token(endpoints.token)
    assert renewed["access_token"] != token["access_token"]
    assert client.get(f"{endpoints.api}/credentials").status_code == 200
    revoked = client.revoke_token(f"{b.url}/oauth/revoke", token=renewed["refresh_token"],
                                  token_type_hint="refresh_token")  # fmt: skip
    assert revoked.status_code == 200
    assert client.get(f"{endpoints.api}/credentials").status_code == 401
    # a second exchange of the same callback is refused by the server, whatever the client does
    with pytest.raises(Exception, match="invalid_grant"):
        client.fetch_token(endpoints.token, authorization_response=back, code_verifier=verifier)
    client.close()
