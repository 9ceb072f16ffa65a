"""The JSON API at /api/v1, on the same services as the pages: every operation listed below."""

from __future__ import annotations

from flask import Blueprint

from movr.web.api import account_views, ride_views, vehicle_views
from movr.web.api.docs import Docs
from movr.web.api.openapi import Api

# In the order of the OpenAPI document.
OPERATIONS = (
    account_views.list_cities,
    account_views.register,
    account_views.create_token,
    account_views.revoke_token,
    account_views.get_me,
    account_views.delete_me,
    account_views.list_users,
    ride_views.start_ride,
    ride_views.end_ride,
    ride_views.list_rides,
    ride_views.get_ride,
    vehicle_views.list_vehicles,
    vehicle_views.add_vehicle,
    vehicle_views.retire_vehicle,
)


def create_blueprint() -> Blueprint:
    """The API's blueprint: every operation of OPERATIONS and the documentation built from them."""
    bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates")
    api = Api(bp)
    api.register(*OPERATIONS)
    docs = Docs(api)
    bp.add_url_rule("/openapi.json", "openapi_json", docs.openapi_json)
    bp.add_url_rule("/docs", "docs_page", docs.docs_page)
    return bp
