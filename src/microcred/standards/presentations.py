"""Verifying a Verifiable Presentation: its own proof (purpose authentication, challenge and
domain), the holder's key, and every credential it carries through the credential pipeline.

Like credential verification this never raises: every outcome is a named check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from microcred.standards.di import ProofOutcome
from microcred.standards.dids import authorizes
from microcred.standards.model import errors, presentation_violations, summary
from microcred.standards.vc import as_list, unwrap_enveloped
from microcred.standards.verify import FAILED, PASSED, SKIPPED, WARNING, Report, Verifier, guarded

MAX_CREDENTIALS = 100


@dataclass(slots=True)
class PresentationReport:
    presentation: Report = field(default_factory=Report)
    credentials: list[Report] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return self.presentation.verified and all(r.verified for r in self.credentials)


@dataclass(frozen=True, slots=True)
class Binding:
    """What the verifier asked the presenter to bind the proof to."""

    challenge: str | None = None
    domain: str | None = None


def verify_presentation(
    verifier: Verifier,
    presentation: Any,
    binding: Binding,
    *,
    at: datetime | None = None,
    prove: bool = True,
    strict: bool = False,
) -> PresentationReport:
    """`prove=False` verifies only the credentials of a presentation sent without a proof;
    `strict` is the credential pipeline's strict status mode, for every credential inside."""
    result = PresentationReport()
    report = result.presentation
    report.strict = strict
    report.format = "json-ld"
    guarded(report, lambda: _run(verifier, result, presentation, binding, at or verifier.clock.now(), prove))
    return result


def presentation_problem(presentation: Any) -> str:
    failed = errors(presentation_violations(presentation))
    if failed:
        return summary(failed)
    if len(as_list(presentation.get("verifiableCredential"))) > MAX_CREDENTIALS:
        return f"the presentation carries more than {MAX_CREDENTIALS} credentials"
    return ""


def _run(verifier: Verifier, result: PresentationReport, vp: Any, binding: Binding, at: datetime, prove: bool) -> None:
    report = result.presentation
    problem = presentation_problem(vp)
    if problem:
        report.add("presentation", FAILED, problem)
        return
    report.add("parse", PASSED, "the presentation was read within the size, depth and duplicate-key limits")
    report.add("presentation", PASSED, "a Verifiable Presentation")
    doc_hash = verifier.check_expansion(report, vp) if verifier.check_contexts(report, vp) else None
    if doc_hash is None:
        report.add("proof", SKIPPED, "not checked: the presentation could not be processed")
    elif not prove:
        report.add("proof", SKIPPED, "a presentation sent without a proof: only its credentials are verified")
    elif not vp.get("proof"):
        report.add("proof", FAILED, "the presentation has no proof")
    else:
        outcomes = verifier.integrity.verify(vp, verifier.resolver, "authentication", rdf_document_hash=doc_hash)
        bad = [o.message for o in outcomes if not o.ok]
        if bad:
            report.add("proof", FAILED, "; ".join(bad))
        else:
            report.add("proof", PASSED, f"{len(outcomes)} presentation proof(s) verified")
            _bindings(report, outcomes, binding)
            _holder(report, vp, outcomes)
    _credentials(verifier, result, vp, at)


def _bindings(report: Report, outcomes: list[ProofOutcome], binding: Binding) -> None:
    for code, wanted in (("challenge", binding.challenge), ("domain", binding.domain)):
        found = [o.proof.get(code) for o in outcomes]
        if wanted is None:
            report.add(code, SKIPPED, f"the verifier asked for no {code}")
        elif all(wanted == value or (isinstance(value, list) and wanted in value) for value in found):
            report.add(code, PASSED, f"the proof carries the expected {code}")
        else:
            report.add(code, FAILED, f"the proof's {code} {found[0]!r} is not the expected {wanted!r}")


def _holder(report: Report, vp: dict[str, Any], outcomes: list[ProofOutcome]) -> None:
    holder = _holder_id(vp.get("holder"))
    for outcome in outcomes:
        method = outcome.method
        assert method is not None
        if holder is not None and method.controller != holder:
            report.add(
                "holder_binding", FAILED, f"the key {method.id} is controlled by {method.controller!r}, not the holder"
            )
            return
        if not authorizes(outcome.controller_document, method.id, "authentication"):
            report.add("holder_binding", FAILED, f"{method.id} is not an authentication key of its controller")
            return
    if holder is None:
        report.add("holder_binding", WARNING, "the presentation names no holder: the signer is not tied to anyone")
    else:
        report.add("holder_binding", PASSED, f"signed by the holder {holder}")


def _credentials(verifier: Verifier, result: PresentationReport, vp: dict[str, Any], at: datetime) -> None:
    items = as_list(vp.get("verifiableCredential"))
    if not items:
        result.presentation.add("credentials", SKIPPED, "the presentation carries no credentials")
        return
    strict = result.presentation.strict
    result.credentials = [verifier.verify(unwrap_enveloped(item), at=at, strict=strict) for item in items]
    failed = [i for i, r in enumerate(result.credentials) if not r.verified]
    if failed:
        result.presentation.add(
            "credentials", FAILED, f"{len(failed)} of {len(items)} credential(s) do not verify (positions {failed})"
        )
    else:
        result.presentation.add("credentials", PASSED, f"{len(items)} credential(s) verified")


def _holder_id(holder: Any) -> str | None:
    if isinstance(holder, dict):
        holder = holder.get("id")
    return holder if isinstance(holder, str) and holder else None
