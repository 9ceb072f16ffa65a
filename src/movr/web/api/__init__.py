"""The JSON API at /api/v1, on the same services as the pages."""

from flask import Blueprint

from movr.web.api.openapi import Api

bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates")
api = Api(bp)

# The view modules declare their operations on `api` when imported.
from movr.web.api import account_views, docs, ride_views, vehicle_views  # noqa: E402, F401
