"""Degree credit: a university's recognition rules, learners' requests, staff decisions, credit credentials.

A rule maps a microcredential, a pathway's roll-up, or another issuer's achievement to
credit in one of the university's programmes (programme, course code, credits, grade
policy). A learner submits credentials from their wallet; each is verified on
submission and must match the rule, or nothing is recorded. Staff approve or reject
with a note; approval issues a credit credential (an award of the rule's own catalogue
entry) that cites the submitted credentials by digest.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from typing import Any

from microcred.domain.microcredentials import MicrocredentialDefinition
from microcred.errors import ForbiddenError, InputError
from microcred.services.awarding import AwardOutcome, AwardRequest, AwardService, normalize_email
from microcred.services.credentials import CredentialService
from microcred.services.issuing import CatalogService, Conflict, NotFound, Runtime
from microcred.services.pathways import PathwayService
from microcred.standards import safejson
from microcred.standards.rollup import credential_digest
from microcred.standards.vc import issuer_id
from microcred.storage import models

GRADE_POLICIES = ("pass-fail", "transfer", "none")


@dataclass(frozen=True, slots=True)
class RuleIn:
    programme: str
    course_code: str
    credits: float
    grade_policy: str
    target: dict[str, Any]  # {"microcredential": id} | {"pathway": id} | {"external": {"achievement", "issuer"}}


@dataclass(frozen=True, slots=True)
class CreditTotal:
    programme: str
    university: str
    credits: float
    courses: list[str]


class RecognitionService:
    def __init__(
        self,
        runtime: Runtime,
        awards: AwardService,
        catalog: CatalogService,
        pathways: PathwayService,
        credentials: CredentialService,
    ) -> None:
        self.runtime = runtime
        self.awards = awards
        self.catalog = catalog
        self.pathways = pathways
        self.credentials = credentials

    # -- rules -------------------------------------------------------------------------------
    def add_rule(self, issuer_slug: str, rule: RuleIn, actor: str = "cli") -> models.RecognitionRule:
        target = self._check_rule(rule)
        definition = MicrocredentialDefinition(
            name=f"{rule.course_code}: credit in {rule.programme}"[:300],
            description=f"{rule.credits:g} credits in {rule.programme} ({rule.course_code}), recognised from "
            f"prior learning: {self._target_name(target)}.",
            achievement_type="Course",
            ects=rule.credits,
            integration_stackability=f"Counts toward {rule.programme}.",
        )
        entry = self.catalog.create(
            issuer_slug, definition, actor=actor, publish=True,
            exemption="a credit credential for recognised prior learning (its elements are the recognised part's)",
        )  # fmt: skip
        with self.runtime.db.transaction() as repo:
            issuer = repo.issuer_by_slug(issuer_slug)
            assert issuer is not None
            row = repo.add(
                models.RecognitionRule(
                    issuer_id=issuer.id, microcredential_id=entry.id, programme=rule.programme.strip(),
                    course_code=rule.course_code.strip(), credits=rule.credits, grade_policy=rule.grade_policy,
                    target=json.dumps(target), created_at=self.runtime.clock.now(),
                )
            )  # fmt: skip
            repo.flush()
            self.runtime.audit(repo, actor, "recognition.rule", issuer.organisation_id, str(row.id),
                               programme=rule.programme, course=rule.course_code)  # fmt: skip
            return row

    def _check_rule(self, rule: RuleIn) -> dict[str, Any]:
        if not rule.programme.strip() or len(rule.programme) > 300:
            raise InputError("programme must be 1 to 300 characters")
        if not rule.course_code.strip() or len(rule.course_code) > 60:
            raise InputError("course code must be 1 to 60 characters")
        if not 0 < rule.credits <= 400:
            raise InputError("credits must be more than 0 and at most 400")
        if rule.grade_policy not in GRADE_POLICIES:
            raise InputError(f"grade policy must be one of {', '.join(GRADE_POLICIES)}")
        target = rule.target
        if set(target) == {"microcredential"}:
            self.catalog.get(str(target["microcredential"]))
        elif set(target) == {"pathway"}:
            self.pathways.row(str(target["pathway"]))
        elif set(target) == {"external"} and isinstance(target["external"], dict):
            ext = target["external"]
            if not isinstance(ext.get("achievement"), str) or not str(ext.get("issuer", "")).startswith(
                ("did:", "https://")
            ):
                raise InputError("an external target needs an achievement id and an issuer DID")
        else:
            raise InputError('the target must be {"microcredential": id}, {"pathway": id} or {"external": {...}}')
        return target

    def _target_name(self, target: dict[str, Any]) -> str:
        if "microcredential" in target:
            return self.catalog.get(target["microcredential"]).definition.name
        if "pathway" in target:
            return self.pathways.row(target["pathway"]).name
        return str(target["external"].get("name") or target["external"]["achievement"])

    def rules(self, organisation_id: int | None = None) -> list[models.RecognitionRule]:
        with self.runtime.db.read() as repo:
            ids = (
                None
                if organisation_id is None
                else [i.id for i in repo.issuers() if i.organisation_id == organisation_id]
            )
            return repo.recognition_rules(ids)

    # -- requests ---------------------------------------------------------------------------
    def submit(self, email: str, rule_id: int, credential_ids: list[str]) -> models.RecognitionRequest:
        """Verify each submitted credential now; record the request only if one matches the rule and all verify."""
        email = normalize_email(email)
        rule = self._rule(rule_id)
        if not credential_ids:
            raise InputError("choose at least one credential to submit")
        target = json.loads(rule.target)
        evidence = [self._check_submitted(email, ref, target) for ref in dict.fromkeys(credential_ids)]
        if not any(e["matches"] for e in evidence):
            raise InputError(f"none of the submitted credentials is what {rule.course_code} recognises")
        with self.runtime.db.transaction() as repo:
            open_ = [r for r in repo.recognition_requests(rule_ids=[rule_id], email=email) if r.state != "rejected"]
            if open_:
                raise Conflict(f"you already asked for {rule.course_code} ({open_[0].state})")
            row = repo.add(
                models.RecognitionRequest(
                    id=str(uuid.uuid4()), rule_id=rule_id, recipient_email=email, state="pending",
                    evidence=json.dumps(evidence), note=None, created_at=self.runtime.clock.now(),
                )
            )  # fmt: skip
            issuer = repo.issuer(rule.issuer_id)
            self.runtime.audit(repo, email, "recognition.request", issuer.organisation_id if issuer else None, row.id)
            return row

    def _rule(self, rule_id: int) -> models.RecognitionRule:
        with self.runtime.db.read() as repo:
            rule = repo.recognition_rule(rule_id)
        if rule is None:
            raise NotFound(f"no recognition rule {rule_id}")
        return rule

    def _check_submitted(self, email: str, ref: str, target: dict[str, Any]) -> dict[str, Any]:
        signed = self._held(email, ref)
        report = self.credentials.verify(signed)
        if not report.verified:
            reasons = "; ".join(c.message for c in report.checks if c.status == "failed")
            raise InputError(f"{ref} does not verify, so it cannot be submitted: {reasons}")
        credential = report.credential or {}
        achievement = (credential.get("credentialSubject") or {}).get("achievement") or {}
        result = (credential.get("credentialSubject") or {}).get("result") or []
        return {
            "id": ref, "issuer": issuer_id(credential), "achievement": achievement.get("id"),
            "name": achievement.get("name"), "digestMultibase": credential_digest(signed),
            "matches": self._matches(achievement.get("id"), issuer_id(credential), target),
            "grade": next((r.get("value") for r in result if isinstance(r, dict) and r.get("value")), None),
            "verified_at": self.runtime.clock.now().isoformat(),
        }  # fmt: skip

    def _held(self, email: str, ref: str) -> dict[str, Any] | str:
        """The learner's own copy of a credential: an award to them, or an import in their wallet."""
        award_id = self.awards.award_id_from_ref(ref)
        with self.runtime.db.read() as repo:
            award = repo.award(award_id) if award_id else None
            if award is not None and award.recipient_email == email:
                return safejson.parse(award.credential.encode())  # type: ignore[no-any-return]
            user = repo.user_by_email(email)
            item = repo.wallet_item_by_credential(ref) if user is not None else None
            if user is not None and item is not None and item.user_id == user.id and item.format != "ob2":
                return item.content if item.format == "jwt" else safejson.parse(item.content.encode())
        raise InputError(f"{ref} is not a credential in your wallet")

    def _matches(self, achievement: Any, issuer: Any, target: dict[str, Any]) -> bool:
        if "external" in target:
            return bool(achievement == target["external"]["achievement"] and issuer == target["external"]["issuer"])
        mc_id = target.get("microcredential") or self.pathways.row(target["pathway"]).microcredential_id
        prefix = f"{self.runtime.base_url}/microcredentials/{mc_id}/v"
        return isinstance(achievement, str) and achievement.startswith(prefix)

    def decide(
        self, request_id: str, approve: bool, actor: str, note: str | None, organisation_id: int | None
    ) -> models.RecognitionRequest:
        """Approve (issuing the credit credential) or reject; staff only decide their own university's requests."""
        with self.runtime.db.read() as repo:
            request = repo.recognition_request(request_id)
            rule = repo.recognition_rule(request.rule_id) if request else None
            issuer = repo.issuer(rule.issuer_id) if rule else None
        if request is None or rule is None or issuer is None:
            raise NotFound(f"no recognition request {request_id!r}")
        if organisation_id is not None and issuer.organisation_id != organisation_id:
            raise ForbiddenError("this request is for another university")
        if request.state != "pending":
            raise Conflict(f"this request is already {request.state}")
        award_id = self._issue_credit(request, rule, actor) if approve else None
        with self.runtime.db.transaction() as repo:
            locked = repo.recognition_request(request_id, lock=True)
            assert locked is not None
            locked.state = "approved" if approve else "rejected"
            locked.award_id, locked.note = award_id, (note or None)
            locked.decided_at, locked.decided_by = self.runtime.clock.now(), actor
            self.runtime.audit(
                repo, actor, f"recognition.{locked.state}", issuer.organisation_id, request_id, note=note
            )
            return locked

    def _issue_credit(self, request: models.RecognitionRequest, rule: models.RecognitionRule, actor: str) -> str:
        evidence = [e for e in json.loads(request.evidence) if e["matches"]]
        grade = "Pass" if rule.grade_policy == "pass-fail" else (
            evidence[0].get("grade") if rule.grade_policy == "transfer" else None
        )  # fmt: skip
        with self.runtime.db.transaction() as repo:
            prepared = self.awards.prepare(
                repo,
                AwardRequest(
                    rule.microcredential_id,
                    request.recipient_email,
                    external_id=f"recognition:{request.id}",
                    grade=grade,
                ),
            )
            if isinstance(prepared, AwardOutcome):
                return prepared.id
            credential = dict(prepared.credential)
            credential["credentialSubject"] = {**credential["credentialSubject"], "creditsEarned": rule.credits}
            credential["evidence"] = [
                {"id": e["id"], "type": ["Evidence"], "name": e.get("name") or "submitted credential",
                 "description": f"Recognised for {rule.course_code} in {rule.programme}"}
                for e in evidence
            ]  # fmt: skip
            credential["relatedResource"] = [{"id": e["id"], "digestMultibase": e["digestMultibase"]} for e in evidence]
            pending = replace(prepared, credential=credential)
            self.awards.sign_and_store(repo, pending, actor)
        return pending.award_id

    def inbox(self, organisation_id: int | None, state: str | None = "pending") -> list[tuple[Any, Any]]:
        """(request, rule) pairs for a university's staff, newest first."""
        with self.runtime.db.read() as repo:
            ids = (
                None
                if organisation_id is None
                else [i.id for i in repo.issuers() if i.organisation_id == organisation_id]
            )
            rules = {r.id: r for r in repo.recognition_rules(ids)}
            requests = repo.recognition_requests(rule_ids=list(rules))
        return [(r, rules[r.rule_id]) for r in requests if state is None or r.state == state]

    def learner(self, email: str) -> tuple[list[tuple[Any, Any]], list[CreditTotal]]:
        """A learner's requests and the credit they earned, per programme."""
        email = normalize_email(email)
        with self.runtime.db.read() as repo:
            requests = repo.recognition_requests(email=email)
            rules = {r.id: r for r in repo.recognition_rules()}
            names = {i.id: i.name for i in repo.issuers()}
        totals: dict[tuple[str, int], CreditTotal] = {}
        for request in requests:
            rule = rules[request.rule_id]
            if request.state != "approved":
                continue
            key = (rule.programme, rule.issuer_id)
            found = totals.setdefault(key, CreditTotal(rule.programme, names.get(rule.issuer_id, ""), 0.0, []))
            totals[key] = CreditTotal(found.programme, found.university, found.credits + rule.credits,
                                      [*found.courses, rule.course_code])  # fmt: skip
        return [(r, rules[r.rule_id]) for r in requests], list(totals.values())
