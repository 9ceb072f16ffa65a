"""Option parsing: durations, the action mix, cities, and the local-target rule."""

from __future__ import annotations

import pytest

from movr.loadgen.config import (
    LoadConfigError,
    check_target,
    parse_cities,
    parse_duration,
    parse_mix,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("60s", 60.0),
        ("500ms", 0.5),
        ("2m", 120.0),
        ("1m30s", 90.0),
        ("1h", 3600.0),
        ("1.5s", 1.5),
        (" 10S ", 10.0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "ten", "10 s", "10x", "-5s", "0", "0s", "1m30"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(LoadConfigError):
        parse_duration(text)


def test_zero_duration_only_when_allowed() -> None:
    assert parse_duration("0ms", allow_zero=True) == 0


def test_mix_keeps_positive_weights_in_order() -> None:
    mix = parse_mix("browse=60, ride=30,register=0,HISTORY=10")
    assert dict(mix.weights) == {"browse": 60, "ride": 30, "history": 10}
    assert mix.actions == ("browse", "ride", "history")
    assert mix.cumulative == (60, 90, 100)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fly=3", "action=weight"),
        ("browse", "action=weight"),
        ("browse=x", "whole number"),
        ("browse=-1", "negative"),
        ("browse=0", "positive weight"),
        ("ride=1,ride=2", "twice"),
    ],
)
def test_bad_mixes_are_refused(text: str, message: str) -> None:
    with pytest.raises(LoadConfigError, match=message):
        parse_mix(text)


def test_cities_are_trimmed_lowercased_and_deduplicated() -> None:
    assert parse_cities(" New York,boston,new york, ") == ("new york", "boston")
    with pytest.raises(LoadConfigError):
        parse_cities(" , ")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000", "http://localhost:8000/", "http://[::1]:8000", "https://LOCALHOST"],
)
def test_local_targets_are_accepted(url: str) -> None:
    assert not check_target(url, allow_remote=False).endswith("/")


@pytest.mark.parametrize(
    "url",
    ["http://example.com", "http://10.0.0.5:8000", "http://127.0.0.2", "http://localhost.evil.io"],
)
def test_remote_targets_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(LoadConfigError, match="--allow-remote"):
        check_target(url, allow_remote=False)
    assert check_target(url, allow_remote=True) == url


@pytest.mark.parametrize("url", ["ftp://localhost", "localhost:8000", "http://localhost/?x=1"])
def test_malformed_targets_are_refused(url: str) -> None:
    with pytest.raises(LoadConfigError):
        check_target(url, allow_remote=True)
