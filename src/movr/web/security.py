"""Security defaults: headers, cookies, safe redirects, proxy trust, rate limiting."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from movr.config import DATABASE_STORAGE, Settings
from movr.web import limit_storage

REGION_HEADER = "X-MovR-Region"
MAX_REQUEST_BYTES = 64 * 1024
JSON_TYPES = frozenset({"application/json", "application/problem+json"})
NO_STORE_TYPES = JSON_TYPES | {"text/html"}

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


class SecureWhenHttpsSessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions whose cookie is `Secure` whenever the request came over HTTPS
    (directly or, with MOVR_PROXY_HOPS, as reported by the trusted proxy)."""

    _serializer: URLSafeTimedSerializer | None = None

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure if configured so, or if this request is HTTPS."""
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer, built once: Flask builds it on every request, yet its key and
        salt stay as they are while the app runs (each app has its own interface)."""
        if self._serializer is None:
            self._serializer = super().get_signing_serializer(app)
        return self._serializer


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


HSTS = ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
NO_STORE = ("Cache-Control", "no-store")
NOT_SNIFFED_NOR_FRAMED = [("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY")]
# A JSON answer is data, never a document: it may load nothing and be framed nowhere (OWASP's
# REST Security Cheat Sheet). The document-only headers (referrer, opener, permissions) would
# be bytes every API client parses for nothing.
JSON_HEADERS = [
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    *NOT_SNIFFED_NOR_FRAMED,
]


def document_headers(settings: Settings) -> list[tuple[str, str]]:
    """The headers of pages and their assets."""
    return [
        ("Content-Security-Policy", content_security_policy(settings)),
        *NOT_SNIFFED_NOR_FRAMED,
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        # Geolocation for MovR's own pages only: nearest vehicles, the end of a ride.
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)"),
    ]


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
        # A session lasts 12 h from login at most, however it is used (its token expires
        # then), and less when idle; the cookie is re-sent only when that changes (web/auth.py).
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        SESSION_REFRESH_EACH_REQUEST=False,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_REQUEST_BYTES,
        MAX_FORM_PARTS=100,
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session, which expires on its own
        RATELIMIT_ENABLED=any(
            (
                settings.login_rate_limit,
                settings.register_rate_limit,
                settings.account_login_rate_limit,
            )
        ),
        # Counters that cannot be read or written (database or Redis down) let the request
        # through rather than turn it into a 500: a login needs the database anyway, and
        # answers 503 on its own when it is gone.
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_STORAGE_URI=(
            f"{limit_storage.SCHEME}://"
            if settings.rate_limit_storage == DATABASE_STORAGE
            else settings.rate_limit_storage
        ),
    )
    limiter.init_app(app)
    for_documents = document_headers(settings)

    @app.after_request
    def security_headers(response: Response) -> Response:
        # Added where a view set none of its own: one pass over the response's headers,
        # not a search per header (a setdefault each cost ~15 us a request).
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}
        wanted = list(JSON_HEADERS if response.mimetype in JSON_TYPES else for_documents)
        if request.is_secure:
            wanted.append(HSTS)
        if response.mimetype in NO_STORE_TYPES:
            # Pages and API answers carry personal data: never keep them in shared caches.
            wanted.append(NO_STORE)
        headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
        headers[REGION_HEADER] = settings.region
        return response


def is_safe_next(target: str | None) -> bool:
    """True for same-site paths only: `/rides`, not `//evil.example` or `https://…`.

    The raw string is judged, as it would go into the Location header: `urlsplit()` drops
    CR, LF and TAB, so checking its output let a CR/LF through to a 500 (or a split
    header). Percent-encoded forms are judged decoded too, as a browser may decode them.
    """
    if not target:
        return False
    for candidate in (target, unquote(target)):
        if (
            not candidate.startswith("/")
            or candidate.startswith("//")
            or "\\" in candidate
            or any(character.isspace() or not character.isprintable() for character in candidate)
        ):
            return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
