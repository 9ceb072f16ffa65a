"""The round-trip matrix: the tutorial's default, replacement files, scaling, failover order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from movr.simulation.matrix import MatrixError, RoundTrips

EAST, WEST, EUROPE = "gcp-us-east1", "gcp-us-west1", "gcp-europe-west1"


def test_default_matrix_is_cockroach_demo_global() -> None:
    matrix = RoundTrips.default()
    assert matrix.regions == (EAST, WEST, EUROPE)
    assert matrix.rtt(EAST, WEST) == matrix.rtt(WEST, EAST) == pytest.approx(0.066)
    assert matrix.rtt(EAST, EUROPE) == pytest.approx(0.064)
    assert matrix.rtt(WEST, EUROPE) == pytest.approx(0.146)
    assert matrix.rtt(EUROPE, EUROPE) == 0
    assert matrix.rtt_ms(EUROPE, WEST) == 146


@pytest.mark.parametrize(
    ("region", "order"),
    [
        (EAST, [EAST, EUROPE, WEST]),
        (WEST, [WEST, EAST, EUROPE]),
        (EUROPE, [EUROPE, EAST, WEST]),
    ],
)
def test_nearest_orders_regions_by_round_trip_itself_first(region: str, order: list[str]) -> None:
    assert RoundTrips.default().nearest(region) == order


def test_scaled_multiplies_every_round_trip() -> None:
    matrix = RoundTrips.default().scaled(0.25)
    assert matrix.rtt_ms(WEST, EUROPE) == pytest.approx(36.5)
    assert matrix.rtt(EAST, WEST) == pytest.approx(0.0165)
    assert matrix.nearest(WEST) == [WEST, EAST, EUROPE]
    with pytest.raises(MatrixError, match="scale factor"):
        RoundTrips.default().scaled(-1)


def test_unknown_region_is_refused_by_name() -> None:
    with pytest.raises(MatrixError, match="unknown region 'mars'"):
        RoundTrips.default().rtt(EAST, "mars")


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "rtt.json"
    path.write_text(json.dumps(data))
    return path


def test_a_file_replaces_the_matrix_either_direction_or_both(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            EAST: {WEST: 70, EUROPE: 80},
            WEST: {EAST: 70, EUROPE: 150.5, WEST: 1},
        },
    )
    matrix = RoundTrips.from_file(path)
    assert matrix.rtt_ms(EUROPE, EAST) == 80
    assert matrix.rtt_ms(EUROPE, WEST) == 150.5
    assert matrix.rtt_ms(WEST, WEST) == 1  # within a region, if the file says so
    assert matrix.rtt_ms(EAST, EAST) == 0
    assert RoundTrips.from_file(_write(tmp_path, matrix.as_dict())) == matrix


def test_a_file_may_name_other_regions_when_told_which(tmp_path: Path) -> None:
    path = _write(tmp_path, {"a": {"b": 10, "c": 30}, "b": {"c": 20}})
    matrix = RoundTrips.from_file(path, regions=["a", "b", "c"])
    assert matrix.nearest("c") == ["c", "b", "a"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "expected a JSON object"),
        ({}, "expected a JSON object"),
        ({EAST: {WEST: -1, EUROPE: 64}, WEST: {EUROPE: 146}}, "not a non-negative number"),
        ({EAST: {WEST: "66", EUROPE: 64}, WEST: {EUROPE: 146}}, "not a non-negative number"),
        ({EAST: {WEST: True, EUROPE: 64}, WEST: {EUROPE: 146}}, "not a non-negative number"),
        ({EAST: {"gcp-mars1": 66}}, "unknown region 'gcp-mars1'"),
        ({EAST: 66}, "expected an object of round-trip times"),
        ({EAST: {WEST: 66, EUROPE: 64}}, "no round-trip time for gcp-us-west1<->gcp-europe-west1"),
        (
            {EAST: {WEST: 66, EUROPE: 64}, WEST: {EAST: 67, EUROPE: 146}},
            "66 ms one way and 67 ms the other",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_the_file(tmp_path: Path, data: Any, message: str) -> None:
    path = _write(tmp_path, data)
    with pytest.raises(MatrixError, match=message) as raised:
        RoundTrips.from_file(path)
    assert str(raised.value).startswith(f"round-trip matrix {path}: ")


def test_unreadable_files_are_refused_naming_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    for path in (broken, tmp_path / "missing.json"):
        with pytest.raises(MatrixError, match=f"round-trip matrix {path}: "):
            RoundTrips.from_file(path)
