"""Login and registration limits: counted before the password is checked, one count per
client for every entry (page and API), one per account from any address."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from movr.config import Settings
from movr.db.engine import Database
from movr.db.transaction import run_in_transaction
from movr.models import User
from movr.services.passwords import PasswordHasher
from movr.web.app import create_app
from movr.web.login_limits import DEVICE_COOKIE
from tests.api.conftest import API
from tests.factories import PASSWORD, make_user
from tests.web.conftest import csrf_token

THREADS = 30
WRONG = {"username": "someone", "password": "wrong pass"}
Send = Callable[[FlaskClient], TestResponse]


def limited_app(settings: Settings, db: Database, hasher: PasswordHasher, **limits: str) -> Flask:
    return create_app(dataclasses.replace(settings, **limits), database=db, hasher=hasher)  # type: ignore[arg-type]


def page_form(client: FlaskClient, url: str, form: dict[str, str]) -> Send:
    """A page POST ready to send: its CSRF token fetched now (reading pages is not limited)."""
    token = csrf_token(client)
    return lambda c: c.post(url, data={"csrf_token": token, **form})


def api_post(path: str, body: dict[str, str]) -> Send:
    return lambda c: c.post(API + path, json=body)


def wrong_login_page(client: FlaskClient) -> Send:
    return page_form(client, "/login", WRONG)


def wrong_login_api(_: FlaskClient) -> Send:
    return api_post("/auth/token", WRONG)


def bad_registration_page(client: FlaskClient) -> Send:
    return page_form(client, "/register", {"username": "x"})


def bad_registration_api(_: FlaskClient) -> Send:
    return api_post("/users", {})


def together(app: Flask, senders: list[Callable[[FlaskClient], Send]]) -> Counter[int]:
    """Each request from its own thread and client, all released at once; their statuses."""
    barrier = threading.Barrier(len(senders))
    statuses: list[int] = []

    def run(prepare: Callable[[FlaskClient], Send]) -> None:
        with app.test_client() as client:
            send = prepare(client)
            barrier.wait(timeout=30)
            statuses.append(send(client).status_code)

    threads = [threading.Thread(target=run, args=(prepare,)) for prepare in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == len(senders)
    return Counter(statuses)


@pytest.mark.concurrency
def test_parallel_wrong_passwords_on_page_and_api_get_only_the_limit(
    settings: Settings, clean_tables: Database, hasher: PasswordHasher
) -> None:
    app = limited_app(settings, clean_tables, hasher, login_rate_limit="10 per minute")
    statuses = together(app, [wrong_login_page, wrong_login_api] * (THREADS // 2))
    assert statuses == Counter({401: 10, 429: THREADS - 10})


@pytest.mark.concurrency
def test_parallel_registrations_on_page_and_api_get_only_the_limit(
    settings: Settings, clean_tables: Database, hasher: PasswordHasher
) -> None:
    app = limited_app(settings, clean_tables, hasher, register_rate_limit="10 per minute")
    senders = [bad_registration_page, bad_registration_api] * (THREADS // 2)
    statuses = together(app, senders)
    assert statuses == Counter({422: 10, 429: THREADS - 10})


class SharedCount(NamedTuple):
    """Requests sent in turn through both entries, and the answers they get."""

    limits: dict[str, str]
    senders: list[Callable[[FlaskClient], Send]]
    expected: list[int]


SHARED_COUNTS = {
    "login": SharedCount(
        {"login_rate_limit": "3 per minute"},
        [wrong_login_page, wrong_login_api] * 3,
        [401, 401, 401, 429, 429, 429],
    ),
    "registration": SharedCount(
        {"register_rate_limit": "2 per minute"},
        [bad_registration_api, bad_registration_page] * 2,
        [422, 422, 429, 429],
    ),
}


@pytest.mark.parametrize("case", SHARED_COUNTS.values(), ids=SHARED_COUNTS.keys())
def test_page_and_api_share_one_count(
    settings: Settings, db: Database, hasher: PasswordHasher, case: SharedCount
) -> None:
    app = limited_app(settings, db, hasher, **case.limits)
    with app.test_client() as client:
        sends = [prepare(client) for prepare in case.senders]
        assert [send(client).status_code for send in sends] == case.expected


def from_address(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def token_request(client: FlaskClient, username: str, password: str) -> TestResponse:
    return client.post(f"{API}/auth/token", json={"username": username, "password": password})


def test_guesses_at_one_account_from_many_addresses_are_limited(
    settings: Settings, db: Database, hasher: PasswordHasher, session: Session
) -> None:
    app = limited_app(
        settings,
        db,
        hasher,
        login_rate_limit="100 per minute",
        account_login_rate_limit="3 per minute",
    )
    victim, other = make_user(session), make_user(session)
    names = [victim.username or "", (victim.username or "").upper()] * 2  # one account
    answers = [
        token_request(from_address(app, f"203.0.113.{n}"), name, "wrong pass")
        for n, name in enumerate(names)
    ]
    assert [answer.status_code for answer in answers] == [401, 401, 401, 429]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 61  # a minute's window at most
    assert answers[-1].json["code"] == "rate_limited"  # type: ignore[index]
    page = from_address(app, "203.0.113.50")
    refused = page_form(page, "/login", {"username": victim.username or "", "password": PASSWORD})
    assert refused(page).status_code == 429  # every entry counts for the account
    other_account = token_request(from_address(app, "203.0.113.9"), other.username or "", "x")
    assert other_account.status_code == 401


def test_an_accounts_count_is_one_for_every_region(
    settings: Settings, db: Database, hasher: PasswordHasher, session: Session
) -> None:
    # A guesser going round the regions' entries gets the account's limit once, not per region.
    limits = {"login_rate_limit": "100 per minute", "account_login_rate_limit": "3 per minute"}
    apps = [
        limited_app(dataclasses.replace(settings, region=region), db, hasher, **limits)
        for region in settings.region_map.regions
    ]
    victim = make_user(session)
    answers = [
        token_request(from_address(app, "203.0.113.7"), victim.username or "", "wrong pass")
        for app in [*apps, apps[1]]
    ]
    assert [answer.status_code for answer in answers] == [401, 401, 401, 429]
    # A client's own counts stay with the region that serves it (local writes).
    others = [token_request(from_address(app, "203.0.113.8"), "nobody", "x") for app in apps]
    assert [answer.headers["X-RateLimit-Remaining"] for answer in others] == ["99"] * 3


def test_successful_logins_count_against_their_account(
    settings: Settings, db: Database, hasher: PasswordHasher, user: User
) -> None:
    app = limited_app(settings, db, hasher, account_login_rate_limit="2 per minute")
    script = app.test_client(use_cookies=False)  # no known-device cookie kept
    statuses = [token_request(script, user.username or "", PASSWORD).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]


def test_a_known_device_still_logs_in_while_strangers_guess(
    settings: Settings, db: Database, hasher: PasswordHasher, user: User
) -> None:
    app = limited_app(settings, db, hasher, account_login_rate_limit="3 per minute")
    name = user.username or ""
    phone = from_address(app, "198.51.100.7")
    assert token_request(phone, name, PASSWORD).status_code == 201  # a known device from now on
    guesses = [
        token_request(from_address(app, f"203.0.113.{n}"), name, "wrong pass").status_code
        for n in range(4)
    ]
    assert guesses == [401, 401, 429, 429]  # the phone's login counted here too
    assert token_request(from_address(app, "198.51.100.8"), name, PASSWORD).status_code == 429
    # The known device's own count: it is limited as well, just apart from strangers.
    statuses = [token_request(phone, name, PASSWORD).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]
    forged = from_address(app, "203.0.113.99")
    forged.set_cookie(DEVICE_COOKIE, phone.get_cookie(DEVICE_COOKIE).value + "x")  # type: ignore[union-attr]
    assert token_request(forged, name, PASSWORD).status_code == 429


def test_an_accounts_lockout_ends_with_its_window(
    settings: Settings, clean_tables: Database, hasher: PasswordHasher
) -> None:
    # Committed: the window's end is the database's now() plus its length.
    app = limited_app(settings, clean_tables, hasher, account_login_rate_limit="1 per second")
    rider: User = run_in_transaction(clean_tables.sessions, make_user)
    client = app.test_client()
    assert token_request(client, rider.username or "", "wrong pass").status_code == 401
    assert token_request(client, rider.username or "", PASSWORD).status_code == 429
    time.sleep(1.1)
    assert token_request(client, rider.username or "", PASSWORD).status_code == 201
