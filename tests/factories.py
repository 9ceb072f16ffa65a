"""Small typed factories that build data through the services."""

from __future__ import annotations

import itertools
import uuid
from typing import ParamSpec, TypeVar

from sqlalchemy.orm import Session

from movr.db.units import Operation
from movr.models import User, Vehicle
from movr.regions import RegionMap
from movr.services import users, vehicles
from movr.services.passwords import fast_hasher
from movr.services.positions import Position

P = ParamSpec("P")
T = TypeVar("T")


class OnSession:
    """A Runner (db/units.py) that runs every operation on one test session."""

    def __init__(self, session: Session) -> None:
        """Run on `session`."""
        self.session = session

    def run(self, operation: Operation[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Call the operation on the session, whatever its kind."""
        return operation(self.session, *args, **kwargs)


_counter = itertools.count(1)
_HASHER = fast_hasher()
PASSWORD = "correct horse battery"


def make_user(session: Session, **overrides: str) -> User:
    """A registered user (home city New York unless overridden)."""
    n = next(_counter)
    values = {
        "city": "new york",
        "first_name": "Rider",
        "last_name": f"Number{n}",
        "email": f"rider{n}@example.com",
        "username": f"rider{n}-{uuid.uuid4().hex[:6]}",
        "password": PASSWORD,
    } | overrides
    return users.register_user(session, _HASHER, RegionMap.default(), users.Registration(**values))


def make_vehicle(
    session: Session, owner: User, position: Position | None = None, **overrides: str
) -> Vehicle:
    """An available vehicle of `owner`, in their home city (at its centre unless placed)."""
    region_map = RegionMap.default()
    values = {"type": "scooter", "color": "red", "brand": "Acme", "location": "Main St"} | overrides
    return vehicles.add_vehicle(
        session,
        region_map,
        owner,
        [city.id for city in region_map.cities(region_map.region_of(owner.city))],
        vehicles.NewVehicle(**values, position=position),
    )
