"""Server-rendered pages: the tutorial's URLs and form fields."""

from flask import Blueprint

bp = Blueprint(
    "ui",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# The view modules register their routes on `bp` when imported.
from movr.web.ui import (  # noqa: E402, F401
    account_views,
    auth_views,
    filters,
    ride_views,
    vehicle_views,
)
