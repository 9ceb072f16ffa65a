"""Vehicles: list by city, add, retire."""

from __future__ import annotations

import uuid

from movr.services import vehicles
from movr.services.callers import Caller
from movr.services.pagination import PageRequest
from movr.services.positions import Position
from movr.web.api.convert import vehicle_out
from movr.web.api.openapi import operation
from movr.web.api.schemas import CityPageQuery, NewVehicle, VehicleOut, VehiclePage
from movr.web.auth import CurrentUser
from movr.web.regions import requested_city, served_cities
from movr.web.runtime import runtime


@operation(
    "GET", "/vehicles", summary="Vehicles in a city", tag="vehicles", query=CityPageQuery,
    response=VehiclePage,
)  # fmt: skip
def list_vehicles(user: CurrentUser, query: CityPageQuery) -> VehiclePage:
    """Vehicles of a city served by this region that are not retired, newest first."""
    city = requested_city(runtime().settings, query.city, home=user.city)
    page_ask = PageRequest.parse(query.cursor, query.limit)
    page = runtime().run(vehicles.list_city_vehicles, city, page_ask)
    return VehiclePage(
        items=[vehicle_out(vehicle, user.id) for vehicle in page.items],
        next_cursor=page.next_cursor,
    )


@operation(
    "POST", "/vehicles", summary="Add a vehicle in your home city", tag="vehicles",
    body=NewVehicle, response=VehicleOut, status=201,
)  # fmt: skip
def add_vehicle(user: CurrentUser, body: NewVehicle) -> VehicleOut:
    """List your vehicle in your home city (its region's instance must serve it)."""
    app = runtime()
    new = vehicles.NewVehicle(
        type=body.type,
        color=body.color,
        brand=body.brand,
        location=body.location,
        position=Position.optional(body.latitude, body.longitude),
    )
    added = app.run(
        vehicles.add_vehicle, app.settings.region_map, user, served_cities(app.settings), new
    )
    return vehicle_out(added, user.id)


# A Caller, as for the ride actions: the retirement's one statement checks the token too.
@operation(
    "DELETE", "/vehicles/<uuid:vehicle_id>", summary="Retire your vehicle", tag="vehicles",
    errors=(404, 409), auth="caller",
)  # fmt: skip
def retire_vehicle(caller: Caller, vehicle_id: uuid.UUID) -> None:
    """Retire one of your vehicles; refused while it is ridden."""
    runtime().run(vehicles.retire_vehicle, caller, vehicle_id)
