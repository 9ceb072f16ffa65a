"""Small pieces the page views share."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, redirect, request, session, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from movr.services.pagination import PageRequest
from movr.web.auth import CurrentUser
from movr.web.regions import default_city, served_here
from movr.web.runtime import runtime
from movr.web.security import is_safe_next

CITY_KEY = "city"
# Labels of the links back from a refused action's error page (any other page: "Back").
BACK_LABELS = {
    "ui.vehicles": "Vehicles",
    "ui.rides": "Your rides",
    "ui.profile": "Your profile",
    "ui.users": "Users",
}


def me() -> CurrentUser:
    """The logged-in user (views using this are behind @login_required)."""
    user: CurrentUser = current_user._get_current_object()
    return user


def current_city() -> str:
    """The city being browsed: the chosen one, else home if served here, else the first."""
    settings = runtime().settings
    chosen = session.get(CITY_KEY)
    # A choice this instance does not serve (the region map changed) is ignored, not refused.
    if served_here(settings, chosen):
        return str(chosen)
    return default_city(settings, me().city)


def page_request() -> PageRequest:
    """The page asked for by `?cursor=` (bad cursors are a DomainError: 422)."""
    return PageRequest.parse(request.args.get("cursor"), request.args.get("size", type=int))


def back_link() -> tuple[str, str]:
    """Where the error page of a refused action leads back to, and the link's label: the page
    the action was sent from (a same-site Referer naming one of the pages), else the vehicles."""
    referer = urlsplit(request.referrer or "")
    if referer.netloc == request.host and referer.scheme in ("http", "https"):
        target = referer.path + (f"?{referer.query}" if referer.query else "")
        endpoint = _page_endpoint(target)
        if endpoint is not None:
            return target, BACK_LABELS.get(endpoint, "Back")
    return url_for("ui.vehicles"), BACK_LABELS["ui.vehicles"]


def _page_endpoint(target: str) -> str | None:
    """The endpoint of the page a browser would GET at `target`, if it is one of the pages."""
    if not is_safe_next(target):
        return None
    adapter = current_app.create_url_adapter(request)
    if adapter is None:  # only outside a request
        return None
    try:
        endpoint, _ = adapter.match(urlsplit(target).path, method="GET")
    except HTTPException:  # not a page, not one for GET, or a redirect
        return None
    page = str(endpoint)
    return page if page.startswith("ui.") and page != "ui.static" else None


def see_other(location: str) -> BaseResponse:
    """Redirect after a POST (303, so the browser follows with GET)."""
    return redirect(location, code=303)
