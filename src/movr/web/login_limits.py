"""Limits on logins and registrations: per client for every entry, per account for logins.

Each limit is consumed BEFORE the password is checked (consume-then-check): the count is one
atomic increment in the limiter's storage (MOVR_RATE_LIMIT_STORAGE; by default one
`INSERT … ON CONFLICT DO UPDATE … RETURNING hits` statement, services/rate_limits.py) whose
answer decides. Checking first and counting after the view let 30 parallel wrong passwords
through a limit of 10 (all had been checked before any was counted).

- Per client (its address): one count for every login entry (the page /login and
  POST /api/v1/auth/token) and one for every registration entry: switching entry gains
  nothing. A successful login gives its attempt back, so only failures use the limit up.
- Per account (its username, from any address; MOVR_ACCOUNT_RATE_LIMITS): every attempt
  counts, successes too, so a stolen password cannot mint tokens as fast as argon2 allows.
  Its windows are short (one minute by default), and a browser (or cookie-keeping client)
  that logged in to the account before counts apart, on a count strangers cannot touch: it
  carries a signed "known device" cookie naming the account (OWASP's device cookies). Someone
  guessing at a victim's account thus locks out only new devices, while they keep guessing
  and a window after; sessions and tokens the victim holds keep working.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import structlog
from flask import Response, after_this_request, current_app, request
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from movr.web.limit_storage import global_scope
from movr.web.runtime import runtime
from movr.web.security import limiter

ViewFunction = TypeVar("ViewFunction", bound=Callable[..., Any])

# Scopes name the shared counters: every view decorated with one counts on the same key.
LOGIN_SCOPE = "login"
REGISTER_SCOPE = "register"
# An account is guessed at through every region: its counts are one for the deployment.
ACCOUNT_SCOPE = global_scope("login-account")
KNOWN_DEVICE_SCOPE = global_scope("login-account-known-device")
DEVICE_ACCOUNTS = 5  # accounts a known-device cookie remembers (a family's browser)
DEVICE_COOKIE = "movr_device"
DEVICE_COOKIE_SALT = "movr.known-device"
DEVICE_COOKIE_MAX_AGE = 30 * 24 * 3600
UNLIMITED = "1000000 per second"  # what a disabled limiter is asked (it never checks)

log = structlog.get_logger(__name__)


def _login_limit() -> str:
    return runtime().settings.login_rate_limit or UNLIMITED


def _register_limit() -> str:
    return runtime().settings.register_rate_limit or UNLIMITED


def limit_login(view: ViewFunction) -> ViewFunction:
    """Count each login attempt against its client before the view runs (every login entry
    shares the count); the view gives a successful one back with `login_succeeded`."""
    shared = limiter.shared_limit(_login_limit, scope=LOGIN_SCOPE, methods=["POST"])
    return cast(ViewFunction, shared(view))


def limit_registration(view: ViewFunction) -> ViewFunction:
    """Count each registration attempt against its client (pages and API share the count)."""
    shared = limiter.shared_limit(_register_limit, scope=REGISTER_SCOPE, methods=["POST"])
    return cast(ViewFunction, shared(view))


def login_succeeded(username: str) -> None:
    """Give back the attempt this request counted against its client (the password was right:
    only after the fact, so a burst of guesses cannot spend attempts it has not paid for), and
    make this client a known device of the account."""
    if runtime().settings.account_login_rate_limit is not None:
        remember_device(account_key(username))
    for counted in limiter.current_limits:
        if counted.request_args[-1] != LOGIN_SCOPE or counted.breached:
            continue
        try:
            limiter.limiter.hit(counted.limit, *counted.request_args, cost=-1)
        except Exception:  # as the count itself (RATELIMIT_SWALLOW_ERRORS): never a 500
            log.warning("login_refund_failed", exc_info=True)


def account_key(username: str) -> str:
    """The account's counter key: a digest of the case-folded username (usernames are unique
    case-insensitively), so the counters hold no personal data and have a fixed length."""
    return hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]


def count_account_attempt(username: str) -> None:
    """Count a login attempt against the account `username` (known or not, so a refusal
    reveals nothing); TooManyRequests, with Retry-After, once the account's limit is used up."""
    limits = runtime().settings.account_login_rate_limit
    if limits is None or not limiter.enabled:
        return
    key = account_key(username)
    scope = KNOWN_DEVICE_SCOPE if key in known_accounts() else ACCOUNT_SCOPE
    strategy = limiter.limiter
    for item in parse_many(limits):
        try:
            allowed = strategy.hit(item, scope, key)
        except Exception:  # the store is down: let the login through, as the other limits do
            log.warning("account_limit_failed", exc_info=True)
            return
        if not allowed:
            reset_at = strategy.get_window_stats(item, scope, key).reset_time
            log.info("account_limit_reached", limit=str(item), client=get_remote_address())
            raise TooManyRequests(retry_after=max(1, int(reset_at - time.time()) + 1))


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(runtime().settings.secret_key, salt=DEVICE_COOKIE_SALT)


def known_accounts() -> list[str]:
    """The account keys this client's known-device cookie names (none if absent or forged)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if raw is None:
        return []
    try:
        accounts = _device_serializer().loads(raw)
    except BadSignature:
        return []
    return [key for key in accounts if isinstance(key, str)] if isinstance(accounts, list) else []


def remember_device(key: str) -> None:
    """Name the account `key` in this client's known-device cookie (the latest few kept)."""
    accounts = [key, *(known for known in known_accounts() if known != key)]
    value = _device_serializer().dumps(accounts[:DEVICE_ACCOUNTS])

    @after_this_request
    def set_cookie(response: Response) -> Response:
        response.set_cookie(
            DEVICE_COOKIE,
            value,
            max_age=DEVICE_COOKIE_MAX_AGE,
            secure=request.is_secure or bool(current_app.config["SESSION_COOKIE_SECURE"]),
            httponly=True,
            samesite="Lax",
        )
        return response
