"""Map positions chosen by users (a click on the map)."""

from __future__ import annotations

from dataclasses import dataclass

from movr.regions import City
from movr.services.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class Position:
    """A point on the globe; constructing one validates it."""

    latitude: float
    longitude: float

    def __post_init__(self) -> None:
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise InvalidInput("latitude", "That position is not on the map.")

    @classmethod
    def optional(cls, latitude: float | None, longitude: float | None) -> Position | None:
        """A position from two optional coordinates: both or neither."""
        if latitude is None and longitude is None:
            return None
        if latitude is None or longitude is None:
            raise InvalidInput("latitude", "Give both latitude and longitude, or neither.")
        return cls(latitude, longitude)


def outside_city(position: Position, city: City) -> InvalidInput:
    """The error for a position beyond the city's radius (pages and API say the same)."""
    distance = city.distance_km(position.latitude, position.longitude)
    return InvalidInput(
        "latitude",
        f"That position is {distance:,.0f} km from the centre of {city.name}; "
        f"choose one within {city.radius_km:g} km.",
    )
