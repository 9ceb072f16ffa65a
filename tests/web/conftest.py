"""Flask test client fixtures: the app on the test's rolled-back transaction."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from movr.models import User
from tests.factories import PASSWORD, make_user

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client: FlaskClient, page: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's meta tag."""
    html = client.get(page, follow_redirects=True).get_data(as_text=True)
    match = CSRF_META.search(html)
    assert match, f"no CSRF token on {page}"
    return match.group(1)


def post(client: FlaskClient, url: str, data: dict[str, str] | None = None) -> TestResponse:
    """POST a form the way the page would, with the session's CSRF token."""
    return client.post(url, data={"csrf_token": csrf_token(client), **(data or {})})


def log_in(client: FlaskClient, user: User, password: str = PASSWORD) -> TestResponse:
    """Log `user` in through the login form."""
    response = post(client, "/login", {"username": user.username or "", "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


@pytest.fixture
def user(session: Session) -> User:
    """A registered user living in New York."""
    return make_user(session, city="new york")


@pytest.fixture
def logged_in(client: FlaskClient, user: User) -> FlaskClient:
    """The client, logged in as `user`."""
    log_in(client, user)
    return client
