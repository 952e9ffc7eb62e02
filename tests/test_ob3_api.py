"""The Open Badges 3.0 API, Host role: discovery, RFC 7591 registration, the authorization code flow
with PKCE, tokens, refresh, revocation, and the credential and profile resources, with every refusal.
Bodies are checked against the official OB 3.0 JSON Schemas (../shared, not our copies)."""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from microcred import bootstrap
from microcred.clock import FixedClock
from microcred.server import create_app
from microcred.services.awarding import AwardRequest
from microcred.services.credentials import SignRequest
from microcred.services.samples import data_analytics_microcredential
from microcred.standards import jose, ob3_api
from microcred.standards.dids import did_key_for
from microcred.standards.keys import Ed25519KeyPair
from tests.ob3_helpers import (
    ALL_SCOPES,
    PASSWORD,
    REDIRECT,
    REGISTRATION,
    authorize_params,
    back,
    basic,
    bearer,
    consent,
    sign_in,
    tokens,
)

OFFICIAL = Path(__file__).resolve().parents[2] / "shared" / "standards" / "schemas" / "ob_v3p0" / "gh-pages-build"


def official(name: str) -> Any:
    return jsonschema_rs.validator_for(json.loads((OFFICIAL / f"{name}.json").read_text()))


@pytest.fixture
def app(platform: bootstrap.Platform, issuer: Any, microcredential: Any) -> Any:
    platform.accounts.create_user("ada@example.org", PASSWORD, "learner", name="Ada Lovelace")
    platform.accounts.create_user("bob@example.org", PASSWORD, "learner", name="Bob")
    return create_app(platform)


@pytest.fixture
def api(app: Any) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://microcred.example", raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def browser(app: Any) -> TestClient:
    client = TestClient(app, base_url="https://microcred.example", raise_server_exceptions=False)
    sign_in(client, "ada@example.org")
    return client


@pytest.fixture
def registration(api: TestClient) -> dict[str, Any]:
    answer = api.post("/oauth/register", json=REGISTRATION)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


@pytest.fixture
def award(platform: bootstrap.Platform, microcredential: Any) -> Any:
    return platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", name="Ada Lovelace"))


def _clients(platform: bootstrap.Platform) -> int:
    with platform.runtime.db.read() as repo:
        return len(repo.oauth_clients())


# -- discovery and registration ------------------------------------------------------------------
def test_discovery_is_the_profiled_openapi_document_without_authorization(api: TestClient) -> None:
    answer = api.get("/ims/ob/v3p0/discovery")
    assert answer.status_code == 200
    document = answer.json()
    assert document["openapi"].startswith("3.0")
    info = document["info"]
    assert info["title"] and info["termsOfService"] == "https://microcred.example/terms"
    assert info["x-imssf-privacyPolicyUrl"] == "https://microcred.example/privacy"
    scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
    assert scheme["type"] == "oauth2"
    assert scheme["x-imssf-registrationUrl"] == "https://microcred.example/oauth/register"
    flow = scheme["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == "https://microcred.example/oauth/authorize"
    assert flow["tokenUrl"] == flow["refreshUrl"] == "https://microcred.example/oauth/token"
    assert set(flow["scopes"]) == set(ob3_api.SCOPES) and len(flow["scopes"]) == 4
    assert document["servers"][0]["url"] == "https://microcred.example/ims/ob/v3p0"
    assert {"/credentials", "/profile", "/discovery"} <= set(document["paths"])
    # the document is what the published OpenAPI file says a Service Description Document is
    openapi = json.loads((OFFICIAL / "openapi.json").read_text())
    sdd = {**openapi["components"]["schemas"]["ServiceDescriptionDocument"], "components": openapi["components"]}
    errors = [e.message for e in jsonschema_rs.validator_for(_openapi_refs(sdd)).iter_errors(document)]
    assert errors == []


def _openapi_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI's `nullable` is not JSON Schema; the rest is."""
    return json.loads(json.dumps(schema).replace('"nullable": true,', "").replace(', "nullable": true', ""))


def test_registration_answers_every_field_and_the_secret_works(api: TestClient, platform: bootstrap.Platform) -> None:
    answer = api.post("/oauth/register", json=REGISTRATION)
    assert answer.status_code == 201
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    for name, value in REGISTRATION.items():
        assert body[name] == value
    assert isinstance(body["client_id"], str) and len(body["client_secret"]) >= 32
    now = int(platform.runtime.clock.now().timestamp())
    assert body["client_id_issued_at"] == now
    assert body["client_secret_expires_at"] == now + 365 * 86400
    # the secret authenticates at the token endpoint (a wrong one does not)
    wrong = api.post(
        "/oauth/token", headers=basic({**body, "client_secret": "x"}), data={"grant_type": "refresh_token"}
    )
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    right = api.post("/oauth/token", headers=basic(body), data={"grant_type": "refresh_token", "refresh_token": "x"})
    assert right.status_code == 400 and right.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"client_name": None}, "invalid_client_metadata"),
        ({"client_uri": None}, "invalid_client_metadata"),
        ({"logo_uri": None}, "invalid_client_metadata"),
        ({"tos_uri": None}, "invalid_client_metadata"),
        ({"policy_uri": None}, "invalid_client_metadata"),
        ({"software_id": None}, "invalid_client_metadata"),
        ({"software_version": None}, "invalid_client_metadata"),
        ({"scope": None}, "invalid_client_metadata"),
        ({"redirect_uris": None}, "invalid_redirect_uri"),
        ({"redirect_uris": REDIRECT}, "invalid_redirect_uri"),  # arrays even for one value
        ({"redirect_uris": ["http://client.example/callback"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://client.example/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://evil.example/callback"]}, "invalid_client_metadata"),  # one host for all URLs
        ({"logo_uri": "https://cdn.example/logo.png"}, "invalid_client_metadata"),
        ({"client_uri": "javascript:alert(1)"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "client_secret_post"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "none"}, "invalid_client_metadata"),
        ({"grant_types": ["implicit"]}, "invalid_client_metadata"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"scope": "https://purl.imsglobal.org/spec/ob/v3p0/scope/everything"}, "invalid_client_metadata"),
        ({"scope": ""}, "invalid_client_metadata"),
        ({"client_name": 42}, "invalid_client_metadata"),
        ({"client_name": "x" * 301}, "invalid_client_metadata"),
        ({"contacts": "ops@client.example"}, "invalid_client_metadata"),
    ],
)
def test_registration_refusals_store_nothing(
    api: TestClient, platform: bootstrap.Platform, change: dict[str, Any], error: str
) -> None:
    body = {k: v for k, v in {**REGISTRATION, **change}.items() if v is not None}
    answer = api.post("/oauth/register", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error and answer.json()["error_description"]
    assert _clients(platform) == 0


@pytest.mark.parametrize(
    ("content", "media"),
    [(b"[1, 2]", "application/json"), (b"{not json", "application/json"), (b"a=b", "application/x-www-form-urlencoded"),
     (b'{"a": ' * 200 + b"1" + b"}" * 200, "application/json"), (b" " * 70_000, "application/json")],
)  # fmt: skip
def test_malformed_registrations_are_refused(
    api: TestClient, platform: bootstrap.Platform, content: bytes, media: str
) -> None:
    answer = api.post("/oauth/register", content=content, headers={"content-type": media})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_client_metadata"
    assert _clients(platform) == 0


def test_registrations_are_rate_limited_per_address(api: TestClient) -> None:
    statuses = [api.post("/oauth/register", json=REGISTRATION).status_code for _ in range(12)]
    assert statuses[:10] == [201] * 10 and statuses[10:] == [429, 429]


# -- the authorization code flow ------------------------------------------------------------------
def test_the_consent_page_names_the_application_and_what_it_asks(
    browser: TestClient, registration: dict[str, Any]
) -> None:
    params = authorize_params(registration, secrets.token_urlsafe(48))
    from urllib.parse import urlencode

    page = browser.get("/oauth/authorize?" + urlencode(params), headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "Example Client Application" in page.text and "client.example" in page.text
    for words in ("See the credentials in your wallet", "Add credentials to your wallet", "See your profile",
                  "Change your profile"):  # fmt: skip
        assert words in page.text
    assert "https://client.example/terms" in page.text and "https://client.example/privacy" in page.text
    # the decision's answer redirects to the application: the page lets that form go there, nowhere else
    assert page.headers["content-security-policy"].endswith("form-action 'self' https://client.example")


def test_a_signed_out_learner_signs_in_first_and_comes_back(
    app: Any, api: TestClient, registration: dict[str, Any]
) -> None:
    from urllib.parse import unquote, urlencode

    anonymous = TestClient(app, base_url="https://microcred.example")
    params = authorize_params(registration, secrets.token_urlsafe(48))
    answer = anonymous.get("/oauth/authorize?" + urlencode(params), headers={"accept": "text/html"},
                           follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303
    target = unquote(answer.headers["location"].split("next=", 1)[1])
    assert target == "/oauth/authorize?" + urlencode(params)
    sign_in(anonymous, "ada@example.org")
    assert back_from(anonymous, target)


def back_from(browser: TestClient, target: str) -> bool:
    return browser.get(target, headers={"accept": "text/html"}).status_code == 200


def test_tokens_read_the_learners_credentials(
    api: TestClient, browser: TestClient, registration: dict[str, Any], award: Any
) -> None:
    got = tokens(api, registration, browser)
    assert got["token_type"] == "Bearer" and got["expires_in"] == 3600
    assert set(got["scope"].split()) == set(ALL_SCOPES.split()) and got["refresh_token"]
    answer = api.get("/ims/ob/v3p0/credentials", headers=bearer(got["access_token"]))
    assert answer.status_code == 200
    assert answer.headers["x-total-count"] == "1"
    body = answer.json()
    assert list(official("getopenbadgecredentialsresponse").iter_errors(body)) == []
    assert body["credential"] == [award.credential]


def test_a_code_is_single_use_and_its_replay_revokes_the_tokens(
    api: TestClient, browser: TestClient, registration: dict[str, Any], award: Any
) -> None:
    verifier = secrets.token_urlsafe(48)
    code = consent(browser, authorize_params(registration, verifier))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier,
            "scope": ALL_SCOPES}  # fmt: skip
    first = api.post("/oauth/token", headers=basic(registration), data=form)
    assert first.status_code == 200
    again = api.post("/oauth/token", headers=basic(registration), data=form)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert again.headers["cache-control"] == "no-store"
    access, refresh = first.json()["access_token"], first.json()["refresh_token"]
    assert api.get("/ims/ob/v3p0/credentials", headers=bearer(access)).status_code == 401
    refreshed = api.post("/oauth/token", headers=basic(registration),
                         data={"grant_type": "refresh_token", "refresh_token": refresh})  # fmt: skip
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),  # PKCE is mandatory
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "short"}, "invalid_request"),
        ({"state": None}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": None}, "invalid_scope"),
        ({"scope": "openid"}, "invalid_scope"),
        ({"scope": ob3_api.OFFLINE}, "invalid_scope"),  # nothing of Open Badges asked
    ],
)
def test_bad_authorization_requests_go_back_to_the_application_with_the_error(
    browser: TestClient, registration: dict[str, Any], changes: dict[str, str | None], error: str
) -> None:
    from urllib.parse import urlencode

    params = authorize_params(registration, secrets.token_urlsafe(48), **changes)
    answer = browser.get("/oauth/authorize?" + urlencode(params), follow_redirects=False)
    assert answer.status_code == 303
    query = back(answer.headers["location"])
    assert query["error"] == error and "code" not in query
    assert query.get("state") == params.get("state")


@pytest.mark.parametrize(
    "changes", [{"redirect_uri": "https://client.example/other"}, {"redirect_uri": "https://evil.example/cb"},
                {"redirect_uri": REDIRECT + "/"}, {"redirect_uri": None}, {"client_id": "unknown"}],
)  # fmt: skip
def test_an_unknown_client_or_redirect_uri_is_never_redirected_to(
    browser: TestClient, registration: dict[str, Any], changes: dict[str, str | None]
) -> None:
    from urllib.parse import urlencode

    params = authorize_params(registration, secrets.token_urlsafe(48), **changes)
    for answer in (
        browser.get("/oauth/authorize?" + urlencode(params), headers={"accept": "text/html"}, follow_redirects=False),
        browser.post("/oauth/authorize", data={**params, "decision": "allow", "csrf": _csrf(browser, registration)},
                     follow_redirects=False),
    ):  # fmt: skip
        assert answer.status_code == 400 and "location" not in answer.headers
        assert "This application cannot connect" in answer.text


def _csrf(browser: TestClient, registration: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    from tests.ob3_helpers import csrf_of

    params = authorize_params(registration, secrets.token_urlsafe(48))
    return csrf_of(browser.get("/oauth/authorize?" + urlencode(params), headers={"accept": "text/html"}).text)


def test_denying_tells_the_application_and_issues_nothing(browser: TestClient, registration: dict[str, Any]) -> None:
    params = authorize_params(registration, secrets.token_urlsafe(48))
    answer = consent(browser, params, decision="deny")
    assert answer["error"] == "access_denied" and answer["state"] == params["state"] and "code" not in answer


@pytest.mark.parametrize(
    "change",
    [{"code_verifier": secrets.token_urlsafe(48)}, {"code_verifier": None}, {"code_verifier": "a" * 42},
     {"redirect_uri": "https://client.example/other"}, {"redirect_uri": None}, {"code": "mcoc_forged"},
     {"scope": ALL_SCOPES + " https://purl.imsglobal.org/spec/ob/v3p0/scope/more"}],
)  # fmt: skip
def test_a_code_is_bound_to_its_verifier_and_redirect_uri(
    api: TestClient, browser: TestClient, registration: dict[str, Any], change: dict[str, str | None]
) -> None:
    verifier = secrets.token_urlsafe(48)
    code = consent(browser, authorize_params(registration, verifier))["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier,
            **change}  # fmt: skip
    answer = api.post(
        "/oauth/token", headers=basic(registration), data={k: v for k, v in form.items() if v is not None}
    )
    assert answer.status_code == 400
    assert answer.json()["error"] in ("invalid_grant", "invalid_scope")


def test_another_clients_code_is_refused(api: TestClient, browser: TestClient, registration: dict[str, Any]) -> None:
    other = api.post("/oauth/register", json=REGISTRATION).json()
    verifier = secrets.token_urlsafe(48)
    code = consent(browser, authorize_params(registration, verifier))["code"]
    answer = api.post(
        "/oauth/token",
        headers=basic(other),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_codes_live_600_seconds_and_access_tokens_3600(
    api: TestClient, browser: TestClient, registration: dict[str, Any], clock: FixedClock, award: Any
) -> None:
    verifier = secrets.token_urlsafe(48)
    code = consent(browser, authorize_params(registration, verifier))["code"]
    clock.advance(timedelta(seconds=601))
    late = api.post(
        "/oauth/token",
        headers=basic(registration),
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier},
    )
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"
    got = tokens(api, registration, browser)
    clock.advance(timedelta(seconds=3599))
    assert api.get("/ims/ob/v3p0/credentials", headers=bearer(got["access_token"])).status_code == 200
    clock.advance(timedelta(seconds=2))
    expired = api.get("/ims/ob/v3p0/credentials", headers=bearer(got["access_token"]))
    assert expired.status_code == 401 and "invalid_token" in expired.headers["www-authenticate"]


def test_refresh_tokens_rotate_and_a_reused_one_revokes_the_grant(
    api: TestClient, browser: TestClient, registration: dict[str, Any], award: Any
) -> None:
    got = tokens(api, registration, browser)

    def refresh(token: str, **extra: str) -> Any:
        return api.post("/oauth/token", headers=basic(registration),
                        data={"grant_type": "refresh_token", "refresh_token": token, **extra})  # fmt: skip

    narrowed = refresh(got["refresh_token"], scope=ob3_api.CREDENTIAL_READ)
    assert narrowed.status_code == 200
    fresh = narrowed.json()
    assert fresh["scope"] == ob3_api.CREDENTIAL_READ and fresh["refresh_token"] != got["refresh_token"]
    assert api.get("/ims/ob/v3p0/profile", headers=bearer(fresh["access_token"])).status_code == 403
    assert api.get("/ims/ob/v3p0/credentials", headers=bearer(fresh["access_token"])).status_code == 200
    wider = refresh(fresh["refresh_token"], scope=ALL_SCOPES + " https://example.org/other")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    # the first refresh token was rotated away; presented again, it takes the whole grant with it
    replay = refresh(got["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert api.get("/ims/ob/v3p0/credentials", headers=bearer(fresh["access_token"])).status_code == 401
    assert refresh(fresh["refresh_token"]).status_code == 400


def test_revocation(api: TestClient, browser: TestClient, registration: dict[str, Any], award: Any) -> None:
    got = tokens(api, registration, browser)
    other = api.post("/oauth/register", json=REGISTRATION).json()
    # another client cannot revoke it (200, nothing happens), nor can an unknown token do harm
    assert (
        api.post(
            "/oauth/revoke",
            headers=basic(other),
            data={"token": got["access_token"], "token_type_hint": "access_token"},
        ).status_code
        == 200
    )
    assert (
        api.post(
            "/oauth/revoke", headers=basic(registration), data={"token": "junk", "token_type_hint": "refresh_token"}
        ).status_code
        == 200
    )
    assert api.get("/ims/ob/v3p0/credentials", headers=bearer(got["access_token"])).status_code == 200
    odd = api.post("/oauth/revoke", headers=basic(registration), data={"token": "x", "token_type_hint": "id_token"})
    assert odd.status_code == 400 and odd.json()["error"] == "unsupported_token_type"
    unauthenticated = api.post("/oauth/revoke", data={"token": got["access_token"]})
    assert unauthenticated.status_code == 401
    # the access token alone
    assert (
        api.post(
            "/oauth/revoke",
            headers=basic(registration),
            data={"token": got["access_token"], "token_type_hint": "access_token"},
        ).status_code
        == 200
    )
    assert api.get("/ims/ob/v3p0/credentials", headers=bearer(got["access_token"])).status_code == 401
    # the refresh token, and with it every token of the grant
    renewed = api.post(
        "/oauth/token",
        headers=basic(registration),
        data={"grant_type": "refresh_token", "refresh_token": got["refresh_token"]},
    ).json()
    assert (
        api.post(
            "/oauth/revoke",
            headers=basic(registration),
            data={"token": renewed["refresh_token"], "token_type_hint": "refresh_token"},
        ).status_code
        == 200
    )
    assert api.get("/ims/ob/v3p0/credentials", headers=bearer(renewed["access_token"])).status_code == 401


@pytest.mark.parametrize(
    ("form", "error", "status"),
    [({"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type", 400),
     ({"grant_type": "client_credentials"}, "unsupported_grant_type", 400),
     ({}, "invalid_request", 400),
     ({"grant_type": "authorization_code", "client_secret": "x"}, "invalid_client", 401)],
)  # fmt: skip
def test_token_endpoint_refusals(
    api: TestClient, registration: dict[str, Any], form: dict[str, str], error: str, status: int
) -> None:
    answer = api.post("/oauth/token", headers=basic(registration), data=form)
    assert answer.status_code == status and answer.json()["error"] == error


def test_token_endpoint_wants_a_form_and_each_parameter_once(api: TestClient, registration: dict[str, Any]) -> None:
    as_json = api.post("/oauth/token", headers=basic(registration), json={"grant_type": "refresh_token"})
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    twice = api.post("/oauth/token", headers={**basic(registration), "content-type": "application/x-www-form-urlencoded"},
                     content=b"grant_type=refresh_token&grant_type=authorization_code")  # fmt: skip
    assert twice.status_code == 400 and twice.json()["error"] == "invalid_request"
    garbage = api.post(
        "/oauth/token",
        headers={"Authorization": "Basic %%%", "content-type": "application/x-www-form-urlencoded"},
        content=b"grant_type=x",
    )
    assert garbage.status_code == 401


# -- the resources --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer nonsense", "Basic abc", "Bearer mcoa_" + "x" * 5000]
)
def test_resources_need_a_live_token(api: TestClient, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path in (("GET", "credentials"), ("POST", "credentials"), ("GET", "profile"), ("PUT", "profile")):
        answer = api.request(method, f"/ims/ob/v3p0/{path}", headers=headers)
        assert answer.status_code == 401, (method, path, answer.text)
        assert answer.headers["www-authenticate"].startswith("Bearer")
        body = answer.json()
        assert list(official("imsx_statusinfo").iter_errors(body)) == []
        assert body["imsx_codeMajor"] == "failure"
        assert body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "unauthorizedrequest"


def test_each_resource_needs_its_scope(
    api: TestClient, browser: TestClient, registration: dict[str, Any], award: Any
) -> None:
    verifier = secrets.token_urlsafe(48)
    params = authorize_params(registration, verifier, scope=ob3_api.PROFILE_READ)
    code = consent(browser, params)["code"]
    token = api.post("/oauth/token", headers=basic(registration), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier,
    }).json()  # fmt: skip
    assert "refresh_token" in token and token["scope"] == ob3_api.PROFILE_READ
    headers = bearer(token["access_token"])
    assert api.get("/ims/ob/v3p0/profile", headers=headers).status_code == 200
    for method, path in (("GET", "credentials"), ("POST", "credentials"), ("PUT", "profile")):
        answer = api.request(method, f"/ims/ob/v3p0/{path}", headers=headers)
        assert answer.status_code == 403
        assert list(official("imsx_statusinfo").iter_errors(answer.json())) == []


@pytest.fixture
def access(api: TestClient, browser: TestClient, registration: dict[str, Any]) -> dict[str, str]:
    return bearer(tokens(api, registration, browser)["access_token"])


def test_paging_headers_and_since(
    api: TestClient, access: dict[str, str], platform: bootstrap.Platform, microcredential: Any, clock: FixedClock
) -> None:
    issued = []
    for _ in range(5):
        issued.append(platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", name="Ada",
                                                          external_id=f"cohort-{len(issued)}")))  # fmt: skip
        clock.advance(timedelta(minutes=1))
    page = api.get("/ims/ob/v3p0/credentials?limit=2&offset=2", headers=access)
    assert page.status_code == 200 and page.headers["x-total-count"] == "5"
    assert [c["id"] for c in page.json()["credential"]] == [a.credential["id"] for a in issued[2:4]]
    links = ob3_api.parse_links(page.headers["link"])
    base = "https://microcred.example/ims/ob/v3p0/credentials"
    assert links == {"next": f"{base}?limit=2&offset=4", "last": f"{base}?limit=2&offset=4",
                     "first": f"{base}?limit=2&offset=0", "prev": f"{base}?limit=2&offset=0"}  # fmt: skip
    first = ob3_api.parse_links(api.get("/ims/ob/v3p0/credentials?limit=2", headers=access).headers["link"])
    assert "prev" not in first and first["next"].endswith("offset=2")
    last = api.get("/ims/ob/v3p0/credentials?limit=2&offset=4", headers=access)
    assert len(last.json()["credential"]) == 1 and "next" not in ob3_api.parse_links(last.headers["link"])
    beyond = api.get("/ims/ob/v3p0/credentials?limit=2&offset=40", headers=access)
    assert beyond.status_code == 200 and beyond.json() == {} and beyond.headers["x-total-count"] == "5"
    since = issued[2].credential["validFrom"]
    after = api.get(f"/ims/ob/v3p0/credentials?since={since}", headers=access)
    assert after.headers["x-total-count"] == "2" and "since=" in after.headers["link"]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=-1", "limit=abc", "offset=-1", "offset=1.5", "since=yesterday", "since=2026-13-01T00:00:00Z",
              "limit=99999999999999999999"],
)  # fmt: skip
def test_bad_query_parameters_are_an_imsx_400(api: TestClient, access: dict[str, str], query: str) -> None:
    answer = api.get(f"/ims/ob/v3p0/credentials?{query}", headers=access)
    assert answer.status_code == 400, answer.text
    assert list(official("imsx_statusinfo").iter_errors(answer.json())) == []


def _external(
    platform: bootstrap.Platform,
    email: str,
    *,
    jwt: bool = False,
    credential_id: str | None = None,
    name: str = "Data Analytics",
    key: Ed25519KeyPair | None = None,
) -> str:
    """A credential from another issuer (a did:key), for `email`: Data Integrity JSON, or a VC-JWT."""
    key = key or Ed25519KeyPair.generate()
    credential = data_analytics_microcredential(
        did_key_for(key.public_bytes), "did:example:learner", platform.runtime.clock.now(),
        credential_id or f"urn:uuid:{uuid.uuid4()}", email,
    )  # fmt: skip
    credential["credentialSubject"]["achievement"]["name"] = name
    if jwt:
        return jose.sign_vc_jwt(credential, key, f"{did_key_for(key.public_bytes)}#{key.public_multibase}")
    return json.dumps(platform.credentials.sign(SignRequest(credential, key)))


def test_upsert_adds_then_replaces_and_round_trips(
    api: TestClient, access: dict[str, str], platform: bootstrap.Platform, microcredential: Any
) -> None:
    json_type, text_type = {**access, "content-type": "application/json"}, {**access, "content-type": "text/plain"}
    issuer_key, same_id = Ed25519KeyPair.generate(), "urn:uuid:3c7c4a8e-5f0e-4a38-9d53-8d4a9b1e0a01"
    external = _external(platform, "ada@example.org", credential_id=same_id, key=issuer_key)
    added = api.post("/ims/ob/v3p0/credentials", headers=json_type, content=external)
    assert added.status_code == 201, added.text
    assert added.json() == json.loads(external)
    # the same credential again (the same id): a replacement, and still one copy
    renewed = _external(platform, "ada@example.org", credential_id=same_id, name="Data Analytics (renewed)",
                        key=issuer_key)  # fmt: skip
    replaced = api.post("/ims/ob/v3p0/credentials", headers=json_type, content=renewed)
    assert replaced.status_code == 200 and replaced.json() == json.loads(renewed)
    # another issuer reusing that id is another credential: added, and the first one is untouched
    impostor = _external(platform, "ada@example.org", credential_id=same_id, name="Not the same")
    assert api.post("/ims/ob/v3p0/credentials", headers=json_type, content=impostor).status_code == 201
    token = _external(platform, "ada@example.org", jwt=True)
    as_jws = api.post("/ims/ob/v3p0/credentials", headers=text_type, content=token)
    assert as_jws.status_code == 201 and as_jws.headers["content-type"].startswith("text/plain")
    assert as_jws.text == token
    assert api.post("/ims/ob/v3p0/credentials", headers=text_type, content=token).status_code == 200
    # ours, issued here to Ada: it equals the one held, and stays as we signed it
    ours = platform.awards.award(AwardRequest(microcredential.id, "ada@example.org", name="Ada"))
    same = api.post("/ims/ob/v3p0/credentials", headers=json_type, content=json.dumps(ours.credential))
    assert same.status_code == 200 and same.json() == ours.credential
    # getCredentials gives back exactly what was sent
    listed = api.get("/ims/ob/v3p0/credentials", headers=access).json()
    assert list(official("getopenbadgecredentialsresponse").iter_errors(listed)) == []
    assert json.loads(renewed) in listed["credential"] and json.loads(external) not in listed["credential"]
    assert json.loads(impostor) in listed["credential"]
    assert ours.credential in listed["credential"]
    assert listed["compactJwsString"] == [token]


def test_upsert_refusals_store_nothing(
    api: TestClient, access: dict[str, str], platform: bootstrap.Platform, microcredential: Any
) -> None:
    bobs = _external(platform, "bob@example.org")
    tampered = json.loads(_external(platform, "ada@example.org"))
    tampered["credentialSubject"]["achievement"]["name"] = "Something grander"
    cases = [
        (bobs, "application/json", 400, "was not issued to ada@example.org"),
        (json.dumps(tampered), "application/json", 400, "does not verify"),
        ("{broken", "application/json", 400, "JSON"),
        ("[]", "application/json", 400, "a JSON object"),
        ("not.a-jws", "text/plain", 400, "compact JWS"),
        ("aaa.bbb.ccc", "text/plain", 400, "does not verify"),
        (bobs, "application/xml", 415, "application/json"),
        ("x" * (3 * 1024 * 1024), "text/plain", 400, "larger than"),
    ]
    with platform.runtime.db.read() as repo:
        user = repo.user_by_email("ada@example.org")
        assert user is not None
        before = len(repo.wallet_items(user.id))
    for content, media, status, words in cases:
        answer = api.post("/ims/ob/v3p0/credentials", headers={**access, "content-type": media}, content=content)
        assert answer.status_code == status, (media, answer.text)
        body = answer.json()
        assert list(official("imsx_statusinfo").iter_errors(body)) == []
        assert words in body["imsx_description"], body
    with platform.runtime.db.read() as repo:
        assert len(repo.wallet_items(user.id)) == before


def test_profile_read_and_replace(api: TestClient, access: dict[str, str]) -> None:
    first = api.get("/ims/ob/v3p0/profile", headers=access)
    assert first.status_code == 200
    profile = first.json()
    assert profile["type"] == "Profile" and profile["name"] == "Ada Lovelace" and profile["email"] == "ada@example.org"
    assert api.get("/ims/ob/v3p0/profile", headers=access).json()["id"] == profile["id"]  # stable
    # the specification's own example, kept whole
    example = {"@context": ["https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"], "type": "Profile",
               "id": "https://example.edu/issuers/565049", "name": "Example University", "phone": "111-222-3333"}  # fmt: skip
    put = api.put("/ims/ob/v3p0/profile", headers=access, json=example)
    assert put.status_code == 200 and put.json() == example
    assert api.get("/ims/ob/v3p0/profile", headers=access).json() == example
    for bad in ({"type": "Profile"}, {"id": "x", "type": "Issuer"}, [], {"id": 5, "type": ["Profile"]}):
        refused = api.put("/ims/ob/v3p0/profile", headers=access, json=bad)
        assert refused.status_code == 400, refused.text
        assert list(official("imsx_statusinfo").iter_errors(refused.json())) == []
    assert api.put("/ims/ob/v3p0/profile", headers={**access, "content-type": "text/plain"},
                   content=b"{}").status_code == 415  # fmt: skip
    assert api.get("/ims/ob/v3p0/profile", headers=access).json() == example


def test_unknown_paths_and_methods_answer_imsx(api: TestClient, access: dict[str, str]) -> None:
    for method, path in (("GET", "/ims/ob/v3p0/nothing"), ("DELETE", "/ims/ob/v3p0/credentials"),
                         ("POST", "/ims/ob/v3p0/discovery")):  # fmt: skip
        answer = api.request(method, path, headers=access)
        assert answer.status_code in (404, 405)
        assert list(official("imsx_statusinfo").iter_errors(answer.json())) == []


# -- the learner's connected applications ----------------------------------------------------------------
def test_the_learner_sees_and_disconnects_an_application(
    api: TestClient, browser: TestClient, registration: dict[str, Any], award: Any
) -> None:
    got = tokens(api, registration, browser)
    page = browser.get("/wallet/connections", headers={"accept": "text/html"})
    assert "Example Client Application" in page.text and "See the credentials in your wallet" in page.text
    from tests.ob3_helpers import csrf_of

    answer = browser.post(f"/wallet/connections/apps/{registration['client_id']}/disconnect",
                          data={"csrf": csrf_of(page.text)}, follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303
    assert "Example Client Application" not in browser.get("/wallet/connections").text
    assert api.get("/ims/ob/v3p0/credentials", headers=bearer(got["access_token"])).status_code == 401
    refreshed = api.post("/oauth/token", headers=basic(registration),
                         data={"grant_type": "refresh_token", "refresh_token": got["refresh_token"]})  # fmt: skip
    assert refreshed.status_code == 400


def test_another_learners_tokens_see_only_their_own(
    app: Any, api: TestClient, registration: dict[str, Any], award: Any
) -> None:
    bob = TestClient(app, base_url="https://microcred.example", raise_server_exceptions=False)
    sign_in(bob, "bob@example.org")
    got = tokens(api, registration, bob)
    answer = api.get("/ims/ob/v3p0/credentials", headers=bearer(got["access_token"]))
    assert answer.status_code == 200 and answer.json() == {} and answer.headers["x-total-count"] == "0"
    assert api.get("/ims/ob/v3p0/profile", headers=bearer(got["access_token"])).json()["name"] == "Bob"


def test_the_cli_lists_and_stops_applications(tmp_path: Path, database_url: str) -> None:
    from microcred.config import Settings
    from microcred.errors import OAuthError
    from tests.test_platform_cli import _cli, _env, _json

    env = _env(tmp_path, database_url)
    assert _cli(env, "init").returncode == 0
    assert _cli(env, "oauth", "clients").stdout.strip() == "no application has registered"
    built = bootstrap.build_platform(Settings(data_dir=Path(env["MICROCRED_DATA_DIR"]), database_url=database_url))
    try:
        registered = built.oauth.register(REGISTRATION, "127.0.0.1")
        [listed] = _json(_cli(env, "oauth", "clients", "--json"))
        assert listed["client_id"] == registered["client_id"] and listed["active"] is True
        assert listed["client_name"] == "Example Client Application" and listed["live_grants"] == 0
        stopped = _json(_cli(env, "oauth", "remove", registered["client_id"], "--json"))
        assert stopped == {"client_id": registered["client_id"], "revoked_grants": 0}
        with pytest.raises(OAuthError, match="expired"):
            built.oauth.authenticate_client(registered["client_id"], registered["client_secret"])
        assert _json(_cli(env, "oauth", "clients", "--json"))[0]["active"] is False
        unknown = _cli(env, "oauth", "remove", "nope")
        assert (
            unknown.returncode == 2 and "no application 'nope'" in unknown.stderr and "Traceback" not in unknown.stderr
        )
    finally:
        built.close()
