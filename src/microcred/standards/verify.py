"""The verification pipeline: named checks with stable codes, never an exception.

parse -> limits -> format -> data model -> JSON Schema -> contexts -> expansion
(data-loss detection) -> proof -> key binding -> validity dates -> status ->
embedded credentials -> issuer trust. `verified` is true only when no check
failed; warnings report data-model deviations real issuers commonly make.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from microcred.clock import Clock
from microcred.errors import InputError, JsonLdError, MicrocredError, ResolutionError
from microcred.standards import schema
from microcred.standards.context_policy import ContextPolicy
from microcred.standards.dates import parse_datetime
from microcred.standards.di import DataIntegrity, ProofOutcome
from microcred.standards.dids import Resolver, authorizes
from microcred.standards.digests import resource_digest_problems
from microcred.standards.inputs import CredentialInput, read_input
from microcred.standards.jsonld import JsonLdProcessor
from microcred.standards.loader import DocumentLoader
from microcred.standards.model import Violation, credential_violations, errors, summary
from microcred.standards.status import MIN_ENTRIES, Bitstring, parse_entry
from microcred.standards.vc import as_list, embedded_credentials, issuer_id, summarize

if TYPE_CHECKING:
    from microcred.standards import jose  # imported when a JWT arrives: its RSA/ECDSA bindings cost ~15 ms

PASSED, FAILED, WARNING, SKIPPED = "passed", "failed", "warning", "skipped"
MAX_EMBEDDED_DEPTH = 2
STATUS_PURPOSE_CODES = ("revocation", "suspension", "message")
# A proof made by a clock a little ahead of ours still verifies; one dated later than this does not.
PROOF_CLOCK_SKEW = timedelta(minutes=5)

_PURPOSE_WORDS = {"revocation": "revoked", "suspension": "suspended"}
CHECK_CODES = {
    "parse": "the input could be read (JSON, JWT, PNG or SVG; size, depth and duplicate-key limits)",
    "format": "which format the credential came in",
    "model": "the VC data model (VCDM 2.0 and 1.1, Bitstring Status List entries): every rule, with its JSON path",
    "model.subject": "the subject has an id or an identifier",
    "schema": "the official JSON Schema for the credential type",
    "contexts": "every @context is an allowlisted URL pinned by SHA-256, or an inline context that only adds terms",
    "related_resources": "relatedResource digests match the pinned copy of each resource",
    "expansion": "every term and type expands (JSON-LD safe mode); nothing would be dropped",
    "proof": "the cryptographic proof (Data Integrity or VC-JWT)",
    "key_binding": "the signing key belongs to the issuer and may assert for it",
    "valid_from": "the credential is already valid",
    "valid_until": "the credential has not expired",
    "status.revocation": "the credential is not revoked",
    "status.suspension": "the credential is not suspended",
    "status.message": "the issuer's current message for the credential (a multi-state status entry)",
    "status.list": "the status list is well formed, long enough and from the issuer",
    "embedded": "embedded credentials (endorsements, CLR contents) verify",
    "issuer_trust": "the issuer is in a trust registry",
    "presentation": "the Verifiable Presentation data model: contexts, type, holder, credentials",
    "challenge": "the presentation proof carries the challenge the verifier asked for",
    "domain": "the presentation proof is bound to the domain the verifier asked for",
    "holder_binding": "the presentation is signed by its holder, with an authentication key",
    "credentials": "every credential in the presentation verifies",
    "parts": "a roll-up's cited parts (relatedResource digests) are unchanged and verify",
    "ob2.hosted": "an OB 2.0 hosted assertion is served at its id (the served copy is the one checked)",
    "ob2.assertion": "an OB 2.0 Assertion with its required properties and a recipient",
    "ob2.badge": "its BadgeClass (embedded or read from its URL) with its required properties",
    "ob2.issuer": "its issuer Profile (embedded or read from its URL)",
    "ob2.recipient": "an OB 2.0 assertion's recipient is the address given (its salted hash compared)",
    "internal": "verification stopped on an unexpected error (a bug): the credential is not accepted",
}


@dataclass(frozen=True, slots=True)
class Check:
    code: str
    status: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "status": self.status, "message": self.message}


@dataclass(slots=True)
class Report:
    checks: list[Check] = field(default_factory=list)
    format: str = "unknown"
    credential: dict[str, Any] | None = None
    source: str | None = None
    # The document as given when it is not a VC (an OB 2.0 assertion; `credential` is then its display form).
    original: dict[str, Any] | None = None
    # Strict (the VC-API): a status that cannot be determined fails instead of warning, as the
    # Bitstring Status List algorithm requires (malformed entry, unreachable or too short list).
    strict: bool = False

    @property
    def lenient(self) -> str:
        """The status of a check that fails only in strict mode."""
        return FAILED if self.strict else WARNING

    @property
    def verified(self) -> bool:
        return bool(self.checks) and not any(c.status == FAILED for c in self.checks)

    def add(self, code: str, status: str, message: str) -> None:
        self.checks.append(Check(code, status, message))

    def status_of(self, code: str) -> str | None:
        found = [c.status for c in self.checks if c.code == code]
        if FAILED in found:
            return FAILED
        return found[0] if found else None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verified": self.verified, "format": self.format}
        if self.source is not None:
            out["source"] = self.source
        out["checks"] = [c.to_json() for c in self.checks]
        if self.credential is not None:
            out["credential"] = summarize(self.credential)
        return out


class Verifier:
    """Verifies credentials. Build one per configuration and reuse it."""

    def __init__(
        self,
        loader: DocumentLoader,
        resolver: Resolver,
        clock: Clock,
        jsonld: JsonLdProcessor | None = None,
        *,
        inline_contexts: bool = True,
    ) -> None:
        self.loader = loader
        self.resolver = resolver
        self.clock = clock
        self.jsonld = jsonld or JsonLdProcessor(loader)
        self.policy = ContextPolicy(self.jsonld.contexts, allow_inline=inline_contexts)
        self.integrity = DataIntegrity(self.jsonld)
        self._lists: dict[int, tuple[Any, datetime, datetime]] = {}

    def verify(
        self,
        data: bytes | str | dict[str, Any],
        *,
        at: datetime | None = None,
        check_proof: bool = True,
        strict: bool = False,
    ) -> Report:
        report = Report(strict=strict)
        guarded(report, lambda: self._run(report, data, at or self.clock.now(), check_proof, depth=0))
        return report

    def validate(self, data: bytes | str | dict[str, Any]) -> Report:
        """Data model, contexts and schema only: no proof is required."""
        return self.verify(data, check_proof=False)

    def issuance_violations(self, credential: dict[str, Any]) -> list[Violation]:
        """What an issuer here refuses: exactly what the verifier would fail before the proof."""
        found = errors(credential_violations(credential))
        if found:
            return found
        found = self.policy.violations(credential)
        if found:
            return found
        # Expansion only: the signer canonicalizes next, so doing it here too would be work done twice.
        unsecured = {k: v for k, v in credential.items() if k != "proof"}
        try:
            _quads, dropped = self.jsonld.to_quads_reporting(unsecured)
        except JsonLdError as exc:
            return [Violation("JSON-LD 1.1 safe mode", "$", exc.message)]
        if dropped:
            undefined = ", ".join(sorted(set(dropped)))
            return [
                Violation(
                    "JSON-LD 1.1 safe mode", "$", f"undefined type(s) {undefined}: add the context that defines them"
                )
            ]
        return [Violation("VCDM 2.0 5.3", "$.relatedResource", p) for p in self.related_resource_problems(credential)]

    def related_resource_problems(self, credential: dict[str, Any]) -> list[str]:
        problems = []
        for entry in as_list(credential.get("relatedResource")):
            if isinstance(entry, dict) and isinstance(entry.get("id"), str) and self.loader.knows(entry["id"]):
                problems += resource_digest_problems(entry, self.loader.raw(entry["id"]))
        return problems

    # -- pipeline ----------------------------------------------------------
    def _run(self, report: Report, data: Any, at: datetime, check_proof: bool, depth: int) -> None:
        parsed = self._parse(report, data)
        if parsed is None:
            return
        report.format = parsed.format
        report.add("parse", PASSED, "the input was read within the size, depth and duplicate-key limits")
        report.add("format", PASSED, f"read as {parsed.format}")
        jwt_outcome = _jose().verify_vc_jwt(parsed.jwt, self.resolver) if parsed.jwt else None
        credential = parsed.credential if jwt_outcome is None else jwt_outcome.credential
        if credential is None:
            report.add("model", FAILED, "the JWT payload holds no credential (no vc claim, no @context)")
            return
        report.credential = credential
        if not self._model(report, credential):
            return
        self._schema(report, credential)
        contexts_ok = self.check_contexts(report, credential)
        doc_hash = self.check_expansion(report, credential) if contexts_ok else None
        self._related_resources(report, credential)
        if not check_proof:
            return
        if jwt_outcome is not None:
            self._jwt_proof(report, credential, jwt_outcome)
        elif doc_hash is not None:
            self._di_proof(report, credential, doc_hash, at)
        else:
            report.add("proof", SKIPPED, "not checked: the document could not be processed")
        self._dates(report, credential, at, jwt_outcome)
        self._status(report, credential, at, depth)
        self._embedded(report, credential, at, depth)
        report.add("issuer_trust", SKIPPED, "no issuer trust registry is configured")

    def _parse(self, report: Report, data: Any) -> CredentialInput | None:
        try:
            return read_input(data)
        except InputError as exc:
            report.add("parse", FAILED, exc.message)
            return None

    def _model(self, report: Report, credential: dict[str, Any]) -> bool:
        violations = credential_violations(credential)
        failed = errors(violations)
        if failed:
            report.add("model", FAILED, summary(failed))
            return False
        report.add("model", PASSED, "a Verifiable Credential that follows the data model")
        for violation in violations:
            report.add("model", WARNING, str(violation))
        subjects = credential["credentialSubject"]
        for subject in subjects if isinstance(subjects, list) else [subjects]:
            if isinstance(subject, dict) and "id" not in subject and "identifier" not in subject:
                report.add("model.subject", WARNING, "the subject has neither an id nor an identifier: it names no one")
                return True
        report.add("model.subject", PASSED, "the subject is identified")
        return True

    def _schema(self, report: Report, credential: dict[str, Any]) -> None:
        result = schema.validate(credential)
        if result is None:
            report.add("schema", SKIPPED, "no published schema applies (VC 1.1 credential)")
        elif result.errors:
            report.add(
                "schema", WARNING, f"does not match the strict {result.schema} schema: " + "; ".join(result.errors)
            )
        else:
            report.add("schema", PASSED, f"matches the {result.schema} schema")

    def check_contexts(self, report: Report, credential: dict[str, Any]) -> bool:
        problems = self.policy.violations(credential)
        if problems:
            report.add("contexts", FAILED, summary(problems))
            return False
        if self.policy.uses_inline(credential):
            report.add("contexts", PASSED, "pinned contexts, and an inline context that only adds new terms")
        else:
            report.add("contexts", PASSED, "every context is pinned and allowlisted")
        return True

    def _related_resources(self, report: Report, credential: dict[str, Any]) -> None:
        entries = [e for e in as_list(credential.get("relatedResource")) if isinstance(e, dict)]
        if not entries:
            return
        problems = self.related_resource_problems(credential)
        pinned = sum(1 for e in entries if isinstance(e.get("id"), str) and self.loader.knows(e["id"]))
        if problems:
            report.add("related_resources", FAILED, "; ".join(problems[:5]))
        elif pinned:
            report.add("related_resources", PASSED, f"{pinned} related resource digest(s) match the pinned copies")
        else:
            report.add(
                "related_resources",
                SKIPPED,
                "no related resource is pinned here (a roll-up's parts are checked as parts)",
            )

    def check_expansion(self, report: Report, credential: dict[str, Any]) -> bytes | None:
        unsecured = {k: v for k, v in credential.items() if k != "proof"}
        try:
            quads, dropped = self.jsonld.to_quads_reporting(unsecured)
            canonical = self.jsonld.canonize_quads(quads)
        except JsonLdError as exc:
            report.add("expansion", FAILED, exc.message)
            return None
        if dropped:
            report.add(
                "expansion",
                WARNING,
                f"undefined type(s) {', '.join(sorted(set(dropped)))} are not signed (missing extensions context)",
            )
        else:
            report.add("expansion", PASSED, "every term and type is defined; nothing is dropped")
        return hashlib.sha256(canonical.encode("utf-8")).digest()

    def _di_proof(self, report: Report, credential: dict[str, Any], doc_hash: bytes, at: datetime) -> None:
        if not credential.get("proof"):
            report.add("proof", FAILED, "the credential has no proof")
            return
        outcomes = self.integrity.verify(credential, self.resolver, rdf_document_hash=doc_hash)
        bad = [o for o in outcomes if not o.ok]
        bad += [dated for dated in (_dated(o, at) for o in outcomes if o.ok) if dated is not None]
        if bad:
            report.add("proof", FAILED, "; ".join(o.message for o in bad))
            return
        names = ", ".join(sorted({str(o.proof.get("cryptosuite") or o.proof.get("type")) for o in outcomes}))
        report.add("proof", PASSED, f"{len(outcomes)} proof(s) verified ({names})")
        self._key_binding(report, credential, outcomes)

    def _key_binding(self, report: Report, credential: dict[str, Any], outcomes: list[ProofOutcome]) -> None:
        """One proof at least is the issuer's; any other (a proof set or chain: a witness, a notary)
        is by a key its own controller lists as an assertion method, and is named in the report."""
        issuer = issuer_id(credential)
        others = []
        for outcome in outcomes:
            method = outcome.method
            assert method is not None
            if not authorizes(outcome.controller_document, method.id, "assertionMethod"):
                report.add(
                    "key_binding", FAILED, f"the controller's document does not list {method.id} as an assertion method"
                )
                return
            if method.controller != issuer:
                others.append(method.controller)
        if len(others) == len(outcomes):
            report.add(
                "key_binding",
                FAILED,
                f"no proof is made with a key of the issuer {issuer!r} (signed by {', '.join(sorted(set(others)))})",
            )
            return
        also = f"; also signed by {', '.join(sorted(set(others)))}" if others else ""
        report.add("key_binding", PASSED, f"signed with a key of the issuer {issuer}{also}")

    def _jwt_proof(self, report: Report, credential: dict[str, Any], outcome: jose.JwtOutcome) -> None:
        if not outcome.ok:
            report.add("proof", FAILED, outcome.message)
            return
        report.add("proof", PASSED, outcome.message)
        issuer = issuer_id(credential)
        iss = outcome.payload.get("iss")
        if outcome.header_key_only:
            report.add(
                "key_binding",
                FAILED,
                "the key is carried only in the JOSE header (jwk): nothing binds it to the issuer",
            )
        elif iss is not None and iss != issuer:
            report.add("key_binding", FAILED, f"the JWT iss {iss!r} is not the credential issuer {issuer!r}")
        elif outcome.method is None or outcome.method.controller != issuer:
            controller = outcome.method.controller if outcome.method else None
            report.add("key_binding", FAILED, f"the key is controlled by {controller!r}, not by the issuer {issuer!r}")
        elif not authorizes(outcome.controller_document, outcome.method.id, "assertionMethod"):
            report.add(
                "key_binding", FAILED, f"the issuer's document does not list {outcome.method.id} as an assertion method"
            )
        else:
            report.add("key_binding", PASSED, f"signed with a key of the issuer {issuer}")

    def _dates(self, report: Report, credential: dict[str, Any], at: datetime, jwt: jose.JwtOutcome | None) -> None:
        claims = _jose().jwt_dates(jwt.payload) if jwt is not None else {}
        start = credential.get("validFrom", credential.get("issuanceDate", claims.get("nbf")))
        end = credential.get("validUntil", credential.get("expirationDate", claims.get("exp")))
        _date_check(report, "valid_from", start, at, before=True)
        _date_check(report, "valid_until", end, at, before=False)

    def _status(self, report: Report, credential: dict[str, Any], at: datetime, depth: int) -> None:
        entries = as_list(credential.get("credentialStatus"))
        if not entries:
            report.add("status.revocation", SKIPPED, "the credential has no status entry")
            return
        for raw in entries:
            self._status_entry(report, credential, raw, at, depth)

    def _status_entry(self, report: Report, credential: dict[str, Any], raw: Any, at: datetime, depth: int) -> None:
        try:
            entry = parse_entry(raw)
        except InputError as exc:
            report.add("status.list", report.lenient, f"status entry not checked: {exc.message}")
            return
        if report.strict and isinstance(raw, dict) and not isinstance(raw.get("statusListIndex"), str):
            report.add("status.list", FAILED, "statusListIndex must be a base-10 integer string")
            return
        code = f"status.{entry.purpose}" if entry.purpose in STATUS_PURPOSE_CODES else "status.list"
        try:
            list_credential = self.resolver.document(entry.list_url)
        except ResolutionError as exc:
            report.add(code, report.lenient, f"status not checked: {exc.message}")
            return
        failures = self._status_list_failures(list_credential, at, depth)
        if failures is not None:
            report.add(code, FAILED, f"the status list {entry.list_url} does not verify: {failures}")
            return
        self._read_bit(report, credential, list_credential, entry, code, raw)

    def _status_list_failures(self, list_credential: Any, at: datetime, depth: int) -> str | None:
        """Why the status list credential fails verification, or None.

        A verified list is remembered (the very object, for its validity window):
        resolvers hand out the same object until the list changes, and every
        credential on a list shares it.
        """
        hit = self._lists.get(id(list_credential))
        if hit is not None and hit[0] is list_credential and hit[1] <= at < hit[2]:
            return None
        nested = Report()
        self._run(nested, list_credential, at, True, depth + 1)
        if not nested.verified:
            return "; ".join(c.message for c in nested.checks if c.status == FAILED)
        if len(self._lists) > 256:
            self._lists.clear()
        self._lists[id(list_credential)] = (list_credential, *_validity_window(list_credential, at))
        return None

    def _read_bit(
        self, report: Report, credential: dict[str, Any], list_credential: Any, entry: Any, code: str, raw_entry: Any
    ) -> None:
        subject = list_credential.get("credentialSubject") if isinstance(list_credential, dict) else None
        if not isinstance(subject, dict):
            report.add(code, FAILED, "the status list credential has no subject")
            return
        if entry.purpose not in as_list(subject.get("statusPurpose")):
            report.add(code, FAILED, f"the status list is for {subject.get('statusPurpose')!r}, not {entry.purpose!r}")
            return
        try:
            bits = Bitstring.decode(subject.get("encodedList", ""))
            value = bits.get(entry.index, entry.status_size)
        except InputError as exc:
            report.add(code, FAILED, f"the status list cannot be read: {exc.message}")
            return
        if bits.size < MIN_ENTRIES:
            report.add(
                "status.list",
                report.lenient,
                f"the status list has {bits.size:,} entries, fewer than the {MIN_ENTRIES:,} minimum (weak herd privacy)",
            )
        if issuer_id(list_credential) != issuer_id(credential):
            report.add(
                "status.list",
                WARNING,
                f"the status list is signed by {issuer_id(list_credential)!r}, not the credential's issuer",
            )
        if entry.purpose == "message":
            report.add(code, PASSED, f"status {hex(value)}: {_status_message(raw_entry, value)} (index {entry.index})")
        elif value:
            word = _PURPOSE_WORDS.get(entry.purpose, f"flagged ({entry.purpose})")
            report.add(
                code, FAILED, f"the issuer has {word} this credential (list {entry.list_url}, index {entry.index})"
            )
        else:
            report.add(
                code,
                PASSED,
                f"not {_PURPOSE_WORDS.get(entry.purpose, 'flagged (' + entry.purpose + ')')} (index {entry.index})",
            )

    def _embedded(self, report: Report, credential: dict[str, Any], at: datetime, depth: int) -> None:
        embedded = list(embedded_credentials(credential))
        if not embedded:
            return
        if depth >= MAX_EMBEDDED_DEPTH:
            report.add("embedded", FAILED, "embedded credentials are nested too deeply")
            return
        failures = []
        for path, item in embedded:
            nested = Report(strict=report.strict)
            self._run(nested, item, at, True, depth + 1)
            if not nested.verified:
                reasons = "; ".join(f"{c.code}: {c.message}" for c in nested.checks if c.status == FAILED)
                failures.append(f"{path}: {reasons}")
        if failures:
            report.add("embedded", FAILED, " | ".join(failures[:5]))
        else:
            report.add("embedded", PASSED, f"{len(embedded)} embedded credential(s) verified")


def _status_message(entry: Any, value: int) -> str:
    """The message a multi-state entry gives for `value` (Bitstring Status List 1.0 2.1)."""
    for item in as_list(entry.get("statusMessage") if isinstance(entry, dict) else None):
        if isinstance(item, dict) and isinstance(item.get("status"), str):
            try:
                if int(item["status"], 16) == value:
                    return str(item.get("message"))
            except ValueError:
                continue
    return "set" if value else "unset"


def guarded(report: Report, run: Callable[[], None]) -> None:
    """Run a verification; whatever goes wrong ends as a failed check in the report, never an exception."""
    try:
        run()
    except MicrocredError as exc:  # infrastructure trouble still ends in a report
        report.add("parse", FAILED, exc.message)
    except RecursionError:
        report.add("parse", FAILED, "the document is nested too deeply to process")
    except Exception as exc:
        report.add(
            "internal",
            FAILED,
            f"verification stopped on an unexpected {type(exc).__name__}; this is a microcred bug, please report it",
        )


def _dated(outcome: ProofOutcome, at: datetime) -> ProofOutcome | None:
    """A failed outcome when the proof is dated in the future (beyond the clock skew) or has expired."""
    proof = outcome.proof
    message = None
    if "created" in proof and parse_datetime(proof["created"]) > at + PROOF_CLOCK_SKEW:
        message = (
            f"the proof was created on {proof['created']}, in the future (beyond {PROOF_CLOCK_SKEW} of clock skew)"
        )
    elif "expires" in proof and parse_datetime(proof["expires"]) <= at:
        message = f"the proof expired on {proof['expires']}"
    return None if message is None else ProofOutcome(False, message, proof, outcome.method)


def _validity_window(credential: Any, at: datetime) -> tuple[datetime, datetime]:
    """[validFrom, validUntil) of a verified credential (open ends become `at` and a day on)."""
    start, end = at, at + timedelta(days=1)
    try:
        if credential.get("validFrom"):
            start = min(parse_datetime(credential["validFrom"]), at)
        if credential.get("validUntil"):
            end = min(parse_datetime(credential["validUntil"]), end)
    except InputError:
        return at, at
    return start, end


def _date_check(report: Report, code: str, value: Any, at: datetime, *, before: bool) -> None:
    if value is None:
        if before:
            report.add(code, WARNING, "the credential states no validFrom or issuanceDate")
        else:
            report.add(code, PASSED, "the credential does not expire")
        return
    try:
        instant = parse_datetime(value)
    except InputError as exc:
        report.add(code, FAILED, exc.message)
        return
    if before and instant > at:
        report.add(code, FAILED, f"not valid until {value}")
    elif not before and instant <= at:
        report.add(code, FAILED, f"expired on {value}")
    else:
        report.add(code, PASSED, f"valid from {value}" if before else f"valid until {value}")


def _jose() -> Any:
    from microcred.standards import jose

    return jose
