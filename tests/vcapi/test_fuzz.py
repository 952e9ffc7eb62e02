"""Any request body, and any value anywhere in a real request, answers 2xx/4xx JSON: never a 500."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microcred import bootstrap
from microcred.server import create_app
from tests.test_fuzz import ANY_JSON, _paths
from tests.vcapi.conftest import V2, furnish, lab_settings

ENDPOINTS = ("/credentials/issue", "/credentials/status", "/credentials/verify", "/presentations/verify")


@pytest.fixture(scope="module")
def fuzz_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, Any], dict[str, str]]]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    platform = bootstrap.build_platform(lab_settings(folder, f"sqlite:///{folder / 'fuzz.db'}", 8443), create=True)
    dids, tokens = furnish(platform)
    credential = {"@context": [V2], "id": "urn:uuid:f0f0f0f0-0000-4000-8000-000000000001",
                  "type": ["VerifiableCredential"], "issuer": dids["lab-key"],
                  "credentialSubject": {"id": "did:example:x"}}  # fmt: skip
    signed = platform.vcapi.issue(
        {"credential": credential, "options": {"credentialStatus": {"type": "BitstringStatusListEntry",
                                                                    "statusPurpose": "revocation"}}},
        None, "fuzz",
    )  # fmt: skip
    with TestClient(create_app(platform), base_url="https://127.0.0.1:8443") as client:
        yield client, signed, {"Authorization": f"Bearer {tokens['vc']}"}
    platform.close()


def _answer(client: TestClient, path: str, body: Any, auth: dict[str, str]) -> None:
    # json.dumps writes Infinity and NaN, which are not JSON: the server must refuse them, not crash
    response = client.post(path, content=json.dumps(body), headers={**auth, "Content-Type": "application/json"})
    assert response.status_code < 500, (path, body, response.text)
    assert isinstance(response.json(), dict)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=ANY_JSON, endpoint=st.sampled_from(ENDPOINTS))
def test_any_body_answers_a_json_4xx_or_2xx(fuzz_lab: Any, body: Any, endpoint: str) -> None:
    client, _signed, auth = fuzz_lab
    _answer(client, endpoint, body, auth)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), replacement=ANY_JSON)
def test_any_value_anywhere_in_a_real_request_is_handled(fuzz_lab: Any, data: st.DataObject, replacement: Any) -> None:
    client, signed, auth = fuzz_lab
    unsecured = {k: v for k, v in signed.items() if k not in ("proof", "credentialStatus")}
    requests = {
        "/credentials/issue": {"credential": unsecured, "options": {"cryptosuite": "eddsa-jcs-2022"}},
        "/credentials/verify": {"verifiableCredential": signed, "options": {"checks": ["proof"]}},
        "/presentations/verify": {
            "verifiablePresentation": {"@context": [V2], "type": ["VerifiablePresentation"],
                                       "verifiableCredential": [signed]},
            "options": {"challenge": "c"},
        },
        "/credentials/status": {"credentialId": signed["id"], "status": False,
                                "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}},
    }  # fmt: skip
    endpoint = data.draw(st.sampled_from(ENDPOINTS))
    body = copy.deepcopy(requests[endpoint])
    path = data.draw(st.sampled_from(_paths(body)[1:]))
    holder = body
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = replacement
    _answer(client, endpoint, body, auth)
