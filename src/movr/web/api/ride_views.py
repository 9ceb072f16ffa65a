"""Rides: start and end (idempotent), list, get."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from flask import Response, request
from sqlalchemy.orm import Session

from movr.services import idempotency, rides
from movr.services.errors import DomainError, InvalidInput
from movr.services.pagination import PageRequest
from movr.services.positions import Position
from movr.web import metrics
from movr.web.api import api
from movr.web.api.convert import ride_out
from movr.web.api.openapi import JSON
from movr.web.api.problems import MEDIA_TYPE, from_domain_error
from movr.web.api.schemas import EndRide, PageQuery, RideOut, RidePage, StartRide
from movr.web.auth import CurrentUser
from movr.web.runtime import runtime

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def idempotent(
    user: CurrentUser,
    operation: str,
    action: Callable[[Session], RideOut],
    status: int,
    on_success: Callable[[str], None],
) -> Response:
    """Run `action`; with an Idempotency-Key, store its first response or replay it.

    `on_success(region)` runs once per action that really happened (not for replays).
    """
    region = runtime().settings.region
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        ride = runtime().transact(action, operation)
        on_success(region)
        return Response(ride.model_dump_json(), status=status, mimetype=JSON)
    if not VALID_KEY.match(key):
        raise InvalidInput("Idempotency-Key", "Use 1 to 255 visible ASCII characters.")
    fingerprint = idempotency.request_fingerprint(request.method, request.path, request.get_data())
    home = runtime().settings.cities[0]  # keys live in the serving region: local writes

    def work(session: Session) -> tuple[idempotency.StoredResponse, bool]:
        stored = idempotency.claim(
            session, user.id, city=home, key=key, fingerprint=fingerprint,
            ttl=runtime().settings.idempotency_ttl,
        )  # fmt: skip
        if stored is not None:
            return stored, True
        try:
            with session.begin_nested():  # a refusal is stored too, without its partial writes
                ride = action(session)
            response = idempotency.StoredResponse(status, ride.model_dump_json())
        except DomainError as error:
            problem = from_domain_error(error)
            response = idempotency.StoredResponse(
                problem.status, problem.model_dump_json(exclude_none=True)
            )
        idempotency.store(session, user.id, key, response)
        return response, False

    stored, replayed = runtime().transact(work, operation)
    if not replayed and stored.status == status:
        on_success(region)
    mimetype = JSON if stored.status < 400 else MEDIA_TYPE
    response = Response(stored.body, status=stored.status, mimetype=mimetype)
    response.headers[REPLAYED_HEADER] = "true" if replayed else "false"
    return response


@api.operation(
    "POST", "/rides", summary="Start a ride", tag="rides", body=StartRide, response=RideOut,
    status=201, errors=(404, 409, 422), idempotent=True,
)  # fmt: skip
def start_ride(user: CurrentUser, body: StartRide) -> Response:
    """Start a ride on an available vehicle of this region."""
    cities = runtime().settings.cities
    return idempotent(
        user,
        "start_ride",
        lambda s: ride_out(rides.start_ride(s, user.id, body.vehicle_id, cities)),
        201,
        metrics.ride_started,
    )


@api.operation(
    "POST", "/rides/<uuid:ride_id>/end", summary="End your ride", tag="rides", body=EndRide,
    response=RideOut, errors=(404, 409), idempotent=True,
)  # fmt: skip
def end_ride(user: CurrentUser, ride_id: uuid.UUID, body: EndRide) -> Response:
    """End your active ride where you leave the vehicle."""
    position = Position.optional(body.latitude, body.longitude)
    return idempotent(
        user,
        "end_ride",
        lambda s: ride_out(
            rides.end_ride(s, user.id, ride_id, location=body.location, position=position)
        ),
        200,
        metrics.ride_ended,
    )


@api.operation(
    "GET", "/rides", summary="Your rides", tag="rides", query=PageQuery, response=RidePage
)
def list_rides(user: CurrentUser, query: PageQuery) -> RidePage:
    """Your rides, newest first."""
    page_ask = PageRequest.parse(query.cursor, query.limit)
    page = runtime().read(lambda s: rides.ride_history(s, user.id, page_ask), "ride_history")
    return RidePage(items=[ride_out(r) for r in page.items], next_cursor=page.next_cursor)


@api.operation(
    "GET", "/rides/<uuid:ride_id>", summary="One of your rides", tag="rides", response=RideOut,
    errors=(404,),
)  # fmt: skip
def get_ride(user: CurrentUser, ride_id: uuid.UUID) -> RideOut:
    """One of your own rides (anyone else's is not found)."""
    return runtime().read(lambda s: ride_out(rides.get_ride(s, user.id, ride_id)), "get_ride")
