"""Who is logged in: Flask-Login on revocable sessions (one read per request).

The session cookie holds a token of the session's own (a row of api_tokens, as the API's bearer
tokens): logging out revokes it, so a copy of the cookie kept from before is worth nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar, cast

import flask_login
from flask import current_app, session
from flask_login import LoginManager, UserMixin, login_user, logout_user

from movr.models import User
from movr.services import tokens
from movr.services.users import Account
from movr.web.runtime import runtime

ViewFunction = TypeVar("ViewFunction", bound=Callable[..., Any])

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

    @property
    def display_name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"

    def get_id(self) -> str | None:
        """What Flask-Login stores in the session cookie: the session's token."""
        return self.session_token

    @classmethod
    def from_model(cls, user: User | Account, session_token: str | None = None) -> CurrentUser:
        """From a live account (and the token of its browser session)."""
        return cls(
            id=user.id,
            city=user.city,
            username=user.username or "",
            first_name=user.first_name or "",
            last_name=user.last_name or "",
            email=user.email or "",
            created_at=user.created_at,
            session_token=session_token,
        )


def load_user(session_token: str) -> CurrentUser | None:
    """One read in autocommit: the account of a live session. A revoked or expired session,
    or a deleted account, is logged out."""
    account = runtime().one_statement(
        lambda s: tokens.user_for_token(s, session_token), "load_user"
    )
    return CurrentUser.from_model(account, session_token) if account is not None else None


login_manager.user_loader(load_user)


def start_session(user: CurrentUser) -> CurrentUser:
    """Log `user` in with a fresh session: a new token, nothing from before kept (no
    fixation; a session this browser had is ended). It lasts as long as the session cookie,
    counted from now (an absolute lifetime: PERMANENT_SESSION_LIFETIME)."""
    if flask_login.current_user.is_authenticated:
        end_session(flask_login.current_user._get_current_object())
    ttl = current_app.permanent_session_lifetime
    issued = runtime().one_statement(
        lambda s: tokens.issue_token(s, user.id, user.city, ttl), "start_session"
    )
    session.clear()
    session.permanent = True
    user = replace(user, session_token=issued.token)
    login_user(user)
    return user


def end_session(user: CurrentUser) -> None:
    """Log out: the session's token is revoked, then the cookie emptied."""
    token = user.session_token
    if token is not None:
        runtime().one_statement(lambda s: tokens.revoke_token(s, user.id, token), "end_session")
    logout_user()
    session.clear()


def login_required(view: ViewFunction) -> ViewFunction:
    """Flask-Login's decorator with its type kept (place it below the route decorator)."""
    return cast(ViewFunction, flask_login.login_required(view))
