"""The region rule pages and API share (movr.web.regions), without a database."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask

from movr.config import Settings
from movr.services.errors import CityNotInRegion
from movr.web.regions import (
    CLIENT_REGION_HEADER,
    default_city,
    requested_city,
    served_cities,
    served_here,
    standing_in_for,
)
from tests.conftest import make_settings


@pytest.fixture
def east() -> Settings:
    return make_settings(region="gcp-us-east1")


def test_only_the_regions_own_cities_are_served_here(east: Settings) -> None:
    assert served_here(east, "boston")
    assert not served_here(east, "paris")
    assert not served_here(east, "atlantis")
    assert not served_here(east, None)


def test_the_default_city_is_home_if_served_here_else_the_regions_first(east: Settings) -> None:
    assert default_city(east, "boston") == "boston"
    assert default_city(east, "paris") == "new york"


def test_a_requested_city_must_be_served_here(east: Settings) -> None:
    assert requested_city(east, "boston", home="paris") == "boston"
    assert requested_city(east, None, home="paris") == "new york"


def test_a_city_served_elsewhere_is_refused_naming_its_region(east: Settings) -> None:
    with pytest.raises(CityNotInRegion, match="Paris is served by the gcp-europe-west1 region"):
        requested_city(east, "paris", home="boston")


def test_an_unknown_city_is_refused_listing_the_cities_served_here(east: Settings) -> None:
    with pytest.raises(CityNotInRegion, match=r"not served by this region \(new york, boston"):
        requested_city(east, "atlantis", home="boston")


@pytest.mark.parametrize(
    ("hops", "client", "stands_in_for"),
    [
        (1, "gcp-europe-west1", "gcp-europe-west1"),  # the load balancer fails Europe over here
        (1, "gcp-us-east1", None),  # our own clients
        (1, "mars-north1", None),  # not a region of the map
        (0, "gcp-europe-west1", None),  # no trusted proxy: anyone could have sent it
    ],
)
def test_the_client_region_adds_its_cities_only_behind_a_trusted_proxy(
    east: Settings, hops: int, client: str, stands_in_for: str | None
) -> None:
    settings = dataclasses.replace(east, proxy_hops=hops)
    with Flask(__name__).test_request_context(headers={CLIENT_REGION_HEADER: client}):
        assert standing_in_for(settings) == stands_in_for
        assert served_here(settings, "paris") is (stands_in_for is not None)
        assert served_cities(settings)[: len(east.cities)] == east.cities
