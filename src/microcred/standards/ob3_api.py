"""The Open Badges 3.0 API's own rules (1EdTech OB 3.0, sections 6 and 7), free of I/O.

Scopes, the Service Description Document profiled from the published OpenAPI file, Imsx_StatusInfo
bodies, paging links, PKCE (RFC 7636, S256 only), client registration metadata (RFC 7591 as the OB
security section profiles it) and the credential equality the upsert relies on.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode, urlsplit

from microcred.standards.vc import as_list

PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
CREDENTIAL_READ = PREFIX + "credential.readonly"
CREDENTIAL_UPSERT = PREFIX + "credential.upsert"
PROFILE_READ = PREFIX + "profile.readonly"
PROFILE_UPDATE = PREFIX + "profile.update"
OFFLINE = "offline_access"  # asked for by clients that want refresh tokens (the spec's own examples)
SCOPES = {
    CREDENTIAL_READ: "Permission to read AchievementCredentials for the authenticated entity.",
    CREDENTIAL_UPSERT: "Permission to create or update AchievementCredentials for the authenticated entity.",
    PROFILE_READ: "Permission to read the profile for the authenticated entity.",
    PROFILE_UPDATE: "Permission to update the profile for the authenticated entity.",
}
KNOWN_SCOPES = frozenset(SCOPES) | {OFFLINE}
CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636 section 4.1
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of a SHA-256, unpadded

# Imsx_CodeMinorFieldValue for each HTTP status the API answers with
CODE_MINOR = {
    400: "invalid_data",
    401: "unauthorizedrequest",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    406: "not_acceptable",
    409: "invalid_data",
    413: "invalid_data",
    415: "invalid_data",
    422: "invalid_data",
    429: "server_busy",
    500: "internal_server_error",
    502: "server_busy",
}


class RegistrationError(ValueError):
    """RFC 7591 section 3.2.2: `error` is invalid_redirect_uri or invalid_client_metadata."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


# -- scopes -------------------------------------------------------------------------------
def parse_scope(value: object) -> list[str]:
    """A space-separated scope string, in order, without repeats ([] for anything else)."""
    if not isinstance(value, str):
        return []
    seen: dict[str, None] = {}
    for item in value.split(" "):
        if item:
            seen.setdefault(item, None)
    return list(seen)


def scope_text(scopes: list[str]) -> str:
    return " ".join(scopes)


# -- the Service Description Document --------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ServiceUrls:
    api: str  # .../ims/ob/v3p0
    registration: str
    authorization: str
    token: str
    revocation: str
    terms: str
    privacy: str
    image: str | None = None


@cache
def _openapi() -> dict[str, Any]:
    raw = resources.files("microcred.standards.schemas").joinpath("ob_v3p0_openapi.json").read_bytes()
    return json.loads(raw)  # type: ignore[no-any-return]


def service_description(name: str, urls: ServiceUrls) -> dict[str, Any]:
    """The published OpenAPI file, profiled for this server (section 7.1.1): where it is, its name,
    terms and privacy policy, and the OAuth 2.0 endpoints a client registers with and asks for tokens."""
    document = copy.deepcopy(_openapi())
    info = document["info"]
    info["title"] = name
    info["termsOfService"] = urls.terms
    info["x-imssf-privacyPolicyUrl"] = urls.privacy
    if urls.image:
        info["x-imssf-image"] = urls.image
    document["servers"] = [{"url": urls.api, "description": name}]
    scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
    scheme["description"] = "OAuth 2.0 Authorization Code Grant authorization"
    scheme["x-imssf-name"] = name
    scheme["x-imssf-privacyPolicyUrl"] = urls.privacy
    scheme["x-imssf-termsOfServiceUrl"] = urls.terms
    scheme["x-imssf-registrationUrl"] = urls.registration
    scheme["flows"]["authorizationCode"] = {
        "authorizationUrl": urls.authorization,
        "tokenUrl": urls.token,
        "refreshUrl": urls.token,
        "scopes": dict(SCOPES),
    }
    return document


@dataclass(frozen=True, slots=True)
class Endpoints:
    """What a client needs from another server's Service Description Document."""

    name: str
    api: str
    registration: str
    authorization: str
    token: str
    scopes: tuple[str, ...]
    privacy: str | None
    terms: str | None


def read_service_description(document: Any, discovery_url: str) -> Endpoints:
    """The endpoints a Service Description Document names (ValueError, with the reason, when it names
    none or names them off https)."""
    if not isinstance(document, dict):
        raise ValueError("the discovery document is not a JSON object")
    try:
        scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
        flow = scheme["flows"]["authorizationCode"]
        found = {
            "registration": scheme["x-imssf-registrationUrl"],
            "authorization": flow["authorizationUrl"],
            "token": flow["tokenUrl"],
        }
    except (KeyError, TypeError) as exc:
        raise ValueError(f"the discovery document has no OAuth2ACG security scheme ({exc} missing)") from exc
    for label, url in found.items():
        if not isinstance(url, str) or urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
            raise ValueError(f"the discovery document's {label} URL is not an https URL: {str(url)[:120]!r}")
    found_info = document.get("info")
    info: dict[str, Any] = found_info if isinstance(found_info, dict) else {}
    servers = document.get("servers")
    api = discovery_url.rsplit("/discovery", 1)[0]
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        server_url = servers[0].get("url")
        if isinstance(server_url, str) and server_url.startswith("https://"):
            api = server_url.rstrip("/")
    scopes = flow.get("scopes") if isinstance(flow.get("scopes"), dict) else {}
    title = info.get("title") if isinstance(info.get("title"), str) else urlsplit(discovery_url).hostname
    privacy = info.get("x-imssf-privacyPolicyUrl") or scheme.get("x-imssf-privacyPolicyUrl")
    terms = info.get("termsOfService")
    return Endpoints(
        str(title)[:300], api, found["registration"], found["authorization"], found["token"],
        tuple(s for s in scopes if isinstance(s, str)), privacy if isinstance(privacy, str) else None,
        terms if isinstance(terms, str) else None,
    )  # fmt: skip


# -- errors and paging -------------------------------------------------------------------------
def status_info(status: int, description: str) -> dict[str, Any]:
    """An Imsx_StatusInfo body for an HTTP error status."""
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_codeMinor": {
            "imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "microcred", "imsx_codeMinorFieldValue": CODE_MINOR.get(status, "unknown")}
            ]
        },
    }


def link_header(url: str, limit: int, offset: int, total: int, extra: dict[str, str] | None = None) -> str:
    """Section 6.2.2: first and last always; next while the list goes on; prev past the first item."""
    query = dict(extra or {})

    def at(start: int) -> str:
        return f"<{url}?{urlencode({**query, 'limit': limit, 'offset': start})}>"

    last = max(0, (total - 1) // limit * limit) if total else 0
    links = []
    if offset + limit < total:
        links.append(f'{at(offset + limit)}; rel="next"')
    links.append(f'{at(last)}; rel="last"')
    links.append(f'{at(0)}; rel="first"')
    if offset > 0:
        links.append(f'{at(max(0, min(offset - limit, last)))}; rel="prev"')
    return ", ".join(links)


def parse_links(header: str | None) -> dict[str, str]:
    """rel -> URL from a Link header (RFC 8288, the simple form the OB API uses)."""
    found: dict[str, str] = {}
    for part in (header or "").split(","):
        match = re.match(r'\s*<([^>]*)>\s*;\s*rel="?([A-Za-z]+)"?', part)
        if match:
            found.setdefault(match.group(2), match.group(1))
    return found


# -- PKCE ----------------------------------------------------------------------------------------
def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def valid_challenge(challenge: object) -> bool:
    return isinstance(challenge, str) and bool(_CHALLENGE.match(challenge))


def verifier_matches(verifier: object, challenge: str) -> bool:
    if not isinstance(verifier, str) or not _VERIFIER.match(verifier):
        return False
    return hmac.compare_digest(s256(verifier), challenge)


# -- client registration ----------------------------------------------------------------------------
REQUIRED_STRINGS = ("client_name", "software_id", "software_version")
REQUIRED_URLS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
GRANT_TYPES = ("authorization_code", "refresh_token")


def client_metadata(body: Any) -> dict[str, Any]:
    """The registration request checked and completed (section 7.2.1.2): every required field, https
    URLs all on one host, arrays where arrays are due, only client_secret_basic, the code flow and
    known scopes. Raises RegistrationError."""
    if not isinstance(body, dict):
        raise RegistrationError("invalid_client_metadata", "the registration must be a JSON object")
    for name in REQUIRED_STRINGS:
        value = body.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 300:
            raise RegistrationError("invalid_client_metadata", f"{name} is required: a string of 1 to 300 characters")
    redirects = body.get("redirect_uris")
    if not isinstance(redirects, list) or not redirects or len(redirects) > 10:
        raise RegistrationError("invalid_redirect_uri", "redirect_uris is required: an array of 1 to 10 https URLs")
    hosts = {_https_host(body.get(name), name, "invalid_client_metadata") for name in REQUIRED_URLS}
    hosts |= {_https_host(uri, "redirect_uris", "invalid_redirect_uri", redirect=True) for uri in redirects}
    if len(hosts) != 1:
        raise RegistrationError(
            "invalid_client_metadata", f"all URLs must be on the same host; these name {', '.join(sorted(hosts))}"
        )
    method = body.get("token_endpoint_auth_method", "client_secret_basic")
    if method != "client_secret_basic":
        raise RegistrationError("invalid_client_metadata", "token_endpoint_auth_method may only be client_secret_basic")
    grants = _string_list(body, "grant_types", ["authorization_code"])
    if not set(grants) <= set(GRANT_TYPES) or "authorization_code" not in grants:
        raise RegistrationError(
            "invalid_client_metadata",
            "grant_types may hold authorization_code and refresh_token, and must hold the first",
        )
    if _string_list(body, "response_types", ["code"]) != ["code"]:
        raise RegistrationError("invalid_client_metadata", 'response_types may only be ["code"]')
    scopes = parse_scope(body.get("scope"))
    if not isinstance(body.get("scope"), str) or not scopes:
        raise RegistrationError("invalid_client_metadata", "scope is required: the space-separated scopes to ask for")
    unknown = [s for s in scopes if s not in KNOWN_SCOPES]
    if unknown:
        raise RegistrationError("invalid_client_metadata", f"unknown scope {unknown[0][:120]!r}")
    contacts = _string_list(body, "contacts", [])
    metadata = {name: body[name].strip() for name in REQUIRED_STRINGS}
    metadata |= {name: body[name] for name in REQUIRED_URLS}
    metadata |= {
        "redirect_uris": list(dict.fromkeys(redirects)),
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": list(dict.fromkeys(grants)),
        "response_types": ["code"],
        "scope": scope_text(scopes),
    }
    if contacts:
        metadata["contacts"] = contacts[:10]
    return metadata


def _string_list(body: dict[str, Any], name: str, default: list[str]) -> list[str]:
    value = body.get(name, default)
    if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= 320 for v in value):
        raise RegistrationError("invalid_client_metadata", f"{name} must be an array of strings")
    return value


def _https_host(value: object, name: str, error: str, *, redirect: bool = False) -> str:
    if not isinstance(value, str) or len(value) > 2000:
        raise RegistrationError(error, f"{name} is required: an https URL")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError as exc:
        raise RegistrationError(error, f"{name} is not a URL: {value[:120]!r}") from exc
    if parts.scheme != "https" or not parts.hostname:
        raise RegistrationError(error, f"{name} must be an https URL, not {value[:120]!r}")
    if parts.username or parts.password or (redirect and parts.fragment):
        raise RegistrationError(error, f"{name} may carry no user name, password or #fragment: {value[:120]!r}")
    return str(parts.hostname).lower()


# -- credentials ---------------------------------------------------------------------------------------
def equality_key(credential: dict[str, Any]) -> str:
    """What makes two credentials the same one for an upsert: the id when it has one; otherwise the
    achievement, the subject and the time it was issued. Always within one issuer: another issuer's
    credential that reuses an id is another credential, and never replaces the first."""
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    found = credential.get("id")
    if isinstance(found, str):
        return "id:" + json.dumps([issuer_id, found], default=str)
    subject = next((s for s in as_list(credential.get("credentialSubject")) if isinstance(s, dict)), {})
    achievement = subject.get("achievement")
    achievement_id = achievement.get("id") if isinstance(achievement, dict) else achievement
    who = subject.get("id") or json.dumps(subject.get("identifier"), sort_keys=True)
    issued = credential.get("validFrom") or credential.get("issuanceDate")
    return "fields:" + json.dumps([issuer_id, achievement_id, who, issued], sort_keys=True, default=str)
