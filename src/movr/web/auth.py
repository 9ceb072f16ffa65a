"""Who is logged in: Flask-Login wired to the users service (one read per request)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

import flask_login
from flask_login import LoginManager, UserMixin

from movr.models import User
from movr.services import users
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

    @property
    def display_name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"

    def get_id(self) -> str:
        """What Flask-Login stores in the session cookie."""
        return str(self.id)

    @classmethod
    def from_model(cls, user: User | Account) -> CurrentUser:
        """From a live account."""
        return cls(
            id=user.id,
            city=user.city,
            username=user.username or "",
            first_name=user.first_name or "",
            last_name=user.last_name or "",
            email=user.email or "",
            created_at=user.created_at,
        )


def load_user(user_id: str) -> CurrentUser | None:
    """One primary-key read in autocommit; a deleted account is logged out."""
    try:
        ident = uuid.UUID(user_id)
    except ValueError:
        return None
    user = runtime().one_statement(lambda s: users.get_user(s, ident), "load_user")
    return CurrentUser.from_model(user) if user is not None else None


login_manager.user_loader(load_user)


def login_required(view: ViewFunction) -> ViewFunction:
    """Flask-Login's decorator with its type kept (place it below the route decorator)."""
    return cast(ViewFunction, flask_login.login_required(view))
