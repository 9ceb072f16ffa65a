"""Small pieces the page views share."""

from __future__ import annotations

from flask import redirect, render_template, request, session
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from movr.services.errors import DomainError
from movr.services.pagination import PageRequest
from movr.web.auth import CurrentUser
from movr.web.regions import default_city, served_here
from movr.web.runtime import runtime

CITY_KEY = "city"


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


def refused(error: DomainError, *, back: str, back_label: str) -> tuple[str, int]:
    """A page explaining why an action was refused, with the matching HTTP status."""
    html = render_template(
        "error.html",
        status=error.status,
        title="That did not work",
        message=error.message,
        back=back,
        back_label=back_label,
    )
    return html, error.status


def see_other(location: str) -> BaseResponse:
    """Redirect after a POST (303, so the browser follows with GET)."""
    return redirect(location, code=303)
