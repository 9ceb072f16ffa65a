"""Refused page actions: one error page (web/errors.py) leading back where the action was sent."""

from __future__ import annotations

import re
import uuid

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.web.conftest import csrf_token

BACK = re.compile(r'<a class="btn btn-primary" href="([^"]*)">([^<]*)</a>')


def refused_end(client: FlaskClient, referer: str | None) -> TestResponse:
    """End a ride that does not exist (404), sent from `referer`."""
    headers = {"Referer": referer} if referer is not None else {}
    data = {"csrf_token": csrf_token(client), "location": "Pier 1"}
    return client.post(f"/rides/end/{uuid.uuid4()}", data=data, headers=headers)


def back_link(response: TestResponse) -> tuple[str, str]:
    match = BACK.search(response.get_data(as_text=True))
    assert match, "no back link"
    return match.group(1), match.group(2)


def test_a_refusal_explains_itself_and_leads_back_to_the_page_it_came_from(
    logged_in: FlaskClient,
) -> None:
    response = refused_end(logged_in, "http://localhost/rides?cursor=abc")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "That did not work" in html
    assert "No such ride." in html
    assert back_link(response) == ("/rides?cursor=abc", "Your rides")


@pytest.mark.parametrize(
    "referer",
    [
        None,
        "https://evil.example/rides",  # another site
        "http://localhost//evil.example/rides",  # a path that is a host
        "http://localhost/rides/end/" + str(uuid.uuid4()),  # not a page (POST only)
        "http://localhost/api/v1/docs",  # not one of the pages
        "http://localhost/nowhere",
    ],
)
def test_without_a_same_site_page_to_go_back_to_a_refusal_leads_to_the_vehicles(
    logged_in: FlaskClient, referer: str | None
) -> None:
    response = refused_end(logged_in, referer)
    assert response.status_code == 404
    assert back_link(response) == ("/vehicles", "Vehicles")
