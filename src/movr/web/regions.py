"""The region rule, written once for pages and API: this instance serves its region's cities
(`Settings.cities`); any other city of the map is served by the region the map names."""

from __future__ import annotations

from movr.config import Settings
from movr.services.errors import CityNotInRegion


def served_here(settings: Settings, city_id: object) -> bool:
    """Whether this instance serves the city (False for a city the map does not know)."""
    return city_id in settings.cities


def default_city(settings: Settings, home: str) -> str:
    """The city shown when none was chosen: home if served here, else the region's first."""
    return home if served_here(settings, home) else settings.cities[0]


def requested_city(settings: Settings, city_id: str | None, *, home: str) -> str:
    """The city asked for, which this instance must serve; by default `default_city`.

    CityNotInRegion otherwise, naming the region that serves the city.
    """
    if city_id is None:
        return default_city(settings, home)
    if served_here(settings, city_id):
        return city_id
    if city_id not in settings.region_map:
        served = ", ".join(settings.cities)
        raise CityNotInRegion(f"{city_id!r} is not served by this region ({served}).")
    other = settings.region_map.city(city_id)
    raise CityNotInRegion(f"{other.name} is served by the {other.region} region, not this one.")
