"""The W3C VC-API: issue, verify credentials and presentations, and change status.

Other systems (and the W3C conformance suites) send arbitrary credentials for issuers that
an operator enabled for the VC-API. What they send is validated as strictly as our own
awards (allowlisted contexts, every term defined), signed, verified once more, stored
exactly as signed, and given status list entries on the issuer's lists when asked.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from microcred.errors import InputError, UsageError
from microcred.services.accounts import Principal
from microcred.services.awarding import PURPOSES, AwardService
from microcred.services.credentials import CredentialService
from microcred.services.issuing import SUITES, Conflict, NotFound, Runtime, active_key, did_document
from microcred.services.signing import sign_and_check
from microcred.services.vcapi_reports import credential_result, presentation_result
from microcred.standards.dates import format_datetime
from microcred.standards.model import credential_violations, errors, status_entry_violations, summary
from microcred.standards.presentations import Binding, verify_presentation
from microcred.standards.vc import VC_CONTEXTS, issuer_id, unwrap_enveloped
from microcred.storage import models
from microcred.storage.repositories import Repository

VC1, VC2 = VC_CONTEXTS[1], VC_CONTEXTS[0]
DI_CONTEXT = "https://w3id.org/security/data-integrity/v2"
STATUS_CONTEXT = "https://www.w3.org/ns/credentials/status/v1"
ISSUE_OPTIONS = {"type", "cryptosuite", "credentialStatus", "credentialId", "mandatoryPointers"}
STATUS_TYPES = ("BitstringStatusListEntry", "BitstringStatusList")
STATUS_FIELDS = {"credentialId", "credentialStatus", "status", "indexAllocator"}


MESSAGE = "message"
STATUS_ASK_FIELDS = {"type", "statusPurpose", "statusSize", "statusMessage", "statusReference"}


@dataclass(frozen=True, slots=True)
class StatusAsk:
    """One status entry a caller asks for; the issuer chooses the list and the index."""

    purpose: str
    size: int = 1
    extra: tuple[tuple[str, Any], ...] = ()  # statusSize, statusMessage, statusReference as asked


@dataclass(frozen=True, slots=True)
class IssueRequest:
    credential: dict[str, Any]
    cryptosuite: str | None
    purposes: tuple[StatusAsk, ...]
    credential_ref: str | None


@dataclass(frozen=True, slots=True)
class StatusRequest:
    credential_ref: str
    purpose: str
    value: bool | int  # an integer for a multi-state message entry
    list_url: str | None
    index: int | None


class VcApiService:
    def __init__(self, runtime: Runtime, awards: AwardService, credentials: CredentialService) -> None:
        self.runtime = runtime
        self.awards = awards
        self.credentials = credentials

    # -- issuers -------------------------------------------------------------
    def issuers(self, who: Principal | None = None) -> list[dict[str, Any]]:
        """The DIDs the VC-API signs for (for `who`, or all when None)."""
        with self.runtime.db.read() as repo:
            out = []
            for issuer in repo.issuers():
                if not issuer.vcapi or (who is not None and not who.may_see(issuer.organisation_id)):
                    continue
                key = repo.active_key(issuer.id)
                out.append(
                    {
                        "slug": issuer.slug,
                        "did": issuer.did,
                        "name": issuer.name,
                        "verificationMethod": f"{issuer.did}#{key.key_id}" if key else None,
                        "cryptosuites": list(SUITES),
                        "defaultCryptosuite": issuer.default_suite,
                    }
                )
            return out

    # -- issuing -------------------------------------------------------------
    def issue(self, body: Any, who: Principal | None, actor: str) -> dict[str, Any]:
        """Validate, sign, store and return the verifiable credential (raises UsageError/InputError)."""
        request = parse_issue_request(body)
        if request.purposes and not self.runtime.base_url.startswith("https://"):
            raise UsageError(
                "status entries need an https statusListCredential: set MICROCRED_PUBLIC_BASE_URL to this "
                f"installation's https address (it is {self.runtime.base_url})"
            )
        credential = _prepared(request, format_datetime(self.runtime.clock.now()))
        self._check_document(credential)  # JSON-LD work before the write lock is taken
        with self.runtime.db.transaction() as repo:
            issuer = self._issuer_for(repo, request.credential, who)
            row_id = str(uuid.uuid4())
            entries = self._status_entries(repo, issuer, request.purposes)
            if entries:
                status = [
                    {**self.awards.status_entry(issuer, lst, index), **dict(ask.extra)}
                    for ask, (lst, index) in zip(request.purposes, entries, strict=True)
                ]
                credential["credentialStatus"] = status[0] if len(status) == 1 else status
            vm, pair = active_key(repo, self.runtime, issuer)
            suite = request.cryptosuite or issuer.default_suite
            signed = sign_and_check(
                self.awards.integrity, self.runtime.clock, pair, vm, did_document(repo, issuer), suite, credential
            )
            self._store(repo, issuer, row_id, request, signed, entries, actor)
        return signed

    def _issuer_for(self, repo: Repository, credential: dict[str, Any], who: Principal | None) -> models.Issuer:
        did = issuer_id(credential)
        issuer = repo.issuer_by_did(did) if did else None
        if issuer is None or not issuer.vcapi or (who is not None and not who.may_see(issuer.organisation_id)):
            raise UsageError(
                f"the issuer {did!r} is not a DID this installation signs for through the VC-API "
                "(`microcred vcapi issuers` lists them)"
            )
        return issuer

    def _check_document(self, credential: dict[str, Any]) -> None:
        """Refuse what the verifier would fail before the proof: contexts, undefined terms, digests."""
        problems = self.credentials.verifier.issuance_violations(credential)
        if problems:
            raise InputError(summary(problems))

    def _status_entries(
        self, repo: Repository, issuer: models.Issuer, asks: tuple[StatusAsk, ...]
    ) -> list[tuple[models.StatusList, int]]:
        return [self.awards.allocate(repo, issuer, ask.purpose, 1, ask.size)[0] for ask in asks]

    def _store(
        self,
        repo: Repository,
        issuer: models.Issuer,
        row_id: str,
        request: IssueRequest,
        signed: dict[str, Any],
        entries: list[tuple[models.StatusList, int]],
        actor: str,
    ) -> None:
        ref = request.credential_ref or signed.get("id")
        repo.add(
            models.VcApiCredential(
                id=row_id, issuer_id=issuer.id, credential_ref=ref if isinstance(ref, str) else None,
                credential=json.dumps(signed, ensure_ascii=False), issued_at=self.runtime.clock.now(),
                revoked_at=None, suspended=False,
            )
        )  # fmt: skip
        repo.insert_many(
            models.VcApiStatusEntry, [{"list_id": lst.id, "index": i, "credential_id": row_id} for lst, i in entries]
        )
        self.runtime.audit(repo, actor, "vcapi.issue", issuer.organisation_id, row_id, ref=ref, issuer=issuer.did)

    # -- status --------------------------------------------------------------
    def update_status(self, body: Any, who: Principal | None, actor: str) -> dict[str, Any]:
        """Revoke, suspend or reinstate a credential issued here (through the VC-API or as an award)."""
        request = parse_status_request(body)
        with self.runtime.db.transaction() as repo:
            visible = [i.id for i in repo.issuers() if who is None or who.may_see(i.organisation_id)]
            rows = repo.vcapi_credentials(visible, request.credential_ref, lock=True)
            if rows:
                changed = [self._change(repo, row, request, actor) for row in rows]
                return {"credentialId": request.credential_ref, "credentialStatus": changed}
        award_id = self._award_for(request.credential_ref, who)
        if award_id is None:
            raise NotFound(f"no credential {request.credential_ref!r} was issued here")
        return self._change_award(award_id, request, actor)

    def _change(
        self, repo: Repository, row: models.VcApiCredential, request: StatusRequest, actor: str
    ) -> dict[str, Any]:
        entries = [(e.list_id, e.index) for e in repo.vcapi_status_entries(row.id)]
        entries = self._matching(repo, row.issuer_id, entries, request)
        if request.purpose == MESSAGE:
            if not self.awards.set_status_bit(repo, entries, MESSAGE, request.value):
                raise UsageError("the credential has no message status entry")
            issuer = repo.issuer(row.issuer_id)
            self.runtime.audit(
                repo, actor, "vcapi.message", issuer.organisation_id if issuer else None, row.id,
                status=int(request.value), ref=request.credential_ref,
            )  # fmt: skip
            return _status_json(request, "updated")
        current = row.revoked_at is not None if request.purpose == "revocation" else row.suspended
        if current == request.value:
            return _status_json(request, "unchanged")
        if request.purpose == "revocation" and not request.value:
            raise Conflict("revocation is final: a revoked credential cannot be reinstated")
        if request.purpose == "suspension" and row.revoked_at is not None:
            raise Conflict("the credential is revoked; suspension no longer applies")
        if not self.awards.set_status_bit(repo, entries, request.purpose, request.value):
            raise UsageError(f"the credential has no {request.purpose} status entry")
        if request.purpose == "revocation":
            row.revoked_at = self.runtime.clock.now()
        else:
            row.suspended = bool(request.value)
        issuer = repo.issuer(row.issuer_id)
        self.runtime.audit(
            repo, actor, f"vcapi.{request.purpose}", issuer.organisation_id if issuer else None, row.id,
            status=request.value, ref=request.credential_ref,
        )  # fmt: skip
        return _status_json(request, "updated")

    def _matching(
        self, repo: Repository, issuer_id: int, entries: list[tuple[int, int]], request: StatusRequest
    ) -> list[tuple[int, int]]:
        """The entries the request names (by statusListCredential and statusListIndex), or all of them."""
        if request.list_url is None and request.index is None:
            return entries
        issuer = repo.issuer(issuer_id)
        found = []
        for list_id, index in entries:
            lst = repo.status_list_by_id(list_id)
            url = self.awards.status_list_url(issuer.slug, lst.purpose, lst.sequence) if lst and issuer else None
            if (request.list_url in (None, url)) and (request.index in (None, index)):
                found.append((list_id, index))
        if not found:
            raise UsageError("the credential holds no status entry at that statusListCredential and statusListIndex")
        return found

    def _award_for(self, ref: str, who: Principal | None) -> str | None:
        award_id = self.awards.award_id_from_ref(ref)
        with self.runtime.db.read() as repo:
            award = repo.award(award_id) if award_id else None
            issuer = repo.issuer(award.issuer_id) if award else None
            if award is None or issuer is None or (who is not None and not who.may_see(issuer.organisation_id)):
                return None
            return award.id

    def _change_award(self, award_id: str, request: StatusRequest, actor: str) -> dict[str, Any]:
        with self.runtime.db.read() as repo:
            award = repo.award(award_id)
            assert award is not None
            current = award.revoked_at is not None if request.purpose == "revocation" else award.suspended
        if current == request.value:
            return {"credentialId": request.credential_ref, "credentialStatus": [_status_json(request, "unchanged")]}
        if request.purpose == "revocation":
            if not request.value:
                raise Conflict("revocation is final: a revoked credential cannot be reinstated")
            self.awards.revoke(award_id, "VC-API status update", actor=actor)
        elif request.value:
            self.awards.suspend(award_id, "VC-API status update", actor=actor)
        else:
            self.awards.unsuspend(award_id, "VC-API status update", actor=actor)
        return {"credentialId": request.credential_ref, "credentialStatus": [_status_json(request, "updated")]}

    # -- verifying -----------------------------------------------------------
    def verify_credential(self, body: Any) -> tuple[int, dict[str, Any]]:
        """The HTTP status and VC-API verification result: 200 verified, 400 not, 422 unprocessable."""
        if not isinstance(body, dict) or "verifiableCredential" not in body:
            raise UsageError('send {"verifiableCredential": {...}, "options": {...}}')
        options = _options(body)
        credential = body["verifiableCredential"]
        if not isinstance(credential, dict):
            raise UsageError("verifiableCredential must be a JSON object (a credential sent as a string is refused)")
        report = self.credentials.verifier.verify(unwrap_enveloped(credential), strict=True)
        return credential_result(report, _checks(options))

    def verify_presentation(self, body: Any) -> tuple[int, dict[str, Any]]:
        if not isinstance(body, dict) or not ({"verifiablePresentation", "presentation"} & set(body)):
            raise UsageError('send {"verifiablePresentation": {...}, "options": {"challenge": ..., "domain": ...}}')
        options = _options(body)
        binding = Binding(_text_option(options, "challenge"), _text_option(options, "domain"))
        proved = "verifiablePresentation" in body
        presentation = body["verifiablePresentation" if proved else "presentation"]
        if not isinstance(presentation, dict):
            raise UsageError("the presentation must be a JSON object")
        verifier = self.credentials.verifier
        result = verify_presentation(verifier, presentation, binding, prove=proved, strict=True)
        return presentation_result(result, _checks(options))


# -- request parsing ------------------------------------------------------------
def parse_issue_request(body: Any) -> IssueRequest:
    if not isinstance(body, dict) or not isinstance(body.get("credential"), dict):
        raise UsageError('send {"credential": {...}, "options": {...}} with the credential as a JSON object')
    unknown = sorted(set(body) - {"credential", "options"})
    if unknown:
        raise UsageError(f"unknown request field {unknown[0]!r}")
    options = _options(body)
    extra = sorted(set(options) - ISSUE_OPTIONS)
    if extra:
        raise UsageError(f"unknown issue option {extra[0]!r}; supported: {', '.join(sorted(ISSUE_OPTIONS))}")
    if options.get("type", "DataIntegrityProof") != "DataIntegrityProof":
        raise UsageError(f"unsupported proof type {options.get('type')!r}: only DataIntegrityProof is offered")
    suite = options.get("cryptosuite")
    if suite is not None and suite not in SUITES:
        raise UsageError(f"unsupported cryptosuite {suite!r}; choose {' or '.join(SUITES)}")
    if options.get("mandatoryPointers"):
        raise UsageError("mandatoryPointers (selective disclosure) is not offered by eddsa-rdfc-2022/eddsa-jcs-2022")
    ref = options.get("credentialId")
    if ref is not None and (not isinstance(ref, str) or not ref or len(ref) > 2000):
        raise UsageError("options.credentialId must be a non-empty string of at most 2,000 characters")
    credential = body["credential"]
    problem = _credential_problem(credential)
    if problem:
        raise UsageError(problem)
    purposes = _status_purposes(options.get("credentialStatus"))
    if purposes and "credentialStatus" in credential:
        raise UsageError("the credential already has credentialStatus; do not also ask for options.credentialStatus")
    return IssueRequest(credential, suite, purposes, ref)


def _credential_problem(credential: dict[str, Any]) -> str:
    if "proof" in credential:
        return "the credential already has a proof: send an unsecured credential"
    failed = errors(credential_violations(credential))
    if failed:
        return summary(failed)
    if not isinstance(credential.get("@context"), list):
        return "@context must be an array starting with the VC context"
    return ""


def _status_purposes(value: Any) -> tuple[StatusAsk, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    asks: list[StatusAsk] = []
    for item in items:
        if not isinstance(item, dict) or item.get("type") not in STATUS_TYPES:
            raise UsageError(
                'options.credentialStatus must be {"type": "BitstringStatusListEntry", "statusPurpose": ...}'
            )
        extra = sorted(set(item) - STATUS_ASK_FIELDS)
        if extra:
            raise UsageError(f"options.credentialStatus.{extra[0]} is chosen by the issuer, not the caller")
        purpose = item.get("statusPurpose")
        if purpose not in (*PURPOSES, MESSAGE):
            raise UsageError(f"statusPurpose {purpose!r} must be one of {', '.join((*PURPOSES, MESSAGE))}")
        if purpose in [ask.purpose for ask in asks]:
            raise UsageError(f"statusPurpose {purpose!r} is asked for twice")
        asks.append(_status_ask(item, purpose))
    return tuple(asks)


def _status_ask(item: dict[str, Any], purpose: str) -> StatusAsk:
    """statusSize, statusMessage and statusReference as Bitstring Status List 1.0 defines them."""
    extra: dict[str, Any] = {k: item[k] for k in ("statusSize", "statusMessage", "statusReference") if k in item}
    if purpose != MESSAGE and extra.get("statusSize", 1) != 1:
        raise UsageError(f"a {purpose} entry is one bit wide: ask for statusPurpose 'message' for several states")
    probe: dict[str, Any] = {"type": "BitstringStatusListEntry", "statusPurpose": purpose, "statusListIndex": "0",
             "statusListCredential": "https://status.invalid/list", **extra}  # fmt: skip
    problems = list(status_entry_violations(probe, "$.options.credentialStatus"))
    if problems:
        raise UsageError(summary(problems))
    size = extra.get("statusSize", 1)
    return StatusAsk(purpose, size if isinstance(size, int) else 1, tuple(extra.items()))


def parse_status_request(body: Any) -> StatusRequest:
    if not isinstance(body, dict):
        raise UsageError('send {"credentialId": ..., "credentialStatus": {...}, "status": true}')
    unknown = sorted(set(body) - STATUS_FIELDS)
    if unknown:
        raise UsageError(f"unknown request field {unknown[0]!r}")
    ref, entry, value = body.get("credentialId"), body.get("credentialStatus"), body.get("status")
    if not isinstance(ref, str) or not ref or len(ref) > 2000:
        raise UsageError("credentialId must be a non-empty string")
    if isinstance(entry, list) and len(entry) == 1:
        entry = entry[0]
    if not isinstance(entry, dict) or entry.get("type") not in STATUS_TYPES:
        raise UsageError('credentialStatus must be {"type": "BitstringStatusListEntry", "statusPurpose": ...}')
    purpose = entry.get("statusPurpose")
    if purpose not in (*PURPOSES, MESSAGE):
        raise UsageError(f"statusPurpose {purpose!r} must be one of {', '.join((*PURPOSES, MESSAGE))}")
    if purpose == MESSAGE:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 256:
            raise UsageError("the status of a message entry is the value to set: an integer from 0")
    elif not isinstance(value, bool):
        raise UsageError("status must be true (set) or false (clear)")
    return StatusRequest(ref, entry["statusPurpose"], value, _list_url(entry), _index(entry))


def _list_url(entry: dict[str, Any]) -> str | None:
    url = entry.get("statusListCredential")
    if url is not None and not isinstance(url, str):
        raise UsageError("statusListCredential must be a URL string")
    return url


def _index(entry: dict[str, Any]) -> int | None:
    raw = entry.get("statusListIndex")
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 9:
        raise UsageError("statusListIndex must be a base-10 integer string")
    return int(raw)


def _options(body: dict[str, Any]) -> dict[str, Any]:
    options = body.get("options", {})
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise UsageError("options must be a JSON object")
    return options


def _checks(options: dict[str, Any]) -> list[str] | None:
    checks = options.get("checks")
    if checks is None:
        return None
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        raise UsageError("options.checks must be an array of check names")
    return checks


def _text_option(options: dict[str, Any], name: str) -> str | None:
    value = options.get(name)
    if value is not None and not isinstance(value, str):
        raise UsageError(f"options.{name} must be a string")
    return value


def _prepared(request: IssueRequest, now: str) -> dict[str, Any]:
    """The credential to sign: VC 1.1 inputs get the data-integrity context (and an issuanceDate)."""
    credential = dict(request.credential)
    contexts = list(credential["@context"])
    if contexts[0] == VC1:
        if request.purposes and STATUS_CONTEXT not in contexts:
            contexts.append(STATUS_CONTEXT)
        if DI_CONTEXT not in contexts:
            contexts.append(DI_CONTEXT)
        credential["@context"] = contexts
        credential.setdefault("issuanceDate", now)
    return credential


def _status_json(request: StatusRequest, outcome: str) -> dict[str, Any]:
    return {"statusPurpose": request.purpose, "status": request.value, "outcome": outcome}
