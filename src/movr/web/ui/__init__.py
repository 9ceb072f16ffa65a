"""Server-rendered pages: the tutorial's URLs and form fields, every route listed below."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint

from movr.web.ui import account_views, auth_views, filters, ride_views, vehicle_views

GET = ("GET",)
POST = ("POST",)
FORM = ("GET", "POST")  # a page with a form that posts back to itself


@dataclass(frozen=True, slots=True)
class Route:
    """One URL rule of the pages: `url_for("ui.<endpoint>")` names it."""

    rule: str
    endpoint: str
    view: Callable[..., Any]
    methods: tuple[str, ...] = GET


ROUTES = (
    Route("/", "index", auth_views.index),
    Route("/login", "login", auth_views.login, FORM),
    Route("/logout", "logout", auth_views.logout, FORM),
    Route("/register", "register", auth_views.register, FORM),
    Route("/vehicles", "vehicles", vehicle_views.vehicles_page),
    Route("/vehicles/add", "add_vehicle", vehicle_views.add_vehicle, FORM),
    Route(
        "/vehicles/remove/<uuid:vehicle_id>", "remove_vehicle", vehicle_views.remove_vehicle, POST
    ),
    Route("/city/<city>", "switch_city", vehicle_views.switch_city, POST),
    Route("/rides", "rides", ride_views.rides_page),
    Route("/rides/start/<uuid:vehicle_id>", "start_ride", ride_views.start_ride, POST),
    Route("/rides/end/<uuid:ride_id>", "end_ride", ride_views.end_ride, POST),
    Route("/users", "users", account_views.users_page),
    Route("/users/<uuid:user_id>", "profile", account_views.profile),
    Route("/users/remove/<uuid:user_id>", "remove_user", account_views.remove_user, POST),
)


def create_blueprint() -> Blueprint:
    """The pages' blueprint, with every route of ROUTES, the template filters and the assets."""
    bp = Blueprint(
        "ui",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    for route in ROUTES:
        bp.add_url_rule(route.rule, route.endpoint, route.view, methods=list(route.methods))
    filters.install(bp)
    return bp
