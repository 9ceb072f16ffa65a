"""Request and response bodies of the JSON API (pydantic): they validate and document."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from movr.models.base import BRAND_MAX, CITY_MAX, COLOR_MAX, LOCATION_MAX, NAME_MAX, USERNAME_MAX
from movr.models.vehicle import VehicleStatus
from movr.services.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from movr.services.users import PASSWORD_MAX, PASSWORD_MIN
from movr.web.text_rules import FREE_TEXT, NO_CONTROL

Text = Annotated[str, StringConstraints(min_length=1, pattern=FREE_TEXT)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
# Both coordinates or neither (a click on the map gives both). Optional coordinates are typed
# `float` with a None default that is never validated: an explicit JSON null is rejected, as
# the documented schema (a number) says, while an absent field stays None.
POSITION = ConfigDict(
    extra="forbid",
    strict=True,
    json_schema_extra={"dependentRequired": {"latitude": ["longitude"], "longitude": ["latitude"]}},
)
Cursor = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


class Strict(BaseModel):
    """Request bodies: unknown fields are errors, and JSON types are not coerced (false is
    not a number)."""

    model_config = ConfigDict(extra="forbid", strict=True)


# Requests


class Registration(Strict):
    """A new account."""

    city: Annotated[str, Field(max_length=CITY_MAX, description="A city key from /cities")]
    first_name: Annotated[Text, Field(max_length=NAME_MAX)]
    last_name: Annotated[Text, Field(max_length=NAME_MAX)]
    # Deliberately loose (one @, no spaces or controls): addresses are for contact, not identity,
    # and a stricter validator would refuse what the documented schema accepts.
    email: Annotated[str, Field(max_length=254, pattern=r"^[^@\x00-\x20\x7f]+@[^@\x00-\x20\x7f]+$")]
    username: Annotated[
        str, Field(min_length=3, max_length=USERNAME_MAX, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    ]
    password: Annotated[str, Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)]


class Credentials(Strict):
    """Username and password for a token."""

    username: Annotated[str, Field(min_length=1, max_length=USERNAME_MAX, pattern=NO_CONTROL)]
    password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX)]


class NewVehicle(Strict):
    """A vehicle to list in your home city."""

    type: Literal["bike", "scooter", "skateboard"]
    color: Annotated[Text, Field(max_length=COLOR_MAX)]
    brand: Annotated[Text, Field(max_length=BRAND_MAX)]
    location: Annotated[Text, Field(max_length=LOCATION_MAX)]
    latitude: Latitude = Field(default=None, validate_default=False)  # type: ignore[assignment]
    longitude: Longitude = Field(default=None, validate_default=False)  # type: ignore[assignment]

    model_config = POSITION


class StartRide(Strict):
    """Which vehicle to ride."""

    vehicle_id: uuid.UUID


class EndRide(Strict):
    """Where the vehicle is left."""

    location: Annotated[Text, Field(max_length=LOCATION_MAX)]
    latitude: Latitude = Field(default=None, validate_default=False)  # type: ignore[assignment]
    longitude: Longitude = Field(default=None, validate_default=False)  # type: ignore[assignment]

    model_config = POSITION


class PageQuery(BaseModel):
    """Keyset pagination parameters (query strings: "5" is the number 5)."""

    model_config = ConfigDict(extra="forbid")

    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE
    cursor: Cursor | None = None


class CityPageQuery(PageQuery):
    """Pagination within a city (default: your current city)."""

    city: Annotated[str, Field(min_length=1, max_length=CITY_MAX)] | None = None


# Responses


class CityOut(BaseModel):
    """A city of the region map."""

    id: str
    name: str
    region: str
    latitude: float
    longitude: float
    timezone: str
    served_here: bool


class CityList(BaseModel):
    """All cities."""

    items: list[CityOut]


class Me(BaseModel):
    """Your own account."""

    id: uuid.UUID
    city: str
    first_name: str
    last_name: str
    email: str
    username: str
    created_at: datetime


class Token(BaseModel):
    """A bearer token, shown once."""

    token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 -- the scheme's name, not a secret
    expires_at: datetime
    user: Me


class CityUserOut(BaseModel):
    """Someone in a city, as others may see them."""

    display_name: str
    is_owner: bool


class CityUserPage(BaseModel):
    """A page of users."""

    items: list[CityUserOut]
    next_cursor: str | None


class VehicleOut(BaseModel):
    """A vehicle."""

    id: uuid.UUID
    city: str
    type: str
    color: str
    brand: str
    location: str | None
    latitude: float | None
    longitude: float | None
    # The members as a Literal, not the enum: the document keeps an inline enum of strings
    # (no VehicleStatus component), and mypy flags this line if a status is added.
    status: Literal[VehicleStatus.AVAILABLE, VehicleStatus.IN_USE, VehicleStatus.REMOVED]
    date_added: datetime
    is_mine: bool


class VehiclePage(BaseModel):
    """A page of vehicles."""

    items: list[VehicleOut]
    next_cursor: str | None


class RideOut(BaseModel):
    """A ride."""

    id: uuid.UUID
    city: str
    vehicle_id: uuid.UUID
    vehicle_type: str
    vehicle_brand: str
    vehicle_color: str
    start_location: str | None
    end_location: str | None
    start_time: datetime
    end_time: datetime | None
    length_seconds: float | None
    revenue: Decimal | None
    active: bool


class RidePage(BaseModel):
    """A page of rides."""

    items: list[RideOut]
    next_cursor: str | None


class FieldError(BaseModel):
    """One invalid field."""

    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldError] | None = None
