"""REST API for webhook subscriptions, their deliveries and replays (organisation admins)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Query, Response
from pydantic import BaseModel, Field

from microcred import bootstrap
from microcred.api.auth import Auth, require
from microcred.errors import InputError
from microcred.services.accounts import Principal
from microcred.services.interop.webhooks import EVENTS, TEST_EVENT, attempt_json, delivery_json, subscription_json
from microcred.services.issuing import NotFound

ADMINS = ("issuer_admin",)


class SubscriptionIn(BaseModel):
    url: str = Field(max_length=2000)
    events: list[str] | None = Field(default=None, max_length=len(EVENTS))
    description: str | None = Field(default=None, max_length=300)
    organisation: str | None = Field(default=None, max_length=64, description="platform admins: whose")


class SubscriptionPatch(BaseModel):
    url: str | None = Field(default=None, max_length=2000)
    events: list[str] | None = Field(default=None, max_length=len(EVENTS))
    enabled: bool | None = None
    description: str | None = Field(default=None, max_length=300)


def _scope(who: Principal) -> int | None:
    """The organisation whose webhooks this principal manages (None: every one, platform admins)."""
    require(who, *ADMINS)
    return None if who.is_platform_admin else who.organisation_id


def _organisation_for(platform: bootstrap.Platform, who: Principal, slug: str | None) -> int:
    if not who.is_platform_admin:
        if who.organisation_id is None:
            raise InputError("this account belongs to no organisation")
        return who.organisation_id
    if not slug:
        raise InputError("name the organisation the webhook is for (organisation)")
    with platform.runtime.db.read() as repo:
        org = repo.organisation_by_slug(slug)
    if org is None:
        raise NotFound(f"no organisation {slug!r}")
    return org.id


def install(app: FastAPI, platform: bootstrap.Platform) -> None:
    service = platform.webhooks

    @app.get("/api/v1/webhook-events", tags=["webhooks"])
    def event_types() -> dict[str, Any]:
        return {"events": list(EVENTS), "test": TEST_EVENT}

    @app.get("/api/v1/webhooks", tags=["webhooks"])
    def list_subscriptions(who: Auth) -> list[dict[str, Any]]:
        return [subscription_json(r) for r in service.subscriptions(_scope(who))]

    @app.post("/api/v1/webhooks", status_code=201, tags=["webhooks"])
    def subscribe(body: SubscriptionIn, who: Auth) -> dict[str, Any]:
        """Subscribe a URL; the answer holds the signing secret, shown this once."""
        _scope(who)
        organisation_id = _organisation_for(platform, who, body.organisation)
        new = service.subscribe(organisation_id, body.url, body.events, body.description, who.email)
        return {**subscription_json(new.subscription), "secret": new.secret}

    @app.get("/api/v1/webhooks/{subscription_id}", tags=["webhooks"])
    def get_subscription(subscription_id: str, who: Auth) -> dict[str, Any]:
        return subscription_json(service.subscription(subscription_id, _scope(who)))

    @app.patch("/api/v1/webhooks/{subscription_id}", tags=["webhooks"])
    def update_subscription(subscription_id: str, body: SubscriptionPatch, who: Auth) -> dict[str, Any]:
        row = service.update(subscription_id, _scope(who), who.email, url=body.url, events=body.events,
                             enabled=body.enabled, description=body.description)  # fmt: skip
        return subscription_json(row)

    @app.delete("/api/v1/webhooks/{subscription_id}", status_code=204, tags=["webhooks"])
    def delete_subscription(subscription_id: str, who: Auth) -> Response:
        service.delete(subscription_id, _scope(who), who.email)
        return Response(status_code=204)

    @app.post("/api/v1/webhooks/{subscription_id}/secret", tags=["webhooks"])
    def rotate_secret(subscription_id: str, who: Auth) -> dict[str, Any]:
        """A new signing secret, shown this once; the old one stops signing at once."""
        return {"secret": service.rotate_secret(subscription_id, _scope(who), who.email)}

    @app.post("/api/v1/webhooks/{subscription_id}/test", tags=["webhooks"])
    def ping(subscription_id: str, who: Auth) -> dict[str, Any]:
        return attempt_json(service.ping(subscription_id, _scope(who), who.email))

    @app.get("/api/v1/webhooks/{subscription_id}/deliveries", tags=["webhooks"])
    def deliveries(
        subscription_id: str, who: Auth, state: str | None = None, page: int = Query(default=1, ge=1, le=100_000)
    ) -> dict[str, Any]:
        rows, total = service.deliveries(subscription_id, _scope(who), state=state, page=page)
        return {"items": [delivery_json(r) for r in rows], "total": total, "page": page}

    @app.get("/api/v1/webhook-deliveries/{delivery_id}", tags=["webhooks"])
    def delivery(delivery_id: str, who: Auth) -> dict[str, Any]:
        row, attempts = service.delivery(delivery_id, _scope(who))
        return {**delivery_json(row), "body": json.loads(row.body), "attemptLog": [attempt_json(a) for a in attempts]}

    @app.post("/api/v1/webhook-deliveries/{delivery_id}/replay", tags=["webhooks"])
    def replay(delivery_id: str, who: Auth) -> dict[str, Any]:
        return attempt_json(service.replay(delivery_id, _scope(who), who.email))
