"""Each security rule of the web pages, as its own test."""

from __future__ import annotations

import dataclasses
import re
import time
import uuid

import pytest
from argon2 import PasswordHasher
from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from movr.config import Settings
from movr.db.engine import Database
from movr.db.units import read
from movr.models import User, Vehicle
from movr.services import vehicles
from movr.web.app import create_app
from movr.web.auth import SEEN_KEY
from movr.web.limit_storage import DatabaseStorage
from movr.web.security import is_safe_next
from tests.factories import PASSWORD, make_user, make_vehicle
from tests.web.conftest import csrf_token, log_in, post

PROTECTED_GETS = ["/vehicles", "/vehicles/add", "/rides", "/users", "/logout"]
POST_ROUTES = [
    "/logout",
    "/vehicles/add",
    "/vehicles/remove/{vehicle}",
    "/rides/start/{vehicle}",
    "/rides/end/{ride}",
    "/users/remove/{user}",
    "/city/boston",
]


def fill(route: str, user: User, vehicle: Vehicle) -> str:
    return route.format(vehicle=vehicle.id, ride=uuid.uuid4(), user=user.id)


@pytest.mark.parametrize("url", [*PROTECTED_GETS, "/users/{user}"])
def test_pages_require_login(client: FlaskClient, user: User, url: str) -> None:
    response = client.get(url.format(user=user.id))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("route", POST_ROUTES)
def test_actions_require_login(
    client: FlaskClient, session: Session, user: User, route: str
) -> None:
    vehicle = make_vehicle(session, make_user(session))
    response = post(client, fill(route, user, vehicle), {"location": "x"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert session.get_one(Vehicle, vehicle.id, populate_existing=True).status == "available"


@pytest.mark.parametrize("route", POST_ROUTES)
def test_every_post_needs_the_csrf_token(
    logged_in: FlaskClient, session: Session, user: User, route: str
) -> None:
    vehicle = make_vehicle(session, user)
    response = logged_in.post(fill(route, user, vehicle), data={"location": "x"})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert session.get_one(Vehicle, vehicle.id, populate_existing=True).status == "available"
    assert session.get_one(User, user.id, populate_existing=True).deleted_at is None


def test_login_and_register_posts_need_the_csrf_token(client: FlaskClient, user: User) -> None:
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert client.post("/register", data={"username": "x"}).status_code == 400


@pytest.mark.parametrize(
    "target",
    ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "rides"],
)
def test_login_never_redirects_off_site(client: FlaskClient, user: User, target: str) -> None:
    response = post(
        client, "/login", {"username": user.username or "", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/vehicles"


def test_safe_next_accepts_plain_paths_only() -> None:
    assert is_safe_next("/rides?page=2")
    assert not is_safe_next("//evil")
    assert not is_safe_next("/\\evil")
    assert not is_safe_next("http://evil/")
    assert not is_safe_next(None)


UNSAFE_NEXTS = [
    "/rides\r\nSet-Cookie: x=1",
    "/rides%0d%0aSet-Cookie:%20x=1",
    "/rides\tx",
    "\t/rides",
    "/\x00rides",
    "//evil.example",
    "/\\evil.example",
    "/%2f%2fevil.example",
    "/%5cevil.example",
    "https://evil.example/",
    "rides",
    " /rides",
]


@pytest.mark.parametrize("target", UNSAFE_NEXTS)
def test_login_never_follows_an_unsafe_next(client: FlaskClient, user: User, target: str) -> None:
    assert not is_safe_next(target)
    form = {"username": user.username or "", "password": PASSWORD, "next": target}
    response = post(client, "/login", form)
    assert response.status_code == 303
    assert response.headers["Location"] == "/vehicles"


def test_login_follows_a_safe_next(client: FlaskClient, user: User) -> None:
    form = {"username": user.username or "", "password": PASSWORD, "next": "/rides?page=2"}
    assert post(client, "/login", form).headers["Location"] == "/rides?page=2"


def test_login_failure_is_generic(client: FlaskClient, user: User) -> None:
    wrong_password = post(
        client, "/login", {"username": user.username or "", "password": "wrong pass"}
    )
    unknown_user = post(client, "/login", {"username": "nobody-here", "password": "wrong pass"})
    assert wrong_password.status_code == unknown_user.status_code == 401
    for response in (wrong_password, unknown_user):
        assert "Invalid username or password." in response.get_data(as_text=True)


def test_failed_login_hashes_once_whether_or_not_the_user_exists(
    app: Flask, client: FlaskClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = app.extensions["movr"].hasher
    calls: list[str] = []
    original = PasswordHasher.verify

    def counting_verify(self: PasswordHasher, hash_: str, password: str) -> bool:
        calls.append(hash_)
        return original(self, hash_, password)

    monkeypatch.setattr(type(hasher), "verify", counting_verify)
    post(client, "/login", {"username": user.username or "", "password": "wrong pass"})
    known = len(calls)
    post(client, "/login", {"username": "nobody-here", "password": "wrong pass"})
    assert known == 1
    assert len(calls) - known == 1


def test_login_rotates_the_session(client: FlaskClient, user: User) -> None:
    csrf_token(client)
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    log_in(client, user)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["_user_id"].startswith("movr_")  # a token of this session's own


def test_a_copied_session_cookie_is_dead_after_logout(app: Flask, user: User) -> None:
    with app.test_client() as browser:
        log_in(browser, user)
        copied = browser.get_cookie("movr_session")
        assert copied is not None
        assert post(browser, "/logout").status_code == 303
    with app.test_client() as thief:
        thief.set_cookie("movr_session", copied.value)
        page = thief.get("/vehicles")
        api = thief.get("/api/v1/me")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login")
    assert api.status_code == 401


def test_registering_while_logged_in_ends_the_previous_session(
    client: FlaskClient, user: User
) -> None:
    log_in(client, user)
    copied = client.get_cookie("movr_session")
    assert copied is not None
    form = {"city": "new york", "first_name": "New", "last_name": "Person", "password": PASSWORD}
    form |= {"email": "new.person@example.com", "username": "new-person", "confirm": PASSWORD}
    assert post(client, "/register", form).status_code == 303
    client.set_cookie("movr_session", copied.value)
    assert client.get("/vehicles").status_code == 302


def test_a_failing_rate_limit_store_never_turns_a_login_into_a_500(
    settings: Settings,
    db: Database,
    hasher: PasswordHasher,
    user: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: object, **__: object) -> int:
        raise OperationalError("INSERT INTO rate_limit_counters", {}, Exception("gone"))

    monkeypatch.setattr(DatabaseStorage, "incr", broken)
    limited = dataclasses.replace(settings, login_rate_limit="3 per minute")
    with create_app(limited, database=db, hasher=hasher).test_client() as client:
        wrong = {"username": user.username or "", "password": "wrong pass"}
        assert post(client, "/login", wrong).status_code == 401
        assert post(client, "/login", {**wrong, "password": PASSWORD}).status_code == 303


def test_logging_out_ends_only_that_browsers_session(app: Flask, user: User) -> None:
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop, user)
    log_in(phone, user)
    assert post(laptop, "/logout").status_code == 303
    assert laptop.get("/vehicles").status_code == 302
    assert phone.get("/vehicles").status_code == 200


def session_cookie_header(response: object) -> str:
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("movr_session=")]  # type: ignore[attr-defined]
    assert cookies
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite_lax(client: FlaskClient, user: User) -> None:
    header = session_cookie_header(log_in(client, user))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header  # plain HTTP in this test


def test_session_cookie_is_secure_over_https(app: Flask, user: User) -> None:
    with app.test_client() as client:
        client.environ_base["wsgi.url_scheme"] = "https"
        token = csrf_token(client)
        response = client.post(
            "/login",
            data={"csrf_token": token, "username": user.username, "password": PASSWORD},
            base_url="https://localhost",
            headers={"Referer": "https://localhost/login"},
        )
        assert "Secure" in session_cookie_header(response)
        assert "Strict-Transport-Security" in response.headers


def test_forwarded_https_counts_only_with_trusted_proxies(
    settings: Settings, db: Database, hasher: PasswordHasher, user: User
) -> None:
    for hops, secure in ((0, False), (1, True)):
        app = create_app(dataclasses.replace(settings, proxy_hops=hops), database=db, hasher=hasher)
        with app.test_client() as client:
            page = client.get("/login", headers={"X-Forwarded-Proto": "https"})
            assert ("Strict-Transport-Security" in page.headers) is secure


def test_security_headers_on_every_page(client: FlaskClient) -> None:
    for url in ("/login", "/register", "/nonexistent"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "https://tile.openstreetmap.org" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["X-MovR-Region"] == "gcp-us-east1"


def test_json_answers_carry_the_headers_of_data_not_of_documents(client: FlaskClient) -> None:
    for url in ("/healthz", "/api/v1/cities", "/api/v1/me", "/api/v1/nonexistent"):
        headers = client.get(url).headers
        assert headers["Content-Type"].startswith(("application/json", "application/problem+json"))
        assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"
        assert headers["X-MovR-Region"] == "gcp-us-east1"
        assert "Referrer-Policy" not in headers
        assert "Permissions-Policy" not in headers


def test_pages_have_no_inline_scripts_or_styles(logged_in: FlaskClient, user: User) -> None:
    for url in ("/vehicles", "/vehicles/add", "/rides", "/users", f"/users/{user.id}", "/logout"):
        html = logged_in.get(url).get_data(as_text=True)
        assert "style=" not in html
        assert " onclick=" not in html
        for script in re.findall(r"<script[^>]*>", html):
            assert "src=" in script, f"inline script on {url}"


def test_login_is_rate_limited(settings: Settings, db: Database, hasher: PasswordHasher) -> None:
    limited = dataclasses.replace(settings, login_rate_limit="3 per minute")
    app = create_app(limited, database=db, hasher=hasher)
    with app.test_client() as client:
        statuses = [
            post(client, "/login", {"username": "x", "password": "wrong pass"}).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        refused = post(client, "/login", {"username": "x", "password": "wrong pass"})
        assert "Too many attempts" in refused.get_data(as_text=True)
        assert client.get("/login").status_code == 200  # reading the page is not limited


def test_successful_logins_do_not_use_up_the_login_limit(
    settings: Settings, db: Database, hasher: PasswordHasher, user: User
) -> None:
    limited = dataclasses.replace(settings, login_rate_limit="2 per minute")
    app = create_app(limited, database=db, hasher=hasher)
    with app.test_client() as client:
        for _ in range(4):
            assert log_in(client, user).status_code == 303
            post(client, "/logout")


def test_registration_is_rate_limited(
    settings: Settings, db: Database, hasher: PasswordHasher
) -> None:
    app = create_app(
        dataclasses.replace(settings, register_rate_limit="2 per minute"),
        database=db,
        hasher=hasher,
    )
    with app.test_client() as client:
        statuses = [post(client, "/register", {"username": "x"}).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]


def test_rate_limits_off_allows_many_attempts(client: FlaskClient) -> None:
    statuses = {
        post(client, "/login", {"username": "x", "password": "wrong pass"}).status_code
        for _ in range(15)
    }
    assert statuses == {401}


def test_oversized_requests_are_refused(logged_in: FlaskClient) -> None:
    token = csrf_token(logged_in)
    response = logged_in.post("/vehicles/add", data={"csrf_token": token, "brand": "x" * 70_000})
    assert response.status_code == 413


def test_overlong_fields_are_refused_with_a_message(logged_in: FlaskClient) -> None:
    response = post(
        logged_in,
        "/vehicles/add",
        {"type": "bike", "color": "c" * 33, "brand": "b", "location": "l" * 200},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Field cannot be longer than 32 characters." in html


def test_database_errors_never_reach_the_page(
    logged_in: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise OperationalError(
            "SELECT secret_column FROM vehicles", {"p": "secret-param"}, Exception("boom")
        )

    monkeypatch.setattr(vehicles, "nearest_vehicles", read(broken))
    response = logged_in.get("/vehicles")
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "secret" not in html
    assert "Traceback" not in html


def test_redirects_ignore_the_host_header(client: FlaskClient, user: User) -> None:
    response = client.get("/", headers={"Host": "evil.example"})
    assert response.headers["Location"] == "/login"
    login = post(client, "/login", {"username": user.username or "", "password": PASSWORD})
    assert "evil" not in login.headers["Location"]


def test_a_session_signed_with_another_key_is_refused(app: Flask, user: User) -> None:
    forger = Flask("forger")
    forger.secret_key = "not-the-configured-secret-key"
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    with app.test_client() as browser:  # a real, live session token, in a forged cookie
        log_in(browser, user)
        with browser.session_transaction() as real:
            token = real["_user_id"]
    forged = serializer.dumps({"_user_id": token, "_fresh": True, SEEN_KEY: int(time.time())})
    with app.test_client() as client:
        client.set_cookie("movr_session", forged)
        response = client.get("/vehicles")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_user_text_is_escaped(logged_in: FlaskClient, session: Session) -> None:
    make_vehicle(session, make_user(session), brand="<script>alert(1)</script>")
    html = logged_in.get("/vehicles").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    "url",
    ["/", "/login", "/register", "/vehicles", "/rides", "/users", "/logout", "/nope", "/healthz"],
)
def test_any_first_request_works(app: Flask, url: str) -> None:
    with app.test_client() as fresh:
        assert fresh.get(url).status_code in (200, 302, 404)


def test_error_pages_are_friendly(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "There is nothing here." in html
    assert "Served from gcp-us-east1" in html
    assert client.put("/login").status_code == 405


def test_forwarded_for_hops_are_counted_apart_from_the_other_headers(
    settings: Settings, db: Database, hasher: PasswordHasher
) -> None:
    behind_gcp = dataclasses.replace(settings, proxy_hops=1, forwarded_for_hops=2)
    app = create_app(behind_gcp, database=db, hasher=hasher)
    seen: list[str | None] = []

    @app.get("/probe-address")
    def probe() -> str:
        seen.append(request.remote_addr)
        return "ok"

    with app.test_client() as client:
        headers = {
            "X-Forwarded-For": "198.51.100.7, 203.0.113.9, 35.191.0.1",
            "X-Forwarded-Proto": "https",
        }
        response = client.get("/probe-address", headers=headers)
        assert response.status_code == 200
        assert seen == ["203.0.113.9"]
        assert "Strict-Transport-Security" in client.get("/login", headers=headers).headers


def test_redis_rate_limit_storage_is_supported(
    settings: Settings, db: Database, hasher: PasswordHasher
) -> None:
    shared = dataclasses.replace(
        settings, login_rate_limit="5 per minute", rate_limit_storage="redis://127.0.0.1:1/0"
    )
    assert create_app(shared, database=db, hasher=hasher) is not None  # no missing prerequisite
