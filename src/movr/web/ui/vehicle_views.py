"""Vehicles: list with map, add, retire; the city switcher."""

from __future__ import annotations

import math
import uuid

from flask import abort, flash, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from movr.services import vehicles
from movr.services.callers import UnknownCaller
from movr.services.errors import HomeRegionRequired, InvalidInput
from movr.services.pagination import NearbyPageRequest
from movr.services.positions import Position
from movr.web.auth import logged_out, login_required, session_caller, session_required
from movr.web.regions import requested_city, served_cities, served_here
from movr.web.runtime import runtime
from movr.web.ui.forms import ActionForm, AddVehicleForm, fail, text
from movr.web.ui.helpers import CITY_KEY, current_city, me, see_other


@login_required
def vehicles_page() -> str:
    """Vehicles of the current city, nearest first: cards or table, map, start buttons."""
    city = runtime().settings.region_map.city(current_city())
    rider = browser_position()
    origin = rider or Position(city.latitude, city.longitude)
    ask = NearbyPageRequest.parse(request.args.get("cursor"), request.args.get("size", type=int))
    page = runtime().run(vehicles.nearest_vehicles, city.id, origin, ask)
    return render_template(
        "vehicles.html", city=city, page=page, rider=rider, action_form=ActionForm()
    )


# ~11 m: enough to order vehicles, and all of the position this request ever sees.
POSITION_DECIMALS = 4


def browser_position() -> Position | None:
    """The rider's position sent by the browser (`?lat=&lng=`), for this request only: never
    stored or logged. Anything missing, malformed or off the globe is ignored (city-centre
    order), not refused: the list works without it."""
    try:
        latitude = float(request.args["lat"])
        longitude = float(request.args["lng"])
        if not (math.isfinite(latitude) and math.isfinite(longitude)):
            return None
        return Position(round(latitude, POSITION_DECIMALS), round(longitude, POSITION_DECIMALS))
    except (KeyError, ValueError, InvalidInput):
        return None


@login_required
def add_vehicle() -> BaseResponse | str | tuple[str, int]:
    """Add a vehicle in the owner's home city (or explain where to do it)."""
    app = runtime()
    home = app.settings.region_map.city(me().city)
    form = AddVehicleForm()
    if not served_here(app.settings, home.id):
        return _home_region_elsewhere(home.region, home.name), (
            422 if request.method == "POST" else 200
        )
    if not form.validate_on_submit():
        form.drop_bad_position()
        status = 422 if request.method == "POST" else 200
        return render_template("add_vehicle.html", form=form, home=home), status
    new = vehicles.NewVehicle(
        type=text(form.type),
        color=text(form.color),
        brand=text(form.brand),
        location=text(form.location),
        position=Position.optional(form.latitude.data, form.longitude.data),
    )
    try:
        cities = served_cities(app.settings)
        app.run(vehicles.add_vehicle, app.settings.region_map, me(), cities, new)
    except InvalidInput as error:
        fail(getattr(form, error.field), error.message)
        return render_template("add_vehicle.html", form=form, home=home), 422
    except HomeRegionRequired as error:
        return _home_region_elsewhere(error.region, home.name), 422
    session[CITY_KEY] = home.id
    flash(f"Your {new.type} is listed in {home.name}.", "success")
    return see_other(url_for("ui.vehicles"))


def _home_region_elsewhere(region: str, city_name: str) -> str:
    return render_template(
        "home_region.html",
        region=region,
        city_name=city_name,
        region_url=runtime().settings.region_urls.get(region),
    )


# Its one statement checks the session itself, as the ride actions' do.
@session_required
def remove_vehicle(vehicle_id: uuid.UUID) -> BaseResponse:
    """Retire one of your own vehicles (refused while it is ridden)."""
    caller = session_caller()
    assert caller is not None  # noqa: S101 -- session_required
    try:
        retired = runtime().run(vehicles.retire_vehicle, caller, vehicle_id)
    except UnknownCaller:  # the session was revoked or expired, or the account deleted
        return logged_out()
    flash("Vehicle retired.", "success")
    return see_other(url_for("ui.profile", user_id=retired.owner_id))


@login_required
def switch_city(city: str) -> BaseResponse:
    """Browse another city of this region."""
    settings = runtime().settings
    if city not in settings.region_map:
        abort(404)
    session[CITY_KEY] = requested_city(settings, city, home=me().city)
    return see_other(url_for("ui.vehicles"))
