"""Rides: start and end (idempotent), list, get."""

from __future__ import annotations

import uuid

from flask import Response

from movr.services import rides
from movr.services.callers import Caller
from movr.services.pagination import PageRequest
from movr.services.positions import Position
from movr.web import metrics
from movr.web.api.convert import ride_out
from movr.web.api.idempotent import idempotent
from movr.web.api.openapi import operation
from movr.web.api.schemas import EndRide, PageQuery, RideOut, RidePage, StartRide
from movr.web.auth import CurrentUser
from movr.web.regions import served_cities
from movr.web.runtime import runtime


# The ride actions get a Caller: their one statement checks the token too (services.callers).
@operation(
    "POST", "/rides", summary="Start a ride", tag="rides", body=StartRide, response=RideOut,
    status=201, errors=(404, 409, 422), auth="caller", idempotent=True,
)  # fmt: skip
def start_ride(caller: Caller, body: StartRide) -> Response:
    """Start a ride on an available vehicle of this region."""
    cities = served_cities(runtime().settings)
    return idempotent(
        caller,
        body,
        act=lambda claim: runtime().run(rides.start_ride, caller, body.vehicle_id, cities, claim),
        render=lambda ride: ride_out(ride.as_started()),  # a replay, too, answers the start
        status=201,
        on_success=metrics.ride_started,
    )


@operation(
    "POST", "/rides/<uuid:ride_id>/end", summary="End your ride", tag="rides", body=EndRide,
    response=RideOut, errors=(404, 409), auth="caller", idempotent=True,
)  # fmt: skip
def end_ride(caller: Caller, ride_id: uuid.UUID, body: EndRide) -> Response:
    """End your active ride where you leave the vehicle."""
    position = Position.optional(body.latitude, body.longitude)
    return idempotent(
        caller,
        body,
        act=lambda claim: runtime().run(
            rides.end_ride,
            caller,
            ride_id,
            location=body.location,
            position=position,
            region_map=runtime().settings.region_map,
            claim=claim,
        ),
        render=ride_out,
        status=200,
        on_success=metrics.ride_ended,
    )


@operation("GET", "/rides", summary="Your rides", tag="rides", query=PageQuery, response=RidePage)
def list_rides(user: CurrentUser, query: PageQuery) -> RidePage:
    """Your rides, newest first."""
    page_ask = PageRequest.parse(query.cursor, query.limit)
    page = runtime().run(rides.ride_history, user.id, page_ask)
    return RidePage(items=[ride_out(r) for r in page.items], next_cursor=page.next_cursor)


@operation(
    "GET", "/rides/<uuid:ride_id>", summary="One of your rides", tag="rides", response=RideOut,
    errors=(404,),
)  # fmt: skip
def get_ride(user: CurrentUser, ride_id: uuid.UUID) -> RideOut:
    """One of your own rides (anyone else's is not found)."""
    return ride_out(runtime().run(rides.get_ride, user.id, ride_id))
