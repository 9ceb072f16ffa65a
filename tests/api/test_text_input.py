"""Free text over the API: control characters and invisible-only values are a 422 (the same
rule as the pages' forms: movr.web.text_rules), never a 5xx."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiClient
from tests.web.test_text_input import BAD_TEXT, VEHICLE


@pytest.mark.parametrize("value", BAD_TEXT)
def test_api_refuses_control_and_invisible_text(api: ApiClient, value: str) -> None:
    response = api.post("/vehicles", json={**VEHICLE, "brand": value})
    assert response.status_code == 422
    assert response.json is not None
    assert response.json["code"] == "validation_error"


def test_api_token_refuses_a_nul_in_the_username(anonymous: ApiClient) -> None:
    response = anonymous.post("/auth/token", json={"username": "a\x00b", "password": "x"})
    assert response.status_code == 422
