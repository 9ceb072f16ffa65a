"""The region rule pages and API share (movr.web.regions), without a database."""

from __future__ import annotations

import pytest

from movr.config import Settings
from movr.services.errors import CityNotInRegion
from movr.web.regions import default_city, requested_city, served_here
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
