"""The region map: the default, replacement files, and validation."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from movr.config import Settings
from movr.regions import RegionMap, RegionMapError


def test_default_map_is_the_tutorials() -> None:
    regions = RegionMap.default()
    assert regions.regions == ("gcp-us-east1", "gcp-us-west1", "gcp-europe-west1")
    assert len(regions.cities()) == 9
    assert regions.region_of("paris") == "gcp-europe-west1"
    assert regions.city("new york").name == "New York"
    assert "atlantis" not in regions


def test_a_file_replaces_the_map_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "regions.json"
    path.write_text(
        json.dumps(
            {
                "aws-ap-southeast2": [
                    {
                        "city": "sydney",
                        "name": "Sydney",
                        "lat": -33.87,
                        "lng": 151.21,
                        "tz": "Australia/Sydney",
                    }
                ]
            }
        )
    )
    settings = Settings.from_env(
        {
            "SECRET_KEY": secrets.token_urlsafe(32),
            "MOVR_DATA_DIR": str(tmp_path),
            "MOVR_REGION_MAP": str(path),
        }
    )
    assert settings.region == "aws-ap-southeast2"
    assert settings.cities == ("sydney",)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"Bad Region": [{"city": "x", "name": "X", "lat": 0, "lng": 0, "tz": "UTC"}]},
        {"r1": [{"city": "x'; drop", "name": "X", "lat": 0, "lng": 0, "tz": "UTC"}]},
        {"r1": [{"city": "x", "name": "X", "lat": 95, "lng": 0, "tz": "UTC"}]},
        {"r1": [{"city": "x", "name": "X", "lat": 0, "lng": 0, "tz": "Mars/Olympus"}]},
        {
            "r1": [{"city": "x", "name": "X", "lat": 0, "lng": 0, "tz": "UTC"}],
            "r2": [{"city": "x", "name": "X", "lat": 0, "lng": 0, "tz": "UTC"}],
        },
        {"r1": [{"city": "x"}]},
        {"r1": [{"city": "x", "name": "X", "lat": 0, "lng": 0, "tz": "UTC", "radius_km": 1}]},
        {"r1": [{"city": "x", "name": "X", "lat": 0, "lng": 0, "tz": "UTC", "radius_km": "far"}]},
    ],
)
def test_malformed_maps_are_rejected(data: dict[str, object]) -> None:
    with pytest.raises(RegionMapError):
        RegionMap.from_mapping(data)


def test_each_city_reaches_its_radius() -> None:
    regions = RegionMap.default()
    new_york = regions.city("new york")
    assert new_york.radius_km == 50  # the default
    assert round(new_york.distance_km(42.3601, -71.0589)) == 306  # Boston
    assert regions.cities_reaching(40.75, -73.98) == ("new york",)
    assert regions.cities_reaching(-33.87, 151.21) == ()
    wide = RegionMap.from_mapping(
        {"r1": [{"city": "x", "name": "X", "lat": 0, "lng": 0, "tz": "UTC", "radius_km": 400}]}
    )
    assert wide.cities_reaching(0, 3) == ("x",)  # ~334 km east
