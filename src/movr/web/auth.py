"""Who is logged in: Flask-Login on revocable sessions (one read per request).

The session cookie holds a token of the session's own (a row of api_tokens of kind 'session',
accepted only from this cookie): logging out revokes it, so a copy of the cookie kept from
before is worth nothing. A session lasts 12 h from login at most (its token expires then), and
ends sooner when unused for MOVR_SESSION_IDLE_MINUTES: the signed cookie carries when it was
last seen, refreshed at most once a minute, so staying logged in costs no database write.
Requests that only read check the session where they read (the region's replica: a logout
reaches it within the replica's lag); requests that write check it on the primary, at once:
the ride actions, retiring a vehicle and deleting the account in their own statement
(`session_required`), the other writes with a read of their own first.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar, cast

import flask_login
from flask import Flask, current_app, g, request, session
from flask_login import AnonymousUserMixin, LoginManager, UserMixin, login_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from movr.db.units import Operation
from movr.models import User
from movr.services import sessions, tokens
from movr.services.accounts import Account
from movr.services.callers import Caller
from movr.services.sessions import RideInProgress
from movr.web.runtime import runtime

ViewFunction = TypeVar("ViewFunction", bound=Callable[..., Any])
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Where Flask-Login keeps what get_id() returned: the session's token.
SESSION_TOKEN_KEY = "_user_id"  # noqa: S105 -- a key's name, not a secret
# When the session was last used (epoch seconds), in the signed cookie; rewritten (and so the
# cookie sent again) only once it is this many seconds old: the idle time is exact to a minute.
SEEN_KEY = "movr_seen"
SEEN_REFRESH_SECONDS = 60
# Set on `g` by session_required: this request's write checks the session in its statement.
CHECKED_BY_STATEMENT = "movr_session_checked_by_statement"

login_manager = LoginManager()
login_manager.login_view = "ui.login"
login_manager.login_message = "Please log in to see this page."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@dataclass(frozen=True, slots=True)
class CurrentUser(UserMixin):  # type: ignore[misc]  # Flask-Login ships no type hints
    """The logged-in account, as plain data detached from any session."""

    id: uuid.UUID
    city: str
    username: str
    first_name: str
    last_name: str
    email: str
    created_at: datetime
    # The browser session's token; None for a caller of the API with a bearer token.
    session_token: str | None = None
    # The ride in progress, read with the session (pages only: the ride bar).
    ride: RideInProgress | None = None

    @property
    def display_name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"

    def get_id(self) -> str | None:
        """What Flask-Login stores in the session cookie: the session's token."""
        return self.session_token

    @classmethod
    def from_model(
        cls,
        user: User | Account,
        session_token: str | None = None,
        ride: RideInProgress | None = None,
    ) -> CurrentUser:
        """From a live account (and the token of its browser session, and its ride)."""
        return cls(
            id=user.id,
            city=user.city,
            username=user.username or "",
            first_name=user.first_name or "",
            last_name=user.last_name or "",
            email=user.email or "",
            created_at=user.created_at,
            session_token=session_token,
            ride=ride,
        )


def load_user(session_token: str) -> CurrentUser | None:
    """One read: the account of a live session and its ride in progress (on the primary for
    requests that write, unless their statement checks the session itself: then the user is
    loaded only to show a page, such as a refusal's, which reads where pages read). A revoked
    or expired session, or a deleted account, is logged out."""
    lookup = (
        sessions.session_account
        if request.method in SAFE_METHODS or g.get(CHECKED_BY_STATEMENT, False)
        else sessions.fresh_session_account
    )
    found = runtime().run(lookup, session_token)
    if found is None:
        return None
    return CurrentUser.from_model(found.account, session_token, found.ride)


def account_lookup() -> Operation[[str, tokens.TokenKind], Account | None]:
    """How this request checks a session or token: where it reads, or on the primary when
    the request writes (so a revoked one is refused at once)."""
    return tokens.user_for_token if request.method in SAFE_METHODS else tokens.fresh_user_for_token


def session_caller() -> Caller | None:
    """The browser session's caller, unchecked, for a statement that checks it itself (the
    ride actions: one round trip instead of a lookup first); None without a session."""
    token = session.get(SESSION_TOKEN_KEY)
    return Caller.session(token) if isinstance(token, str) else None


login_manager.user_loader(load_user)


def start_session(user: CurrentUser) -> CurrentUser:
    """Log `user` in with a fresh session: a new token, nothing from before kept (no
    fixation; a session this browser had is ended). It lasts as long as the session cookie,
    counted from now (an absolute lifetime: PERMANENT_SESSION_LIFETIME)."""
    if flask_login.current_user.is_authenticated:
        end_session(flask_login.current_user._get_current_object())
    ttl = current_app.permanent_session_lifetime
    issued = runtime().run(tokens.issue_token, user.id, user.city, ttl, tokens.SESSION)
    session.clear()
    session.permanent = True
    user = replace(user, session_token=issued.token)
    login_user(user)
    session[SEEN_KEY] = int(clock())
    return user


def end_session(user: CurrentUser | None, *, revoked: bool = False) -> None:
    """Log out: the session's token is revoked (unless the caller's write `revoked` it
    already: then the user need not have been loaded, and is not), then the cookie emptied."""
    if revoked:
        g.setdefault("_login_user", AnonymousUserMixin())  # logout_user() would load it
    elif user is not None and user.session_token is not None:
        runtime().run(tokens.revoke_token, user.id, user.session_token)
    logout_user()
    session.clear()


def login_required(view: ViewFunction) -> ViewFunction:
    """Flask-Login's decorator with its type kept (place it below the route decorator)."""
    return cast(ViewFunction, flask_login.login_required(view))


def session_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """For views whose one statement checks the session itself (`session_caller`): send
    visitors without a session to log in, without loading the user first."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if session_caller() is None:
            return logged_out()
        g.setdefault(CHECKED_BY_STATEMENT, True)
        return view(*args, **kwargs)

    return guarded


def logged_out() -> BaseResponse:
    """What a page answers a visitor without a live session: to log in (then come back)."""
    unauthorized: BaseResponse = login_manager.unauthorized()
    return unauthorized


def clock() -> float:
    """The time now (epoch seconds); tests replace it to move through idle periods."""
    return time.time()


def expire_idle_session() -> None:
    """Before each request: forget a session unused for longer than the idle timeout (the
    visitor is then logged out: sent to log in, or 401 from the API), else note that it was
    seen. No database write: the token simply stops being presented, and still expires."""
    if SESSION_TOKEN_KEY not in session:
        return
    now = clock()
    seen = session.get(SEEN_KEY)
    idle = runtime().settings.session_idle.total_seconds()
    if not isinstance(seen, int) or now - seen > idle:
        session.clear()
    elif now - seen >= SEEN_REFRESH_SECONDS:
        session[SEEN_KEY] = int(now)


def install(app: Flask) -> None:
    """Flask-Login and the idle timeout on the app."""
    login_manager.init_app(app)
    app.before_request(expire_idle_session)
