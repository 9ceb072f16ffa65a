"""Which cities the run rides in: those the target serves, optionally narrowed by --cities."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class CityError(ValueError):
    """The requested cities cannot be ridden at this target."""


@dataclass(frozen=True, slots=True)
class City:
    """A city a rider can live and ride in."""

    id: str
    latitude: float
    longitude: float


def choose_cities(items: Iterable[Mapping[str, Any]], wanted: tuple[str, ...]) -> list[City]:
    """Served cities from a `GET /api/v1/cities` body, limited to `wanted` if not empty."""
    served: dict[str, City] = {}
    known: set[str] = set()
    for item in items:
        city_id = str(item["id"])
        known.add(city_id)
        if item.get("served_here") is True:
            served[city_id] = City(city_id, float(item["latitude"]), float(item["longitude"]))
    if not wanted:
        if not served:
            raise CityError("the target serves no city")
        return list(served.values())
    unknown = [city for city in wanted if city not in known]
    if unknown:
        raise CityError(f"unknown cities: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    elsewhere = [city for city in wanted if city not in served]
    if elsewhere:
        # Riders there would only collect city_not_in_region refusals: refuse the run instead.
        raise CityError(
            f"not served by this region: {', '.join(elsewhere)} "
            f"(served here: {', '.join(served) or 'none'})"
        )
    return [served[city] for city in wanted]
