"""Open Badges 2.0 verification (IMS OB 2.0, section "Verification"), free of I/O of its own.

An Assertion is hosted (its `id` is a URL that serves it) or signed (a compact JWS whose payload is
the Assertion, by a key its issuer lists). Either way the BadgeClass and the Issuer Profile are read
(embedded, or through the resolver: supplied documents, or the guarded fetcher when allowed) and must
agree: hosted assertions live where their issuer allows (`allowedOrigins`, `startsWith`, else the
issuer's own origin), signing keys are owned by the issuer, a `revocationList` or a `revoked` flag is
honoured. Every step is a named check in the same Report the OB 3.0 pipeline gives.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from microcred.errors import MicrocredError
from microcred.standards import safejson
from microcred.standards.dates import parse_datetime
from microcred.standards.dids import Resolver
from microcred.standards.multibase import b64url_decode
from microcred.standards.vc import as_list
from microcred.standards.verify import FAILED, PASSED, SKIPPED, WARNING, Report

CONTEXT = "https://w3id.org/openbadges/v2"
MAX_JWS = 1_048_576
HOSTED, SIGNED = ("HostedBadge", "hosted"), ("SignedBadge", "signed")


@dataclass(slots=True)
class Ob2Result:
    report: Report
    assertion: dict[str, Any] | None = None
    badge: dict[str, Any] | None = None
    issuer: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return str((self.badge or {}).get("name") or "Open Badge")

    @property
    def issuer_name(self) -> str:
        return str((self.issuer or {}).get("name") or "")

    @property
    def issuer_id(self) -> str:
        return str((self.issuer or {}).get("id") or "unknown")

    @property
    def expires(self) -> datetime | None:
        return badge_date((self.assertion or {}).get("expires"))


def looks_like_ob2(text: str) -> bool:
    """An OB 2.0 Assertion as JSON, a compact JWS carrying one, or (baked) the URL of a hosted one."""
    stripped = text.strip()
    if stripped.startswith("https://") and " " not in stripped and len(stripped) < 2000:
        return True
    if stripped.startswith("{"):
        try:
            found = safejson.parse(stripped.encode())
        except MicrocredError:
            return False
        return isinstance(found, dict) and _is_assertion(found)
    payload = _jws_payload(stripped)
    return payload is not None and _is_assertion(payload)


def _is_assertion(document: dict[str, Any]) -> bool:
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    types = document.get("type")
    types = types if isinstance(types, list) else [types]
    return CONTEXT in contexts or ("Assertion" in types and "credentialSubject" not in document)


def _jws_payload(text: str) -> dict[str, Any] | None:
    parts = text.split(".")
    if len(parts) != 3 or len(text) > MAX_JWS:
        return None
    try:
        found = json.loads(b64url_decode(parts[1]))
    except (ValueError, MicrocredError, RecursionError):
        return None
    return found if isinstance(found, dict) else None


def ob2_text(data: bytes | str | dict[str, Any]) -> str | None:
    """The OB 2.0 assertion text in `data` (JSON, JWS, or baked in a PNG or SVG), or None when it is not
    one. Cheap for everything else: OB 3.0 credentials are let through after a substring test."""
    from microcred.standards import baking

    if isinstance(data, dict):
        return json.dumps(data) if _is_assertion(data) else None
    raw = data.encode() if isinstance(data, str) else data
    if baking.is_png(raw) or baking.is_svg(raw):
        try:
            text = baking.read_png(raw) if baking.is_png(raw) else baking.read_svg(raw)
        except MicrocredError:
            return None
        return text if looks_like_ob2(text) else None
    head = raw[:4096].lstrip()
    if head.startswith(b"{"):
        if b"openbadges/v2" not in raw and b'"Assertion"' not in raw:
            return None
    elif head.startswith(b"https://"):
        pass
    elif head.count(b".") != 2 or not _jws_could_be_ob2(raw):
        return None
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    return text if looks_like_ob2(text) else None


def _jws_could_be_ob2(raw: bytes) -> bool:
    """A JWS whose payload names the OB 2.0 context or an Assertion: decoded, but not parsed, here (VC-JWTs
    are the common case and pay only this)."""
    parts = raw.strip().split(b".")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + b"=" * (-len(parts[1]) % 4)) if len(parts) == 3 else b""
    except (ValueError, binascii.Error):
        return False
    return b"openbadges/v2" in payload or b'"Assertion"' in payload


def projection(result: Ob2Result) -> dict[str, Any] | None:
    """The assertion shown the way an OB 3.0 credential is (for pages and summaries only: it is not one,
    and nothing signs it)."""
    if result.assertion is None or result.badge is None or result.issuer is None:
        return None
    badge, issuer, assertion = result.badge, result.issuer, result.assertion
    criteria = badge.get("criteria")
    image = badge.get("image")
    achievement: dict[str, Any] = {
        "id": badge.get("id"), "type": ["Achievement"], "name": badge.get("name"),
        "description": badge.get("description"),
        "criteria": criteria if isinstance(criteria, dict) else {"id": criteria},
        "alignment": [a for a in as_list(badge.get("alignment")) if isinstance(a, dict)],
    }  # fmt: skip
    if isinstance(image, str | dict):
        achievement["image"] = {"id": image, "type": "Image"} if isinstance(image, str) else image
    shown: dict[str, Any] = {
        "id": assertion.get("id"), "type": ["OpenBadges2Assertion"],
        "issuer": {k: issuer[k] for k in ("id", "name", "url", "image", "email") if k in issuer},
        "credentialSubject": {"achievement": achievement},
        "validFrom": assertion.get("issuedOn"),
    }  # fmt: skip
    if "expires" in assertion:
        shown["validUntil"] = assertion["expires"]
    evidence = [e for e in as_list(assertion.get("evidence")) if isinstance(e, dict | str)]
    if evidence:
        shown["evidence"] = [e if isinstance(e, dict) else {"id": e} for e in evidence]
    return shown


class Ob2Verifier:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    def verify(self, text: str, at: datetime, recipient: str | None = None) -> Ob2Result:
        """`recipient`: an email the assertion's recipient must be (checked against its salted hash)."""
        result = Ob2Result(Report())
        try:
            self._run(result, text.strip(), at)
            if result.assertion is not None and result.badge is not None:
                _recipient(result.report, result.assertion, recipient)
        except Exception as exc:  # a verifier never raises: the report says what broke
            result.report.add("internal", FAILED, f"verification stopped on an unexpected error: {exc!r}"[:300])
        result.report.credential = projection(result)
        result.report.original = result.assertion
        return result

    def _run(self, result: Ob2Result, text: str, at: datetime) -> None:
        report = result.report
        if text.startswith("https://"):  # baked as the URL of a hosted assertion
            served = self._document(report, "ob2.hosted", text, "hosted assertion")
            if served is None:
                return
            text = json.dumps(served)
        signed = not text.startswith("{")
        if signed:
            assertion = _jws_payload(text)
            if assertion is None:
                report.add("parse", FAILED, "neither an OB 2.0 Assertion (JSON) nor a compact JWS carrying one")
                return
        else:
            try:
                parsed = safejson.parse(text.encode())
            except MicrocredError as exc:
                report.add("parse", FAILED, exc.message)
                return
            assertion = parsed if isinstance(parsed, dict) else {}
        report.add("parse", PASSED, "read")
        report.format = "ob2+jws" if signed else "ob2+json"
        kind = _verification_type(assertion)
        if (signed and kind not in SIGNED) or (not signed and kind not in HOSTED):
            report.add("format", FAILED, f"an OB 2.0 {'JWS' if signed else 'JSON'} assertion whose verification "
                                         f"type is {kind!r}, not {'SignedBadge' if signed else 'HostedBadge'}")  # fmt: skip
            return
        report.add("format", PASSED, f"Open Badges 2.0, {'signed (JWS)' if signed else 'hosted'}")
        if not signed:
            assertion = self._hosted_copy(report, assertion)
            if assertion is None:
                return
        result.assertion = assertion
        if not self._shapes(result, assertion):
            return
        assert result.issuer is not None
        if signed:
            self._signature(report, text, assertion, result.issuer)
        else:
            self._origin(report, assertion, result.issuer)
        self._dates(report, assertion, at)
        self._revocation(report, assertion, result.issuer)

    # -- documents ---------------------------------------------------------------------------
    def _document(self, report: Report, code: str, value: Any, what: str) -> dict[str, Any] | None:
        """An embedded object, or the document its URL names."""
        if isinstance(value, dict):
            return value
        if not isinstance(value, str):
            report.add(code, FAILED, f"the {what} is neither an object nor a URL")
            return None
        try:
            found = self.resolver.document(value)
        except MicrocredError as exc:
            report.add(code, FAILED, f"the {what} at {value[:120]} could not be read: {exc.message}")
            return None
        if not isinstance(found, dict):
            report.add(code, FAILED, f"the {what} at {value[:120]} is not a JSON object")
            return None
        if found.get("id") not in (None, value):
            report.add(code, FAILED, f"the {what} served at {value[:120]} names another id ({str(found['id'])[:120]})")
            return None
        return found

    def _hosted_copy(self, report: Report, given: dict[str, Any]) -> dict[str, Any] | None:
        """A hosted assertion is the one its URL serves now (the copy in hand may be stale or forged)."""
        url = given.get("id")
        if not isinstance(url, str) or urlsplit(url).scheme != "https":
            report.add("ob2.hosted", FAILED, "a hosted assertion's id must be the https URL that serves it")
            return None
        try:
            served = self.resolver.document(url)
        except MicrocredError as exc:
            if "HTTP 410" in exc.message:  # the OB 2.0 way of withdrawing a hosted assertion
                report.add("status.revocation", FAILED, f"its issuer withdrew it: {url[:120]} answers 410 Gone")
            else:
                report.add(
                    "ob2.hosted", FAILED, f"the hosted assertion at {url[:120]} could not be read: {exc.message}"
                )
            return None
        if not isinstance(served, dict) or served.get("id") != url:
            report.add("ob2.hosted", FAILED, f"{url[:120]} does not serve this assertion")
            return None
        if _comparable(served) != _comparable(given):
            report.add("ob2.hosted", WARNING, f"the copy given differs from the one served at {url[:120]}; "
                                              "the served one is what is checked")  # fmt: skip
        else:
            report.add("ob2.hosted", PASSED, f"the assertion is served at its id, {url[:120]}")
        return served

    def _shapes(self, result: Ob2Result, assertion: dict[str, Any]) -> bool:
        report = result.report
        missing = [k for k in ("id", "type", "recipient", "badge", "verification", "issuedOn") if k not in assertion]
        if missing or "Assertion" not in _types(assertion):
            report.add("ob2.assertion", FAILED, "not an OB 2.0 Assertion: "
                       + (f"missing {', '.join(missing)}" if missing else "type is not Assertion"))  # fmt: skip
            return False
        recipient = assertion["recipient"]
        if not isinstance(recipient, dict) or not isinstance(recipient.get("identity"), str):
            report.add("ob2.assertion", FAILED, "recipient must be an IdentityObject with an identity")
            return False
        report.add("ob2.assertion", PASSED, "an OB 2.0 Assertion with every required property")
        badge = self._document(report, "ob2.badge", assertion["badge"], "BadgeClass")
        if badge is None:
            return False
        missing = [k for k in ("id", "type", "name", "description", "criteria", "issuer") if k not in badge]
        if missing or "BadgeClass" not in _types(badge):
            report.add("ob2.badge", FAILED, "not an OB 2.0 BadgeClass: "
                       + (f"missing {', '.join(missing)}" if missing else "type is not BadgeClass"))  # fmt: skip
            return False
        result.badge = badge
        report.add("ob2.badge", PASSED, f"BadgeClass {str(badge.get('name'))[:120]!r}")
        issuer = self._document(report, "ob2.issuer", badge["issuer"], "issuer Profile")
        if issuer is None:
            return False
        if "id" not in issuer or "name" not in issuer or not {"Issuer", "Profile"} & set(_types(issuer)):
            report.add("ob2.issuer", FAILED, "not an OB 2.0 issuer Profile (id, type Issuer or Profile, name)")
            return False
        result.issuer = issuer
        absent = [k for k in ("url", "email") if k not in issuer]
        report.add("ob2.issuer", WARNING if absent else PASSED,
                   f"issuer {str(issuer['name'])[:120]!r}" + (f" (no {', '.join(absent)})" if absent else ""))  # fmt: skip
        return True

    # -- the issuer's rules ------------------------------------------------------------------------
    def _origin(self, report: Report, assertion: dict[str, Any], issuer: dict[str, Any]) -> None:
        url = str(assertion["id"])
        found = issuer.get("verification")
        policy: dict[str, Any] = found if isinstance(found, dict) else {}
        allowed = [o for o in as_list(policy.get("allowedOrigins")) if isinstance(o, str)]
        starts = [s for s in as_list(policy.get("startsWith")) if isinstance(s, str)]
        host = urlsplit(url).netloc.lower()
        if starts and not any(url.startswith(s) for s in starts):
            report.add("key_binding", FAILED, f"the issuer hosts its assertions under {starts[0][:120]}, not here")
        elif allowed and host not in {o.lower() for o in allowed}:
            report.add(
                "key_binding", FAILED, f"the issuer allows assertions from {', '.join(allowed)[:160]}, not {host}"
            )
        elif not allowed and not starts and host != urlsplit(str(issuer.get("id", ""))).netloc.lower():
            report.add("key_binding", FAILED, f"the assertion is hosted at {host}, not at its issuer's origin")
        else:
            report.add("key_binding", PASSED, f"hosted at {host}, where the issuer allows")

    def _signature(self, report: Report, token: str, assertion: dict[str, Any], issuer: dict[str, Any]) -> None:
        header_part, payload_part, signature_part = token.split(".")
        try:
            header = json.loads(b64url_decode(header_part))
            signature = b64url_decode(signature_part)
        except (ValueError, MicrocredError):
            report.add("proof", FAILED, "the JWS header or signature is not base64url JSON")
            return
        alg = header.get("alg") if isinstance(header, dict) else None
        found = assertion.get("verification")
        verification: dict[str, Any] = found if isinstance(found, dict) else {}
        creator = verification.get("creator")
        keys = (
            [creator]
            if isinstance(creator, str)
            else [
                k if isinstance(k, str) else k.get("id")
                for k in as_list(issuer.get("publicKey"))
                if isinstance(k, str | dict)
            ]
        )
        for key_url in keys[:3]:  # each may be a fetch: a hostile issuer cannot make it many
            key = self._document(report, "key_binding", key_url, "signing key") if isinstance(key_url, str) else None
            if key is None:
                return
            if key.get("owner") != issuer.get("id"):
                report.add("key_binding", FAILED, f"the key {str(key_url)[:120]} is not owned by the issuer")
                return
            problem = _check_jws(alg, key.get("publicKeyPem"), signature, f"{header_part}.{payload_part}".encode())
            if problem is None:
                report.add("proof", PASSED, f"{alg} signature by {str(key_url)[:120]}")
                report.add("key_binding", PASSED, "the signing key is owned by the issuer")
                return
        report.add("proof", FAILED, "the signature does not verify with the issuer's key"
                   if keys else "no signing key: neither verification.creator nor the issuer's publicKey")  # fmt: skip

    def _dates(self, report: Report, assertion: dict[str, Any], at: datetime) -> None:
        issued, expires = badge_date(assertion.get("issuedOn")), badge_date(assertion.get("expires"))
        if issued is None:
            report.add("valid_from", FAILED, "issuedOn is not a date and time")
        elif issued > at:
            report.add("valid_from", FAILED, f"issued in the future ({assertion['issuedOn']})")
        else:
            report.add("valid_from", PASSED, f"issued {assertion['issuedOn']}")
        if "expires" not in assertion:
            report.add("valid_until", SKIPPED, "no expiry")
        elif expires is None:
            report.add("valid_until", FAILED, "expires is not a date and time")
        else:
            report.add("valid_until", FAILED if expires <= at else PASSED,
                       f"{'expired' if expires <= at else 'valid until'} {assertion['expires']}")  # fmt: skip

    def _revocation(self, report: Report, assertion: dict[str, Any], issuer: dict[str, Any]) -> None:
        if assertion.get("revoked") is True:
            reason = assertion.get("revocationReason")
            report.add("status.revocation", FAILED, "revoked by its issuer" + (f": {reason}"[:200] if reason else ""))
            return
        url = issuer.get("revocationList")
        if not isinstance(url, str):
            report.add("status.revocation", PASSED if _verification_type(assertion) in HOSTED else SKIPPED,
                       "not revoked (the hosted copy says so)" if _verification_type(assertion) in HOSTED
                       else "the issuer publishes no revocation list")  # fmt: skip
            return
        revocations = self._document(report, "status.revocation", url, "revocation list")
        if revocations is None:
            return
        ids = {assertion.get("id"), assertion.get("uid")} - {None}
        for entry in as_list(revocations.get("revokedAssertions")):
            revoked_id = entry.get("id") or entry.get("uid") if isinstance(entry, dict) else entry
            if revoked_id in ids:
                reason = entry.get("revocationReason") if isinstance(entry, dict) else None
                report.add("status.revocation", FAILED, "on the issuer's revocation list"
                           + (f": {reason}"[:200] if reason else ""))  # fmt: skip
                return
        report.add("status.revocation", PASSED, "not on the issuer's revocation list")


def _recipient(report: Report, assertion: dict[str, Any], email: str | None) -> None:
    identity = assertion.get("recipient")
    assert isinstance(identity, dict)  # the shape check passed
    kind = identity.get("type", "email")
    algorithm = str(identity.get("identity", "")).partition("$")[0].lower() if identity.get("hashed") is True else ""
    form = (f"a {'salted ' if identity.get('salt') else ''}{algorithm} hash of an {kind}" if algorithm
            else f"an {kind} in plain text")  # fmt: skip
    if email is None:
        report.add("ob2.recipient", SKIPPED, f"the recipient is {form}; no address was given to compare with it")
    elif recipient_matches(assertion, email):
        report.add("ob2.recipient", PASSED, f"the recipient is {email} ({form})")
    else:
        report.add("ob2.recipient", FAILED, f"the recipient is not {email} (it is {form})")


def recipient_matches(assertion: dict[str, Any], email: str) -> bool:
    """The assertion's recipient is this email: plain, or hashed (sha256$ or md5$) with its salt."""
    recipient = assertion.get("recipient")
    if not isinstance(recipient, dict) or recipient.get("type", "email") != "email":
        return False
    identity, wanted = recipient.get("identity"), email.strip().lower()
    if not isinstance(identity, str):
        return False
    if recipient.get("hashed") is not True:
        return identity.strip().lower() == wanted
    found_salt = recipient.get("salt")
    salt = found_salt if isinstance(found_salt, str) else ""
    algorithm, _sep, digest = identity.partition("$")
    hashers = {"sha256": hashlib.sha256, "md5": hashlib.md5}
    if algorithm.lower() not in hashers or not digest:
        return False
    return hmac.compare_digest(hashers[algorithm.lower()]((wanted + salt).encode()).hexdigest(), digest.lower())


def _check_jws(alg: Any, pem: Any, signature: bytes, signing_input: bytes) -> str | None:
    """None when the signature verifies; otherwise why not (RS256 and ES256, the algorithms OB 2.0 uses)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from microcred.standards.jose import verify_with_key

    if not isinstance(pem, str):
        return "the key has no publicKeyPem"
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        return "the key's publicKeyPem is not a public key"
    try:
        verify_with_key(str(alg), key, signature, signing_input)
    except InvalidSignature:
        return "the signature does not verify"
    except ValueError as exc:
        return str(exc)
    return None


def _verification_type(assertion: dict[str, Any]) -> Any:
    verification = assertion.get("verification")
    return verification.get("type") if isinstance(verification, dict) else None


def _types(document: dict[str, Any]) -> list[Any]:
    found = document.get("type")
    return found if isinstance(found, list) else [found]


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    """What must not differ between a hosted assertion in hand and the one served (its embedded badge
    may be a URL in one and an object in the other)."""
    badge = document.get("badge")
    return {**document, "badge": badge.get("id") if isinstance(badge, dict) else badge}


def badge_date(value: Any) -> datetime | None:
    """A date as badges write it: xsd:dateTime, a plain date (midnight UTC), or (OB 1.x-era, still found in
    2.0 badges) a Unix timestamp; None when it is none of these."""
    if isinstance(value, str):
        value = value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        from datetime import UTC

        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    try:
        return parse_datetime(value)
    except MicrocredError:
        if isinstance(value, str) and len(value) == 10:
            try:
                return parse_datetime(value + "T00:00:00Z")  # a plain date
            except MicrocredError:
                return None
        return None
