"""Security defaults: headers, cookies, safe redirects, proxy trust, rate limiting."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from movr.config import Settings
from movr.web.runtime import runtime

REGION_HEADER = "X-MovR-Region"
MAX_REQUEST_BYTES = 64 * 1024
UNLIMITED = "1000000 per second"  # what a disabled limiter is asked (it never checks)
NO_STORE_TYPES = frozenset({"text/html", "application/json", "application/problem+json"})

ViewFunction = TypeVar("ViewFunction", bound=Callable[..., Any])

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


class SecureWhenHttpsSessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions whose cookie is `Secure` whenever the request came over HTTPS
    (directly or, with MOVR_PROXY_HOPS, as reported by the trusted proxy)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure if configured so, or if this request is HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def tile_source(tile_url: str) -> str:
    """The CSP source of the tile server, e.g. `https://*.tile.example.org`."""
    parts = urlsplit(tile_url.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(settings: Settings) -> str:
    """Only our own scripts and styles; images also from the tile server; no framing."""
    images = " ".join(filter(None, ["'self'", "data:", tile_source(settings.tile_url)]))
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def install(app: Flask, settings: Settings) -> None:
    """Apply every security default to the app."""
    if settings.proxy_hops or settings.forwarded_for_hops:
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.forwarded_for_hops, x_proto=hops, x_host=hops, x_port=hops
        )
    app.session_interface = SecureWhenHttpsSessionInterface()
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="movr_session",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_REQUEST_BYTES,
        MAX_FORM_PARTS=100,
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session, which expires on its own
        RATELIMIT_ENABLED=(settings.login_rate_limit, settings.register_rate_limit) != (None, None),
        RATELIMIT_STORAGE_URI=settings.rate_limit_storage,
    )
    limiter.init_app(app)
    policy = content_security_policy(settings)

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers[REGION_HEADER] = settings.region
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype in NO_STORE_TYPES:
            # Pages and API answers carry personal data: never keep them in shared caches.
            headers.setdefault("Cache-Control", "no-store")
        return response


def _login_limit() -> str:
    return runtime().settings.login_rate_limit or UNLIMITED


def _register_limit() -> str:
    return runtime().settings.register_rate_limit or UNLIMITED


def _failed_login(response: Response) -> bool:
    return response.status_code == HTTPStatus.UNAUTHORIZED


def limit_login(view: ViewFunction) -> ViewFunction:
    """Rate-limit failed logins per client (successful ones cost nothing)."""
    limited = limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed_login)(view)
    return cast(ViewFunction, limited)


def limit_registration(view: ViewFunction) -> ViewFunction:
    """Rate-limit registration attempts per client."""
    return cast(ViewFunction, limiter.limit(_register_limit, methods=["POST"])(view))


def is_safe_next(target: str | None) -> bool:
    """True for same-site paths only: `/rides`, not `//evil.example` or `https://…`."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and "\\" not in target
