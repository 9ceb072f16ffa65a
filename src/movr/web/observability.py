"""Per-request observability: request ids, structured access logs, metrics, health checks."""

from __future__ import annotations

import hmac
import re
import threading
import time
import uuid

import structlog
from flask import Flask, Response, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from movr.config import Settings
from movr.db import deadlines
from movr.db.migrate import head_revision, schema_revision
from movr.services import rides
from movr.web import metrics, serving
from movr.web.runtime import EXTENSION_KEY, Runtime, runtime

log = structlog.get_logger("movr.request")

REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's id only if it is short and harmless in logs; otherwise make our own.
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
QUIET_ROUTES = frozenset({"/healthz", "/metrics"})
ACTIVE_RIDES_KEY = "movr.active_rides"
METRICS_TYPE = metrics.CONTENT_TYPE_LATEST.split(";")[0]


class ActiveRides:
    """The active-rides gauge, counted in the database by a thread of its own, so that /metrics
    needs no database: during an outage it still shows the counters one alerts on."""

    def __init__(self, boundary: Runtime, every: float = 15.0) -> None:
        self._boundary = boundary
        self._every = every  # a trend for dashboards: a count per worker every 15 s is plenty
        self._lock = threading.Lock()
        self._started = False
        self.count: int | None = None  # None: not counted yet

    def sample(self) -> None:
        """Count now; an unreachable database leaves the last count in place."""
        try:
            self.count = self._boundary.run(rides.count_active, self._boundary.settings.cities)
        except SQLAlchemyError as error:
            log.warning("active rides not counted", error=type(error).__name__)

    def start(self) -> None:
        """Count every few seconds in a daemon thread (once per process: gunicorn workers)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._count_forever, name="movr-active-rides", daemon=True).start()

    def _count_forever(self) -> None:
        while True:
            self.sample()
            time.sleep(self._every)


def count_active_rides(app: Flask) -> None:
    """Start the app's active-rides counter (a gunicorn worker calls this once it has the app)."""
    active: ActiveRides = app.extensions[ACTIVE_RIDES_KEY]
    active.start()


def _metrics_refusal(settings: Settings) -> Response | None:
    """Why this request may not read /metrics, or None.

    With MOVR_METRICS_TOKEN, only its bearer. Without one, development serves anyone, and
    production only a scraper on this machine: a loopback peer whose request no proxy relayed
    (a proxy adds X-Forwarded-For), so that a proxy on the same host does not publish it.
    """
    if settings.metrics_token is not None:
        sent = request.headers.get("Authorization", "").encode()
        if hmac.compare_digest(
            sent, f"Bearer {settings.metrics_token}".encode()
        ):  # in constant time
            return None
        return _plain("Send Authorization: Bearer <MOVR_METRICS_TOKEN>.", 401)
    if settings.environment == "development":
        return None
    peer = request.remote_addr or ""
    local = peer.startswith("127.") or peer == "::1"
    if local and "X-Forwarded-For" not in request.headers:
        return None
    return _plain(
        "/metrics answers only on this machine; set MOVR_METRICS_TOKEN to scrape it.", 403
    )


def _plain(text: str, status: int) -> Response:
    response = Response(text + "\n", status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response


# The database's share of a request's deadline ends this much earlier, to leave time for the
# 503 to be written.
ANSWER_RESERVE = 0.2


def _request_id() -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    return incoming if SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex


def note_user(user_id: uuid.UUID) -> None:
    """Name the request's user in its access log when a statement, not a lookup, found it."""
    g.user_id = user_id


def _user_id() -> str | None:
    """The user already loaded or noted for this request, if any (never reads the database)."""
    if "user_id" in g:
        return str(g.user_id)
    user = g.get("api_user") or g.get("_login_user")
    return str(user.id) if user is not None and getattr(user, "is_authenticated", False) else None


def _replica_report() -> dict[str, object]:
    """Where reads go: the replica's health and lag as last measured (db/reads.py)."""
    reads = runtime().database.reads
    state = reads.state()
    lag_ms = None if state.lag is None else round(state.lag * 1000, 1)
    kind = "follower_reads" if reads.follower_reads else "replica" if reads.has_replica else "none"
    return {"kind": kind, "state": state.health.value, "lag_ms": lag_ms}


def install(app: Flask, settings: Settings) -> None:
    """Request ids, access logs and request metrics; /healthz, /readyz and /metrics."""

    @app.before_request
    def start() -> None:
        g.started = time.monotonic()
        # Since the worker accepted the connection or saw it readable (web/worker.py); the
        # time in the kernel's accept queue and in the front is bounded by the front.
        g.queued_at = serving.take_queued_at() or g.started
        g.request_id = _request_id()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=g.request_id, region=settings.region)
        until = g.queued_at + settings.bounds.request_ms / 1000
        g.deadline = deadlines.begin(until - ANSWER_RESERVE)
        if g.started >= until - ANSWER_RESERVE:
            # It waited for a thread past its deadline: the client has likely given up.
            raise deadlines.DeadlineExceeded("the request waited past its deadline")

    @app.teardown_request
    def lift_deadline(_: BaseException | None) -> None:
        if "deadline" in g:
            deadlines.end(g.pop("deadline"))

    @app.after_request
    def finish(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        now = time.monotonic()
        elapsed = now - g.get("started", now)
        labels = (settings.region, route, request.method, str(response.status_code))
        metrics.REQUESTS.labels(*labels).inc()
        metrics.LATENCY.labels(*labels).observe(elapsed)
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        if route not in QUIET_ROUTES:
            log.info(
                "request",
                method=request.method,
                route=route,
                path=request.path,
                status=response.status_code,
                duration_ms=round(elapsed * 1000, 2),
                queue_ms=round((g.started - g.queued_at) * 1000, 2) if "started" in g else 0.0,
                total_ms=round((now - g.get("queued_at", now)) * 1000, 2),
                user_id=_user_id(),
            )
        return response

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        """The process is alive (no database access)."""
        return {"status": "ok", "region": settings.region}

    @app.get("/readyz")
    def readyz() -> ResponseReturnValue:
        """Ready when the database answers and its schema is at this code's revision, and
        the process is not draining."""
        if serving.DRAINING.is_set():
            return jsonify(status="unavailable", reason="draining"), 503
        expected = head_revision()
        # The replica's state is reported, never a reason to be unready: reads fall back.
        replica = _replica_report()
        try:
            current = runtime().run(schema_revision)
        except (SQLAlchemyError, deadlines.DeadlineExceeded) as error:
            reason = f"database unreachable ({type(error).__name__})"
            return jsonify(status="unavailable", reason=reason, replica=replica), 503
        if current != expected:
            reason = f"schema at revision {current}, code expects {expected}: run movr db upgrade"
            return jsonify(status="unavailable", reason=reason, replica=replica), 503
        return {
            "status": "ready",
            "region": settings.region,
            "revision": current,
            "replica": replica,
        }

    active = ActiveRides(app.extensions[EXTENSION_KEY])
    app.extensions[ACTIVE_RIDES_KEY] = active

    @app.get("/metrics")
    def metrics_page() -> Response:
        """Prometheus text format, with no database access (see _metrics_refusal for who)."""
        refusal = _metrics_refusal(settings)
        if refusal is not None:
            return refusal
        body = metrics.exposition(settings, active.count)
        response = Response(body, mimetype=METRICS_TYPE)
        # Counters per route and status are operational detail: no cache may keep a copy.
        response.headers["Cache-Control"] = "no-store"
        return response
