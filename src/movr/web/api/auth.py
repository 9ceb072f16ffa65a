"""Who is calling the API: a bearer token, or the session cookie plus a CSRF header."""

from __future__ import annotations

from flask import g, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError as WTFormsValidationError

from movr.services import tokens
from movr.services.callers import Caller
from movr.web.auth import SAFE_METHODS, CurrentUser, account_lookup, session_caller
from movr.web.runtime import runtime

CSRF_HEADER = "X-CSRFToken"
INVALID_TOKEN = "The token is invalid, expired or revoked."  # noqa: S105 -- a message
NO_CREDENTIALS = "Send 'Authorization: Bearer <token>' (from POST /api/v1/auth/token)."


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
        account = runtime().run(account_lookup(), token, tokens.API)
        if account is None:
            raise Unauthenticated(INVALID_TOKEN)
        caller = CurrentUser.from_model(account)
        g.api_token, g.api_user = token, caller
        return caller
    if current_user.is_authenticated:
        _check_csrf()
        user: CurrentUser = current_user._get_current_object()
        return user
    raise Unauthenticated(NO_CREDENTIALS)


def identify() -> Caller:
    """The caller, for operations whose statements resolve it themselves (the ride actions).

    A bearer token, or a cookie session's token (CSRF-checked), is passed on unchecked: the
    statement that acts checks it, which saves the lookup's round trip to the primary.
    """
    token = bearer_token()
    if token is not None:
        g.api_token = token
        return Caller.bearer(token)
    caller = session_caller()
    if caller is None:
        raise Unauthenticated(NO_CREDENTIALS)
    _check_csrf()
    return caller


def _check_csrf() -> None:
    """Cookie-authenticated requests that change data must carry the CSRF header."""
    if request.method in SAFE_METHODS:
        return
    try:
        validate_csrf(request.headers.get(CSRF_HEADER))
    except (CSRFError, WTFormsValidationError) as error:
        raise CsrfRequired(
            f"Cookie-authenticated requests that change data need the {CSRF_HEADER} header."
        ) from error
