"""API test helpers: a JSON client with a bearer token."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from movr.models import User
from tests.factories import PASSWORD, make_user

API = "/api/v1"


class ApiClient:
    """Calls the API as one user."""

    def __init__(self, client: FlaskClient, token: str | None = None) -> None:
        self.client = client
        self.token = token

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        base = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return base | (extra or {})

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(
            API + path, headers=self.headers(kwargs.pop("headers", None)), **kwargs
        )

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.delete(
            API + path, headers=self.headers(kwargs.pop("headers", None)), **kwargs
        )

    def post(self, path: str, json: Any = None, **kwargs: Any) -> TestResponse:
        return self.client.post(
            API + path, json=json, headers=self.headers(kwargs.pop("headers", None)), **kwargs
        )


def token_for(client: FlaskClient, user: User, password: str = PASSWORD) -> str:
    """A bearer token through the token endpoint."""
    response = client.post(
        f"{API}/auth/token", json={"username": user.username, "password": password}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.json["token"])  # type: ignore[index]


@pytest.fixture
def user(session: Session) -> User:
    """A registered user living in New York."""
    return make_user(session, city="new york")


@pytest.fixture
def api(client: FlaskClient, user: User) -> ApiClient:
    """An API client authenticated as `user`."""
    return ApiClient(client, token_for(client, user))


@pytest.fixture
def anonymous(client: FlaskClient) -> ApiClient:
    """An API client without credentials."""
    return ApiClient(client)
