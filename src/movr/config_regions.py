"""Where this instance stands: the region map, the region it serves, the regions' URLs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from movr.config_readers import ConfigError
from movr.regions import RegionMap, RegionMapError


def read_region_map(env: Mapping[str, str]) -> RegionMap:
    """The map in the MOVR_REGION_MAP file, or the built-in one if unset."""
    path = env.get("MOVR_REGION_MAP")
    if not path:
        return RegionMap.default()
    try:
        return RegionMap.from_file(Path(path))
    except RegionMapError as exc:
        raise ConfigError(f"MOVR_REGION_MAP: {exc}") from exc


def read_region(env: Mapping[str, str], region_map: RegionMap) -> str:
    """The region this instance serves: MOVR_REGION, or the map's primary region if unset."""
    region = env.get("MOVR_REGION") or region_map.primary_region
    if region not in region_map.regions:
        raise ConfigError(
            f"MOVR_REGION: {region!r} is not in the region map ({', '.join(region_map.regions)})"
        )
    return region


def read_region_urls(env: Mapping[str, str], region_map: RegionMap) -> dict[str, str]:
    """Each region's public URL, from `region=https://host,region=https://host`."""
    raw = env.get("MOVR_REGION_URLS", "").strip()
    urls: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        region, sep, url = item.partition("=")
        parts = urlsplit(url.strip())
        if not sep or region.strip() not in region_map.regions:
            raise ConfigError(f"MOVR_REGION_URLS: {item!r} is not region=url for a known region")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"MOVR_REGION_URLS: {url!r} is not an http(s) URL")
        urls[region.strip()] = url.strip().rstrip("/")
    return urls
