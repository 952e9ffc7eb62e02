"""The one data-model checker: VCDM 2.0 (and 1.1) and Bitstring Status List entries.

Every entry point asks this module (`microcred validate`, the verifier behind the CLI, the API, the
pages and the wallet, the VC-API issue path and our own awarding), so an issuer here refuses exactly
what a verifier here would refuse. Each violation names the rule and the JSON path it is about.
Rules that real issuers commonly break without changing what a credential means are warnings; the
OB 3.0 rules are the official JSON Schemas (standards/schema.py), reported beside these.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from microcred.errors import InputError
from microcred.standards.dates import parse_datetime

VC2 = "https://www.w3.org/ns/credentials/v2"
VC1 = "https://www.w3.org/2018/credentials/v1"
ERROR, WARNING = "error", "warning"

# An absolute URL (RFC 3986 scheme, then something), with none of the characters a URL cannot hold.
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_DATE_TIME_STAMP = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DATE_TIME = re.compile(r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_SRI = re.compile(r"^(sha256|sha384|sha512)-[A-Za-z0-9+/]+={0,2}$")
_MULTIBASE = re.compile(r"^[uzmMfFbB][A-Za-z0-9_\-+/=]+$")
_HEX_STATUS = re.compile(r"^0x[0-9a-fA-F]+$")
TYPED_OBJECTS = ("credentialStatus", "credentialSchema", "evidence", "termsOfUse", "refreshService", "proof")


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str  # where the rule is written, e.g. "VCDM 2.0 4.4 Identifiers"
    path: str  # a JSON path into the document, e.g. "$.credentialStatus[0].id"
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        return f"{self.message} (at {self.path}; {self.rule})"


def is_url(value: Any) -> bool:
    return isinstance(value, str) and bool(_URL.match(value))


def credential_violations(credential: Any) -> list[Violation]:
    """Every data-model rule a credential breaks (errors first, then warnings)."""
    if not isinstance(credential, dict):
        return [Violation("VCDM 2.0 4.2", "$", "a credential is a JSON object")]
    found = list(_credential(credential))
    return sorted(found, key=lambda v: v.severity != ERROR)


def presentation_violations(presentation: Any) -> list[Violation]:
    if not isinstance(presentation, dict):
        return [Violation("VCDM 2.0 4.13", "$", "a presentation is a JSON object")]
    out = list(_contexts(presentation.get("@context"), "@context" in presentation))
    out += _identifier(presentation, "$")
    out += _types(presentation, "$", "VerifiablePresentation", "VCDM 2.0 4.13")
    if "holder" in presentation:
        holder = presentation["holder"]
        holder_id = holder.get("id") if isinstance(holder, dict) else holder
        if not is_url(holder_id):
            out.append(Violation("VCDM 2.0 4.13", "$.holder", "the holder must be a URL or an object whose id is one"))
    for i, item in enumerate(_as_list(presentation.get("verifiableCredential"))):
        if not isinstance(item, dict):
            out.append(
                Violation(
                    "VCDM 2.0 4.13",
                    f"$.verifiableCredential[{i}]",
                    "each verifiableCredential must be an object, not a string, number or URL",
                )
            )
    return out


def errors(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.severity == ERROR]


def summary(violations: list[Violation], limit: int = 5) -> str:
    shown = "; ".join(str(v) for v in violations[:limit])
    more = len(violations) - limit
    return shown + (f"; and {more} more" if more > 0 else "")


# -- the rules ---------------------------------------------------------------------
def _credential(vc: dict[str, Any]) -> Iterator[Violation]:
    yield from _contexts(vc.get("@context"), "@context" in vc)
    version2 = _first_context(vc) != VC1
    yield from _identifier(vc, "$")
    yield from _types(vc, "$", "VerifiableCredential", "VCDM 2.0 4.5")
    yield from _issuer(vc)
    yield from _subjects(vc)
    yield from _names(vc, "$")
    yield from _dates(vc, version2)
    for name in TYPED_OBJECTS:
        yield from _typed(vc, name)
    for i, entry in enumerate(_as_list(vc.get("credentialStatus"))):
        if isinstance(entry, dict) and "BitstringStatusListEntry" in _as_list(entry.get("type")):
            yield from status_entry_violations(entry, _indexed("$.credentialStatus", i, vc["credentialStatus"]))
    for i, schema in enumerate(_as_list(vc.get("credentialSchema"))):
        if isinstance(schema, dict) and not is_url(schema.get("id")):
            path = _indexed("$.credentialSchema", i, vc["credentialSchema"])
            yield Violation("VCDM 2.0 4.11", f"{path}.id", "every credentialSchema must have an id that is a URL")
    if "relatedResource" in vc:
        yield from related_resource_violations(vc["relatedResource"])


def _first_context(doc: dict[str, Any]) -> Any:
    contexts = doc.get("@context")
    return contexts[0] if isinstance(contexts, list) and contexts else contexts


def _contexts(contexts: Any, present: bool) -> Iterator[Violation]:
    rule = "VCDM 2.0 4.3 Contexts"
    if not present:
        yield Violation(rule, "$", "@context is required")
        return
    items = contexts if isinstance(contexts, list) else [contexts]
    if not items or items[0] not in (VC2, VC1):
        yield Violation(rule, "$['@context'][0]", f"the first @context must be {VC2} (or {VC1} for VC 1.1)")
    for i, item in enumerate(items[1:], start=1):
        if isinstance(item, str):
            if not is_url(item):
                yield Violation(rule, f"$['@context'][{i}]", f"{item!r} is not a URL")
        elif not isinstance(item, dict):
            yield Violation(rule, f"$['@context'][{i}]", "each later @context must be a URL or a context object")


def _identifier(doc: dict[str, Any], path: str) -> Iterator[Violation]:
    if "id" in doc and not is_url(doc["id"]):
        yield Violation("VCDM 2.0 4.4 Identifiers", f"{path}.id", "an id must be a single URL")


def _types(doc: dict[str, Any], path: str, required: str | None, rule: str) -> Iterator[Violation]:
    if "type" not in doc:
        yield Violation(rule, f"{path}.type", "type is required")
        return
    types = doc["type"]
    values = types if isinstance(types, list) else [types]
    if not values or not all(isinstance(t, str) and t for t in values):
        yield Violation("VCDM 2.0 4.5 Types", f"{path}.type", "type must be one or more terms or URL strings")
    elif required is not None and required not in values:
        yield Violation(rule, f"{path}.type", f"type must include {required}")


def _issuer(vc: dict[str, Any]) -> Iterator[Violation]:
    rule = "VCDM 2.0 4.7 Issuer"
    if "issuer" not in vc:
        yield Violation(rule, "$.issuer", "issuer is required")
        return
    issuer = vc["issuer"]
    if isinstance(issuer, dict):
        if not is_url(issuer.get("id")):
            yield Violation(rule, "$.issuer.id", "an issuer object must have an id that is a URL")
        yield from _names(issuer, "$.issuer")
    elif not is_url(issuer):
        yield Violation(rule, "$.issuer", "the issuer must be a URL or an object whose id is one")


def _subjects(vc: dict[str, Any]) -> Iterator[Violation]:
    rule = "VCDM 2.0 4.8 Credential Subject"
    if "credentialSubject" not in vc:
        yield Violation(rule, "$.credentialSubject", "credentialSubject is required")
        return
    subjects = vc["credentialSubject"]
    items = subjects if isinstance(subjects, list) else [subjects]
    if not items:
        yield Violation(rule, "$.credentialSubject", "credentialSubject must hold at least one subject")
    for i, subject in enumerate(items):
        path = _indexed("$.credentialSubject", i, subjects)
        if not isinstance(subject, dict):
            yield Violation(rule, path, "each credentialSubject must be an object")
        elif not subject:
            yield Violation(rule, path, "each credentialSubject must make at least one claim (it is empty)")
        elif "id" in subject and not is_url(subject["id"]):
            yield Violation("VCDM 2.0 4.4 Identifiers", f"{path}.id", "a subject id must be a single URL")


def _names(doc: dict[str, Any], path: str) -> Iterator[Violation]:
    for name in ("name", "description"):
        if name in doc and not _is_language_text(doc[name]):
            yield Violation(
                "VCDM 2.0 4.6",
                f"{path}.{name}",
                f"{name} must be a string or language value objects ({{'@value': ..., '@language': ...}})",
            )


def _is_language_text(value: Any) -> bool:
    if isinstance(value, str):
        return True
    items = value if isinstance(value, list) else [value]
    return bool(items) and all(
        isinstance(v, dict) and isinstance(v.get("@value"), str)
        and set(v) <= {"@value", "@language", "@direction"} for v in items
    )  # fmt: skip


def _dates(vc: dict[str, Any], version2: bool) -> Iterator[Violation]:
    rule = "VCDM 2.0 4.9 Validity Period"
    parsed = {}
    for name, pattern, what in (
        ("validFrom", _DATE_TIME_STAMP, "an XML Schema dateTimeStamp (e.g. 2026-01-01T00:00:00Z)"),
        ("validUntil", _DATE_TIME_STAMP, "an XML Schema dateTimeStamp (e.g. 2026-01-01T00:00:00Z)"),
        ("issuanceDate", _DATE_TIME, "an XML Schema dateTime"),
        ("expirationDate", _DATE_TIME, "an XML Schema dateTime"),
    ):
        if name not in vc:
            continue
        value = vc[name]
        try:
            if not isinstance(value, str) or not pattern.match(value):
                raise InputError("malformed")
            parsed[name] = parse_datetime(value)
        except InputError:
            yield Violation(rule, f"$.{name}", f"{name} {value!r} is not {what}")
    if "validFrom" in parsed and "validUntil" in parsed and parsed["validFrom"] > parsed["validUntil"]:
        yield Violation(rule, "$.validUntil", "validUntil is earlier than validFrom")
    if version2 and "issuanceDate" in vc:
        yield Violation(rule, "$.issuanceDate", "issuanceDate is VC 1.1; VC 2.0 uses validFrom", WARNING)


def _typed(vc: dict[str, Any], name: str) -> Iterator[Violation]:
    if name not in vc:
        return
    value = vc[name]
    items = value if isinstance(value, list) else [value]
    if not items:
        yield Violation("VCDM 2.0 4.5 Types", f"$.{name}", f"{name} must hold one or more objects")
    for i, item in enumerate(items):
        path = _indexed(f"$.{name}", i, value)
        if not isinstance(item, dict):
            yield Violation("VCDM 2.0 4.5 Types", path, f"each {name} value must be an object")
            continue
        yield from _types(item, path, None, "VCDM 2.0 4.5 Types")
        yield from _identifier(item, path)


def status_entry_violations(entry: dict[str, Any], path: str) -> Iterator[Violation]:
    """Bitstring Status List 1.0 section 2.1: what a well-formed BitstringStatusListEntry holds."""
    rule = "Bitstring Status List 1.0 2.1"
    purpose = entry.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        yield Violation(rule, f"{path}.statusPurpose", "statusPurpose must be a string")
    index = entry.get("statusListIndex")
    if not isinstance(index, str) or not index.isascii() or not index.isdigit():
        yield Violation(rule, f"{path}.statusListIndex", "statusListIndex must be a base-10 integer string")
    url = entry.get("statusListCredential")
    if not is_url(url):
        yield Violation(rule, f"{path}.statusListCredential", "statusListCredential must be a URL")
    elif entry.get("id") == url:
        yield Violation(rule, f"{path}.id", "the entry id must not be the status list's URL")
    size = entry.get("statusSize", 1)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 8:
        yield Violation(rule, f"{path}.statusSize", "statusSize must be an integer from 1 to 8")
        return
    messages = entry.get("statusMessage")
    if messages is None:
        if size > 1:
            yield Violation(rule, f"{path}.statusMessage", "statusMessage is required when statusSize is above 1")
    else:
        yield from _status_messages(messages, size, f"{path}.statusMessage", rule)
    if "statusReference" in entry:
        refs = entry["statusReference"]
        if not (is_url(refs) or (isinstance(refs, list) and refs and all(is_url(r) for r in refs))):
            yield Violation(rule, f"{path}.statusReference", "statusReference must be a URL or a list of URLs")


def _status_messages(messages: Any, size: int, path: str, rule: str) -> Iterator[Violation]:
    if not isinstance(messages, list) or len(messages) != 2**size:
        yield Violation(rule, path, f"statusMessage must list one message for each of the {2**size} values")
        return
    seen = set()
    for i, message in enumerate(messages):
        if not (isinstance(message, dict) and isinstance(message.get("message"), str)
                and isinstance(message.get("status"), str) and _HEX_STATUS.match(message["status"])):  # fmt: skip
            yield Violation(rule, f"{path}[{i}]", 'each statusMessage is {"status": "0x..", "message": "..."}')
            continue
        value = int(message["status"], 16)
        if value >= 2**size or value in seen:
            yield Violation(rule, f"{path}[{i}].status", f"status {message['status']} is out of range or repeated")
        seen.add(value)


def related_resource_violations(value: Any) -> Iterator[Violation]:
    """VCDM 2.0 5.3: the form of relatedResource (the digests are checked against the resource elsewhere)."""
    rule = "VCDM 2.0 5.3 Integrity of Related Resources"
    items = value if isinstance(value, list) else [value]
    if not items:
        yield Violation(rule, "$.relatedResource", "relatedResource must hold one or more objects")
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = _indexed("$.relatedResource", i, value)
        if not isinstance(item, dict):
            yield Violation(rule, path, "each relatedResource must be an object with an id and a digest")
            continue
        resource = item.get("id")
        if not isinstance(resource, str) or not is_url(resource):
            yield Violation(rule, f"{path}.id", "each relatedResource needs an id that is a URL")
        elif resource in seen:
            yield Violation(rule, f"{path}.id", f"{resource} is listed twice")
        else:
            seen.add(resource)
        if "digestSRI" not in item and "digestMultibase" not in item:
            yield Violation(rule, path, "each relatedResource needs a digestSRI or a digestMultibase")
        for sri in _as_list(item.get("digestSRI")):
            if not isinstance(sri, str) or not all(_SRI.match(part) for part in sri.split()):
                yield Violation(rule, f"{path}.digestSRI", "digestSRI must be an SRI hash such as sha384-<base64>")
        for multibase in _as_list(item.get("digestMultibase")):
            if not isinstance(multibase, str) or not _MULTIBASE.match(multibase):
                yield Violation(rule, f"{path}.digestMultibase", "digestMultibase must be a multibase string")
        if "mediaType" in item and not isinstance(item["mediaType"], str):
            yield Violation(rule, f"{path}.mediaType", "mediaType must be a string")


def _indexed(path: str, i: int, value: Any) -> str:
    return f"{path}[{i}]" if isinstance(value, list) else path


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
