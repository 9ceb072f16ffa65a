"""Rides: history with the active ride, start, end."""

from __future__ import annotations

import uuid

from flask import flash, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from movr.services import rides
from movr.services.errors import InvalidInput
from movr.services.positions import Position
from movr.web import metrics
from movr.web.auth import login_required, session_caller, session_required
from movr.web.regions import served_cities
from movr.web.runtime import runtime
from movr.web.ui.forms import EndRideForm, fail, text
from movr.web.ui.helpers import me, page_request, see_other


def _rides_page(form: EndRideForm) -> str:
    page = runtime().run(rides.ride_history, me().id, page_request())
    active = next((ride for ride in page.items if ride.active), None)
    return render_template("rides.html", page=page, active=active, end_form=form)


@login_required
def rides_page() -> str:
    """Your rides, newest first; the active one with its duration and an end form."""
    return _rides_page(EndRideForm())


# The ride actions' one statement checks the session itself: one round trip to the primary.
@session_required
def start_ride(vehicle_id: uuid.UUID) -> BaseResponse:
    """Start a ride on an available vehicle of this region."""
    rider = session_caller()
    assert rider is not None  # noqa: S101 -- session_required
    ride = runtime().run(rides.start_ride, rider, vehicle_id, served_cities(runtime().settings))
    metrics.ride_started(runtime().settings.region)
    flash(
        f"Ride started on the {ride.vehicle_color} {ride.vehicle_brand} {ride.vehicle_type}.",
        "success",
    )
    return see_other(url_for("ui.rides"))


@session_required
def end_ride(ride_id: uuid.UUID) -> BaseResponse | str | tuple[str, int]:
    """End your active ride where you leave the vehicle."""
    form = EndRideForm()
    if not form.validate_on_submit():
        form.drop_bad_position()
        return _rides_page(form), 422
    rider = session_caller()
    assert rider is not None  # noqa: S101 -- session_required
    try:
        position = Position.optional(form.latitude.data, form.longitude.data)
        ride = runtime().run(
            rides.end_ride,
            rider,
            ride_id,
            location=text(form.location),
            position=position,
            region_map=runtime().settings.region_map,
        )
    except InvalidInput as error:
        fail(form.location, error.message)
        return _rides_page(form), 422
    metrics.ride_ended(runtime().settings.region)
    flash(f"Ride ended at {ride.end_location}. Cost: ${ride.revenue}.", "success")
    return see_other(url_for("ui.rides"))
