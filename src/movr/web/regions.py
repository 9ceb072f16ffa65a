"""The region rule, written once for pages and API: this instance serves its region's cities
(`Settings.cities`); any other city of the map is served by the region the map names.

One exception makes failover useful: the global load balancer names the client's region in
`X-MovR-Client-Region` (it overwrites whatever a client sent), and sends a region's clients
elsewhere only while that region's app is down. An instance then stands in for the client's
region and serves its cities too, at the price of round trips to rows homed far away. The
header is a forwarded header: it is believed only behind a trusted proxy (MOVR_PROXY_HOPS).
"""

from __future__ import annotations

from flask import has_request_context, request

from movr.config import Settings
from movr.services.errors import CityNotInRegion

CLIENT_REGION_HEADER = "X-MovR-Client-Region"


def standing_in_for(settings: Settings) -> str | None:
    """The client's region this request's instance stands in for, if any (another region of
    the map, named by the trusted load balancer)."""
    if not settings.proxy_hops or not has_request_context():
        return None
    client = request.headers.get(CLIENT_REGION_HEADER)
    if client == settings.region or client not in settings.region_map.regions:
        return None
    return client


def served_cities(settings: Settings) -> tuple[str, ...]:
    """Keys of the cities this request may use: the region's, and those of the region this
    instance stands in for."""
    client = standing_in_for(settings)
    if client is None:
        return settings.cities
    return settings.cities + tuple(city.id for city in settings.region_map.cities(client))


def served_here(settings: Settings, city_id: object) -> bool:
    """Whether this request's instance serves the city (False for a city the map does not know)."""
    return city_id in served_cities(settings)


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
        served = ", ".join(served_cities(settings))
        raise CityNotInRegion(f"{city_id!r} is not served by this region ({served}).")
    other = settings.region_map.city(city_id)
    raise CityNotInRegion(f"{other.name} is served by the {other.region} region, not this one.")
