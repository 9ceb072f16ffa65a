"""The region map: which cities each cloud region serves, with centres and time zones."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Region and city names end up inside DDL (the region CASE expression) and URLs, so they are
# restricted to a conservative alphabet instead of being escaped at every use.
_REGION_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_CITY_NAME = re.compile(r"^[a-z][a-z .-]{0,62}$")


# How far from its centre a vehicle of a city may stand (`radius_km` in the map). The lower
# bound keeps demo seeding and `movr load`, which place vehicles within ~3 km, inside any map.
DEFAULT_RADIUS_KM = 50.0
MIN_RADIUS_KM, MAX_RADIUS_KM = 5.0, 500.0
EARTH_RADIUS_KM = 6371.0


class RegionMapError(ValueError):
    """The region map is malformed."""


@dataclass(frozen=True, slots=True)
class City:
    """A city MovR operates in."""

    id: str  # the tutorial's lowercase key, e.g. "new york"; stored in every row's `city`
    name: str  # display name
    region: str
    latitude: float
    longitude: float
    timezone: str
    radius_km: float = DEFAULT_RADIUS_KM

    def distance_km(self, latitude: float, longitude: float) -> float:
        """Great-circle distance from the city centre (haversine)."""
        phi1, phi2 = math.radians(self.latitude), math.radians(latitude)
        dphi, dlambda = phi2 - phi1, math.radians(longitude - self.longitude)
        a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
        return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))

    def reaches(self, latitude: float, longitude: float) -> bool:
        """True when the point is within the city's radius."""
        return self.distance_km(latitude, longitude) <= self.radius_km


@dataclass(frozen=True, slots=True)
class RegionMap:
    """Regions in order (the first is the primary region) and their cities."""

    cities_by_region: Mapping[str, tuple[City, ...]]

    @property
    def regions(self) -> tuple[str, ...]:
        """Region names, primary first."""
        return tuple(self.cities_by_region)

    @property
    def primary_region(self) -> str:
        """The first region: the database's primary region and the default serving region."""
        return self.regions[0]

    def cities(self, region: str | None = None) -> tuple[City, ...]:
        """All cities, or those of one region, in map order."""
        if region is not None:
            return self.cities_by_region[region]
        return tuple(city for cities in self.cities_by_region.values() for city in cities)

    def city(self, city_id: str) -> City:
        """The city with this key; KeyError if the map has none."""
        for city in self:
            if city.id == city_id:
                return city
        raise KeyError(city_id)

    def __contains__(self, city_id: object) -> bool:
        return any(city.id == city_id for city in self)

    def __iter__(self) -> Iterator[City]:
        return iter(self.cities())

    def cities_reaching(self, latitude: float, longitude: float) -> tuple[str, ...]:
        """Keys of the cities whose radius takes in the point."""
        return tuple(city.id for city in self if city.reaches(latitude, longitude))

    def region_of(self, city_id: str) -> str:
        """The region serving a city."""
        return self.city(city_id).region

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RegionMap:
        """Build and validate a map from `{region: [{city, name, lat, lng, tz, radius_km?}]}`."""
        if not isinstance(data, Mapping) or not data:
            raise RegionMapError("the region map must be a non-empty object of regions")
        seen: set[str] = set()
        by_region: dict[str, tuple[City, ...]] = {}
        for region, entries in data.items():
            if not _REGION_NAME.match(region):
                raise RegionMapError(f"bad region name {region!r}")
            if not isinstance(entries, list) or not entries:
                raise RegionMapError(f"region {region!r} needs a non-empty list of cities")
            cities = tuple(_parse_city(region, entry) for entry in entries)
            for city in cities:
                if city.id in seen:
                    raise RegionMapError(f"city {city.id!r} appears twice")
                seen.add(city.id)
            by_region[region] = cities
        return cls(by_region)

    @classmethod
    def from_file(cls, path: Path) -> RegionMap:
        """Load a map from a JSON file."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RegionMapError(f"cannot read {path}: {exc}") from exc
        return cls.from_mapping(data)

    @classmethod
    def default(cls) -> RegionMap:
        """The tutorial's three regions and nine cities."""
        text = resources.files("movr").joinpath("regions.json").read_text(encoding="utf-8")
        return cls.from_mapping(json.loads(text))


def _parse_city(region: str, entry: Any) -> City:
    try:
        city = City(
            id=str(entry["city"]),
            name=str(entry["name"]),
            region=region,
            latitude=float(entry["lat"]),
            longitude=float(entry["lng"]),
            timezone=str(entry["tz"]),
            radius_km=float(entry.get("radius_km", DEFAULT_RADIUS_KM)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RegionMapError(f"bad city entry in {region!r}: {entry!r}") from exc
    if not _CITY_NAME.match(city.id):
        raise RegionMapError(f"bad city key {city.id!r} (lowercase letters, spaces, '.', '-')")
    if not (-90 <= city.latitude <= 90 and -180 <= city.longitude <= 180):
        raise RegionMapError(f"city {city.id!r} has coordinates outside the globe")
    if not MIN_RADIUS_KM <= city.radius_km <= MAX_RADIUS_KM:
        raise RegionMapError(
            f"city {city.id!r}: radius_km must be between {MIN_RADIUS_KM:g} and {MAX_RADIUS_KM:g}"
        )
    try:
        ZoneInfo(city.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RegionMapError(f"city {city.id!r} has unknown time zone {city.timezone!r}") from exc
    return city
