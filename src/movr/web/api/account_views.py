"""Cities, registration, tokens, your account, users of a city."""

from __future__ import annotations

from flask import g

from movr.services import tokens, users
from movr.services.callers import Caller
from movr.services.pagination import PageRequest
from movr.web.api.convert import me_out
from movr.web.api.openapi import operation
from movr.web.api.schemas import (
    CityList,
    CityOut,
    CityPageQuery,
    CityUserOut,
    CityUserPage,
    Credentials,
    Me,
    Registration,
    Token,
)
from movr.web.auth import CurrentUser, end_session
from movr.web.login_limits import count_account_attempt, login_succeeded
from movr.web.regions import requested_city, served_here
from movr.web.runtime import runtime


@operation(
    "GET",
    "/cities",
    summary="Cities of the region map",
    tag="cities",
    response=CityList,
    auth=False,
)
def list_cities() -> CityList:
    """Every city, its region and whether this instance serves it."""
    settings = runtime().settings
    return CityList(
        items=[
            CityOut(
                id=city.id,
                name=city.name,
                region=city.region,
                latitude=city.latitude,
                longitude=city.longitude,
                timezone=city.timezone,
                served_here=served_here(settings, city.id),
            )
            for city in settings.region_map
        ]
    )


@operation(
    "POST", "/users", summary="Register", tag="account", body=Registration, response=Me,
    status=201, errors=(409,), auth=False, rate_limited="register",
)  # fmt: skip
def register(body: Registration) -> Me:
    """Create an account (then ask for a token)."""
    app = runtime()
    registration = users.Registration(**body.model_dump())
    new = users.prepare_registration(app.hasher, app.settings.region_map, registration)
    return me_out(app.run(users.create_account, new))


@operation(
    "POST", "/auth/token", summary="Get a bearer token", tag="account", body=Credentials,
    response=Token, status=201, errors=(401,), auth=False, rate_limited="login",
)  # fmt: skip
def create_token(body: Credentials) -> Token:
    """Exchange username and password for a token (generic error on any mismatch)."""
    app = runtime()
    count_account_attempt(body.username)
    account = users.authenticate(app, app.hasher, body.username, body.password)
    settings = app.settings
    cap = settings.max_api_tokens
    new = app.run(tokens.issue_api_token, account.id, account.city, settings.token_ttl, cap)
    if new.over_cap:
        app.run(tokens.revoke_surplus, account.id, cap)
    login_succeeded(body.username)
    issued = new.issued
    return Token(token=issued.token, expires_at=issued.expires_at, user=me_out(account))


@operation("DELETE", "/auth/token", summary="Revoke this token", tag="account")
def revoke_token(user: CurrentUser) -> None:
    """Revoke the bearer token of this request (or end the cookie session)."""
    token = g.get("api_token")
    if token is None:
        end_session(user)
        return
    runtime().run(tokens.revoke_token, user.id, token)


@operation("GET", "/me", summary="Your account", tag="account", response=Me)
def get_me(user: CurrentUser) -> Me:
    """Your profile."""
    return me_out(user)


# A Caller, as for the ride actions: the erasure's one statement checks the token too.
@operation(
    "DELETE", "/me", summary="Delete your account", tag="account", errors=(409,), auth="caller"
)
def delete_me(caller: Caller) -> None:
    """Erase your personal data, retire your vehicles, revoke your tokens; rides stay anonymous."""
    runtime().run(users.delete_account, caller)


@operation(
    "GET", "/users", summary="Users of a city", tag="account", query=CityPageQuery,
    response=CityUserPage,
)  # fmt: skip
def list_users(user: CurrentUser, query: CityPageQuery) -> CityUserPage:
    """Names and owner flags of a city's users (no emails, no ids)."""
    city = requested_city(runtime().settings, query.city, home=user.city)
    page_ask = PageRequest.parse(query.cursor, query.limit)
    page = runtime().run(users.list_city_users, city, page_ask)
    return CityUserPage(
        items=[CityUserOut(display_name=u.display_name, is_owner=u.is_owner) for u in page.items],
        next_cursor=page.next_cursor,
    )
