"""Driving the OB 3.0 API's OAuth 2.0 flow the way a client application and a learner's browser do."""

from __future__ import annotations

import base64
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from microcred.standards import ob3_api

PASSWORD = "correct horse battery staple"
REDIRECT = "https://client.example/callback"
ALL_SCOPES = " ".join([*ob3_api.SCOPES, ob3_api.OFFLINE])
# the registration request of the OB 3.0 specification (7.2.1.2), pointed at our test client's host
REGISTRATION: dict[str, Any] = {
    "client_name": "Example Client Application",
    "client_uri": "https://client.example/",
    "logo_uri": "https://client.example/logo.png",
    "tos_uri": "https://client.example/terms",
    "policy_uri": "https://client.example/privacy",
    "software_id": "c88b6ed8-269e-448e-99be-7e2ff47167d1",
    "software_version": "v4.0.30319",
    "redirect_uris": [REDIRECT],
    "token_endpoint_auth_method": "client_secret_basic",
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "scope": ALL_SCOPES,
}


def sign_in(browser: Any, email: str, password: str = PASSWORD) -> None:
    csrf = csrf_of(browser.get("/signin", headers={"accept": "text/html"}).text)
    answer = browser.post("/signin", data={"csrf": csrf, "email": email, "password": password}, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no form on the page"
    return found.group(1)


def basic(registration: dict[str, Any]) -> dict[str, str]:
    pair = f"{registration['client_id']}:{registration['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def authorize_params(registration: dict[str, Any], verifier: str, **changes: str | None) -> dict[str, str]:
    params: dict[str, str | None] = {
        "response_type": "code", "client_id": registration["client_id"], "redirect_uri": REDIRECT,
        "scope": ALL_SCOPES, "state": secrets.token_urlsafe(8), "code_challenge": ob3_api.s256(verifier),
        "code_challenge_method": "S256", **changes,
    }  # fmt: skip
    return {k: v for k, v in params.items() if v is not None}


def consent(browser: Any, params: dict[str, str], decision: str = "allow") -> dict[str, str]:
    """Open the consent page as the signed-in learner and answer it; the query the application gets back."""
    page = browser.get("/oauth/authorize?" + urlencode(params), headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    import html

    form = {k: html.unescape(v) for k, v in form.items()}
    answer = browser.post("/oauth/authorize", data={**form, "decision": decision}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return back(answer.headers["location"])


def back(location: str) -> dict[str, str]:
    assert location.startswith(REDIRECT), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def tokens(api: Any, registration: dict[str, Any], browser: Any, verifier: str | None = None) -> dict[str, Any]:
    """The whole flow: consent, then the code traded for tokens."""
    verifier = verifier or secrets.token_urlsafe(48)
    answer = consent(browser, authorize_params(registration, verifier))
    response = api.post("/oauth/token", headers=basic(registration), data={
        "grant_type": "authorization_code", "code": answer["code"], "redirect_uri": REDIRECT,
        "code_verifier": verifier, "scope": ALL_SCOPES,
    })  # fmt: skip
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
