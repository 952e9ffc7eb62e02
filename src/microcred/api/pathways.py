"""REST API for pathways, roll-up approvals, CLR export and degree-credit recognition."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from microcred import bootstrap
from microcred.api.auth import Auth, issuer_in_scope, require
from microcred.errors import ForbiddenError
from microcred.services.accounts import Principal
from microcred.services.issuing import NotFound
from microcred.services.pathway_views import progress_json
from microcred.services.recognition import RuleIn
from microcred.storage.models import INTEGER_MAX

STAFF = ("issuer_admin", "issuer_staff")


class PathwayIn(BaseModel):
    issuer: str
    definition: dict[str, Any]


class DecisionIn(BaseModel):
    note: str | None = Field(default=None, max_length=2000)


class RuleBody(BaseModel):
    issuer: str
    programme: str
    course_code: str
    credits: float
    grade_policy: str = "pass-fail"
    target: dict[str, Any]


class RequestIn(BaseModel):
    rule: int = Field(ge=1, le=INTEGER_MAX)
    credentials: list[str] = Field(min_length=1, max_length=50)


def install(app: FastAPI, platform: bootstrap.Platform) -> None:
    _pathway_routes(app, platform)
    _recognition_routes(app, platform)


def _pathway_in_scope(platform: bootstrap.Platform, who: Principal, pathway_id: str) -> Any:
    row = platform.pathways.row(pathway_id)
    with platform.runtime.db.read() as repo:
        issuer = repo.issuer(row.issuer_id)
    if issuer is None or not who.may_see(issuer.organisation_id):
        raise NotFound(f"no pathway {pathway_id!r}")
    return row


def _pathway_json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "version": row.version, "microcredential": row.microcredential_id,
            "definition": json.loads(row.definition)}  # fmt: skip


def _pathway_routes(app: FastAPI, platform: bootstrap.Platform) -> None:
    @app.post("/api/v1/pathways", status_code=201, tags=["pathways"])
    def create_pathway(body: PathwayIn, who: Auth) -> dict[str, Any]:
        require(who, *STAFF)
        issuer_in_scope(platform, who, body.issuer)
        return _pathway_json(platform.pathways.create(body.issuer, body.definition, actor=who.email))

    @app.get("/api/v1/pathways", tags=["pathways"])
    def list_pathways(who: Auth) -> list[dict[str, Any]]:
        rows = platform.pathways.rows(None if who.is_platform_admin else who.organisation_id)
        return [_pathway_json(r) for r in rows] if who.role in (*STAFF, "platform_admin") else [
            {"id": r.id, "name": r.name} for r in platform.pathways.rows()
        ]  # fmt: skip

    @app.get("/api/v1/pathways/{pathway_id}", tags=["pathways"])
    def get_pathway(pathway_id: str, who: Auth) -> dict[str, Any]:
        return _pathway_json(_pathway_in_scope(platform, who, pathway_id))

    @app.put("/api/v1/pathways/{pathway_id}", tags=["pathways"])
    def update_pathway(pathway_id: str, body: dict[str, Any], who: Auth) -> dict[str, Any]:
        require(who, *STAFF)
        _pathway_in_scope(platform, who, pathway_id)
        return _pathway_json(platform.pathways.update(pathway_id, body, actor=who.email))

    @app.get("/api/v1/pathways/{pathway_id}/completions", tags=["pathways"])
    def completions(pathway_id: str, who: Auth, state: str | None = None) -> list[dict[str, Any]]:
        require(who, *STAFF)
        _pathway_in_scope(platform, who, pathway_id)
        with platform.runtime.db.read() as repo:
            rows = repo.completions(pathway_ids=[pathway_id], state=state)
        return [{"id": c.id, "email": c.recipient_email, "state": c.state, "award": c.award_id,
                 "flagged": c.flagged, "parts": json.loads(c.parts)} for c in rows]  # fmt: skip

    for approve in (True, False):
        _decision_route(app, platform, approve)

    @app.get("/api/v1/me/pathways", tags=["learners"])
    def my_pathways(who: Auth) -> list[dict[str, Any]]:
        return [progress_json(item) for item in platform.pathways.progress(who.email)]

    @app.get("/api/v1/me/clr", tags=["learners"])
    def my_clr(who: Auth, credential: list[str] | None = None) -> dict[str, Any]:
        """My record as a signed CLR 2.0 ClrCredential (all credentials, or the ones named); credentials that
        do not verify now (revoked, suspended, expired) are left out."""
        return platform.clr.export(who.email, credential)


def _decision_route(app: FastAPI, platform: bootstrap.Platform, approve: bool) -> None:
    def decide(completion_id: str, body: DecisionIn, who: Auth) -> dict[str, Any]:
        require(who, *STAFF)
        with platform.runtime.db.read() as repo:
            completion = repo.completion_by_id(completion_id)
        if completion is None:
            raise NotFound(f"no pending roll-up {completion_id!r}")
        _pathway_in_scope(platform, who, completion.pathway_id)
        done = platform.pathways.decide(completion_id, approve, who.email, body.note)
        return {"id": done.id, "state": done.state, "award": done.award_id}

    action = "approve" if approve else "reject"
    app.post(f"/api/v1/pathway-completions/{{completion_id}}/{action}", tags=["pathways"], name=f"{action}_roll_up")(
        decide
    )


def _recognition_routes(app: FastAPI, platform: bootstrap.Platform) -> None:
    service = platform.recognition

    @app.post("/api/v1/recognition/rules", status_code=201, tags=["recognition"])
    def add_rule(body: RuleBody, who: Auth) -> dict[str, Any]:
        require(who, *STAFF)
        issuer_in_scope(platform, who, body.issuer)
        rule = service.add_rule(body.issuer, RuleIn(body.programme, body.course_code, body.credits, body.grade_policy,
                                                    body.target), actor=who.email)  # fmt: skip
        return _rule_json(rule)

    @app.get("/api/v1/recognition/rules", tags=["recognition"])
    def rules(who: Auth) -> list[dict[str, Any]]:
        return [_rule_json(r) for r in service.rules()]  # learners choose among every university's rules

    @app.post("/api/v1/me/recognition-requests", status_code=201, tags=["learners"])
    def submit(body: RequestIn, who: Auth) -> dict[str, Any]:
        return _request_json(service.submit(who.email, body.rule, body.credentials))

    @app.get("/api/v1/me/recognition-requests", tags=["learners"])
    def mine(who: Auth) -> dict[str, Any]:
        requests, totals = service.learner(who.email)
        return {
            "requests": [_request_json(r) for r, _rule in requests],
            "credit": [
                {"programme": t.programme, "university": t.university, "credits": t.credits, "courses": t.courses}
                for t in totals
            ],
        }

    @app.get("/api/v1/recognition/requests", tags=["recognition"])
    def inbox(who: Auth, state: str | None = "pending") -> list[dict[str, Any]]:
        require(who, *STAFF)
        org = None if who.is_platform_admin else who.organisation_id
        return [_request_json(r) for r, _rule in service.inbox(org, state)]

    for approve in (True, False):
        _request_decision_route(app, platform, approve)


def _request_decision_route(app: FastAPI, platform: bootstrap.Platform, approve: bool) -> None:
    def decide(request_id: str, body: DecisionIn, who: Auth) -> dict[str, Any]:
        require(who, *STAFF)
        if not who.is_platform_admin and who.organisation_id is None:
            raise ForbiddenError("only a university's staff decide its requests")
        org = None if who.is_platform_admin else who.organisation_id
        return _request_json(platform.recognition.decide(request_id, approve, who.email, body.note, org))

    action = "approve" if approve else "reject"
    app.post(f"/api/v1/recognition/requests/{{request_id}}/{action}", tags=["recognition"],
             name=f"{action}_recognition")(decide)  # fmt: skip


def _rule_json(rule: Any) -> dict[str, Any]:
    return {"id": rule.id, "programme": rule.programme, "course_code": rule.course_code, "credits": rule.credits,
            "grade_policy": rule.grade_policy, "target": json.loads(rule.target)}  # fmt: skip


def _request_json(request: Any) -> dict[str, Any]:
    return {"id": request.id, "rule": request.rule_id, "email": request.recipient_email, "state": request.state,
            "note": request.note, "award": request.award_id, "evidence": json.loads(request.evidence)}  # fmt: skip
