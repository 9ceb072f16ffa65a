"""Schemathesis hooks for fuzzing MovR's API: a fresh account and token whenever needed.

Fuzzed operations include deleting the account and revoking the token, so a fixed token would
stop working part-way; on any 401 schemathesis asks for new credentials (retry_on default).
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import httpx
import schemathesis

BASE_URL = os.environ["MOVR_FUZZ_URL"]


@schemathesis.auth()
class FreshAccount:
    """Registers a new user and returns a bearer token for it."""

    def get(self, case: Any, ctx: Any) -> str:
        username = f"fuzz-{uuid.uuid4().hex[:12]}"
        password = "fuzzing password 1"
        with httpx.Client(base_url=BASE_URL, timeout=30) as client:
            client.post(
                "/api/v1/users",
                json={
                    "city": "new york",
                    "first_name": "Fuzz",
                    "last_name": "Tester",
                    "email": f"{username}@example.com",
                    "username": username,
                    "password": password,
                },
            ).raise_for_status()
            token = client.post(
                "/api/v1/auth/token", json={"username": username, "password": password}
            )
            token.raise_for_status()
            return str(token.json()["token"])

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
