"""Every REST API operation fuzzed by schemathesis (generated from our own OpenAPI document, valid and
invalid input alike), with the token of each role: no request may get a server error, and out-of-range
ids and numbers are answered 404 or 422. Then a stateful run that chains operations through the links
schemathesis infers from the responses. Every organisation, learner and role exists, so most requests
reach real code, not only the authorisation check."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from microcred import bootstrap
from microcred.server import create_app
from microcred.services.awarding import AwardRequest
from tests.platform_fixtures import COMPLETE

ROLES = ("platform_admin", "issuer_admin", "issuer_staff", "learner", "employer")
EXAMPLES = 5  # per generated request: every role and no token, about 2,000 requests in all


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from microcred.config import Settings
    from microcred.services.issuing import parse_definition
    from tests.live_server import database_url

    folder = tmp_path_factory.mktemp("fuzz")
    with database_url(folder) as url:
        settings = Settings(data_dir=folder / "data", database_url=url, public_base_url="https://microcred.example")
        platform = bootstrap.build_platform(settings, create=True)
        platform.issuers.create(name="TU Example", slug="tu-example", country="NL")
        platform.issuers.create(name="Helix", slug="helix", country="DE")
        mc = platform.catalog.create("tu-example", parse_definition(COMPLETE), publish=True)
        platform.awards.award(AwardRequest(mc.id, "ada@example.org", "Ada"))
        tokens = {}
        for role in ROLES:
            org = {"issuer_admin": "tu-example", "issuer_staff": "tu-example", "employer": "helix"}.get(role)
            email = f"{role.replace('_', '.')}@example.org" if role != "learner" else "ada@example.org"
            platform.accounts.create_user(email, "correct horse battery staple", role, org)
            tokens[role] = platform.accounts.create_token(email, role).token
        try:
            yield {"app": create_app(platform), "tokens": tokens}
        finally:
            platform.close()


@pytest.fixture(scope="module")
def api_schema(world: dict[str, Any]) -> Any:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", world["app"])


def _operations(api_schema: Any) -> list[Any]:
    found = [result.ok() for result in api_schema.get_all_operations()]
    assert len(found) >= 40, "the OpenAPI document lost operations"
    return found


def test_no_operation_answers_a_server_error(world: dict[str, Any], api_schema: Any) -> None:
    """Driven through hypothesis directly (schemathesis' pytest plugin does not run on this pytest)."""
    calls = 0
    for operation in _operations(api_schema):

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)  # fmt: skip
        def check(case: Any) -> None:
            nonlocal calls
            for role in ROLES:  # each generated request as every role, and once without a token
                response = case.call(headers={"Authorization": f"Bearer {world['tokens'][role]}"})
                assert response.status_code < 500, (
                    f"{case.method} {case.formatted_path} as {role}: {response.status_code} {response.text[:300]}"
                )
            assert case.call().status_code < 500
            calls += len(ROLES) + 1

        check()
    assert calls > 1000


@pytest.mark.parametrize("big", [2**31, 2**63, 10**30])
def test_ids_and_numbers_out_of_range_are_404_or_422(world: dict[str, Any], api_schema: Any, big: int) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(world["app"], base_url="https://microcred.example", raise_server_exceptions=False)
    headers = {"Authorization": f"Bearer {world['tokens']['platform_admin']}"}
    tried = 0
    for path, methods in api_schema.raw_schema["paths"].items():
        for method, operation in methods.items():
            ints = [p["name"] for p in operation.get("parameters", []) if p.get("schema", {}).get("type") == "integer"]
            if not ints:
                continue
            url = path
            query = {}
            for name in ints:
                if "{" + name + "}" in url:
                    url = url.replace("{" + name + "}", str(big))
                else:
                    query[name] = str(big)
            url = url.replace("{", "").replace("}", "")  # other path parameters: any text
            response = client.request(method.upper(), url, params=query, headers=headers, json={})
            assert response.status_code in (400, 404, 405, 409, 422), f"{method.upper()} {url}: {response.status_code}"
            tried += 1
    assert tried >= 5  # the roles, awards and status routes at least


@pytest.mark.parametrize("role", ["issuer_admin", "employer", "learner"])
def test_stateful_chains_of_calls_answer_no_server_error(world: dict[str, Any], api_schema: Any, role: str) -> None:
    machine = api_schema.as_state_machine()
    token = world["tokens"][role]
    steps: list[str] = []

    class Chains(machine):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {"Authorization": f"Bearer {token}"}}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            steps.append(f"{case.method} {case.path}")
            assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text[:300]}"

    Chains.run(settings=settings(max_examples=15, stateful_step_count=6, deadline=None,
                                 suppress_health_check=list(HealthCheck), derandomize=True))  # fmt: skip
    assert len(steps) >= 15, steps  # the chains really ran calls
