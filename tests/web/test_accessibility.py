"""An axe-core scan of every main page (no serious or critical violation) and a screenshot of each."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from microcred.services.awarding import AwardRequest
from tests.web.conftest import PASSWORD, Live, screenshot, sign_in

pytestmark = pytest.mark.enable_socket
_axe = Axe()


def _scan(page: Any, name: str) -> list[str]:
    screenshot(page, name)
    results = _axe.run(page)
    assert results.response["passes"], f"axe checked nothing on {name}"
    return [
        f"{name}: {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_main_pages_have_no_serious_accessibility_violations(new_page: Any, live: Live) -> None:
    platform = live.platform
    mc_id = platform.catalog.get(next(iter(_catalogue(live)))).id
    outcome = platform.awards.award(AwardRequest(mc_id, "axe.learner@example.org", "Axe Learner"))
    platform.accounts.create_user("axe.learner@example.org", PASSWORD, "learner", name="Axe Learner")
    pathway = platform.pathways.create("tu-example", {"name": "Axe Certificate", "description": "One module",
                                                      "requirements": {"all_of": [{"microcredential": mc_id}]}})  # fmt: skip
    admin = platform.accounts.principal_of("admin@tu.example")
    analyst = next(o for o in platform.taxonomy.taxonomy.occupations if o.label == "data analyst")
    role = platform.roles.create(admin, "tu-example", "Axe analyst", platform.roles.from_occupation(analyst.uri))
    platform.skills.share("axe.learner@example.org", "tu-example", True)
    problems: list[str] = []
    visitor = new_page()
    for path, name in (
        ("/", "home"),
        ("/signin", "signin"),
        ("/signup", "signup"),
        ("/reset", "reset"),
        ("/verify", "verify"),
        ("/catalogue?text=python", "catalogue"),
        (f"/credentials/{outcome.id}", "credential-page"),
        (f"/microcredentials/{mc_id}", "microcredential-page"),
        (f"/microcredentials/{mc_id}/v1", "achievement-page"),
    ):
        visitor.goto(path)
        problems += _scan(visitor, name)
    visitor.goto(f"/verify?url={live.url}/credentials/{outcome.id}")
    visitor.get_by_role("button", name="Verify").click()
    problems += _scan(visitor, "verify-result")

    issuer = new_page()
    sign_in(issuer, "admin@tu.example")
    for path, name in (
        ("/console", "console-dashboard"), ("/console/microcredentials", "console-catalogue"),
        ("/console/microcredentials/new", "console-designer"), (f"/console/microcredentials/{mc_id}", "console-microcredential"),
        (f"/console/microcredentials/{mc_id}/award", "console-award"), ("/console/awards", "console-awards"),
        (f"/console/awards/{outcome.id}", "console-award-detail"), ("/console/bulk", "console-bulk"),
        ("/console/issuers/tu-example", "console-issuer"), ("/console/tokens", "console-tokens"),
        ("/console/audit", "console-audit"), ("/console/staff", "console-staff"),
        ("/console/pathways", "console-pathways"), ("/console/pathways/new", "console-pathway-designer"),
        (f"/console/pathways/{pathway.id}", "console-pathway"), ("/console/recognition", "console-recognition"),
        ("/talent?occupation_q=data+analyst", "talent-roles"), (f"/talent/roles/{role.id}", "talent-role"),
        (f"/talent/team?role={role.id}", "talent-team"),
        ("/console/webhooks", "console-webhooks"), ("/console/migrate", "console-migrate"),
    ):  # fmt: skip
        issuer.goto(path)
        problems += _scan(issuer, name)

    learner = new_page()
    sign_in(learner, "axe.learner@example.org")
    for path, name in (
        ("/wallet", "wallet"),
        (f"/wallet/credentials/{outcome.id}", "wallet-credential-page"),
        ("/wallet/import", "wallet-import"),
        ("/wallet/clr", "wallet-learner-record"),
        ("/wallet/pathways", "wallet-pathways"),
        ("/wallet/recognition", "wallet-recognition"),
        ("/wallet/skills", "wallet-skills"),
        (f"/wallet/plan?occupation_q=data+analyst&role={role.id}&budget=500", "wallet-plan"),
        ("/wallet/connections", "wallet-connections"),
        (_authorize_path(live), "oauth-consent"),
        ("/privacy", "privacy"),
    ):
        learner.goto(path)
        problems += _scan(learner, name)

    admin = new_page()
    sign_in(admin, "root@microcred.example")
    admin.goto("/admin/outbox")
    problems += _scan(admin, "outbox")
    assert problems == []


def _authorize_path(live: Live) -> str:
    """A consent page: an application registered, asking with PKCE."""
    import secrets
    from urllib.parse import urlencode

    from tests.ob3_helpers import REGISTRATION, authorize_params

    registration = live.platform.oauth.register(REGISTRATION, "127.0.0.1")
    return "/oauth/authorize?" + urlencode(authorize_params(registration, secrets.token_urlsafe(48)))


def _catalogue(live: Live) -> list[str]:
    with live.platform.runtime.db.read() as repo:
        return [mc.id for mc, _issuer, _definition, _n in repo.catalogue(None)]
