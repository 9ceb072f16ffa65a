"""Who is calling the API: a bearer token, or the session cookie plus a CSRF header."""

from __future__ import annotations

from flask import g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError as WTFormsValidationError

from movr.services import tokens
from movr.web.auth import CurrentUser
from movr.web.runtime import runtime

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRFToken"


class Unauthenticated(Exception):
    """No valid credentials: 401 with WWW-Authenticate."""


class CsrfRequired(Exception):
    """Cookie-authenticated state change without a valid CSRF header: 403."""


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer …` header (None when there is no header)."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Use 'Authorization: Bearer <token>'.")
    return token.strip()


def authenticate() -> CurrentUser:
    """The calling user; Unauthenticated or CsrfRequired otherwise."""
    token = bearer_token()
    if token is not None:
        account = runtime().one_statement(lambda s: tokens.user_for_token(s, token), "token_user")
        if account is None:
            raise Unauthenticated("The token is invalid, expired or revoked.")
        caller = CurrentUser.from_model(account)
        g.api_token, g.api_user = token, caller
        return caller
    if current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            try:
                validate_csrf(request.headers.get(CSRF_HEADER))
            except (CSRFError, WTFormsValidationError) as error:
                raise CsrfRequired(
                    f"Cookie-authenticated requests that change data need the {CSRF_HEADER} header."
                ) from error
        user: CurrentUser = current_user._get_current_object()
        return user
    raise Unauthenticated("Send 'Authorization: Bearer <token>' (from POST /api/v1/auth/token).")
