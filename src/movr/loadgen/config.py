"""Options of a load run, parsed and validated before anything is sent."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

ACTIONS = ("browse", "ride", "register", "history", "add", "retire")
# "A few add or retire vehicles" (issue 6): adding happens as riders join or find a city empty;
# retiring has its own small weight.
DEFAULT_MIX = "browse=59,ride=30,register=5,history=5,retire=1"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

if TYPE_CHECKING:
    from movr.loadgen.regions import ClientRegions


class LoadConfigError(ValueError):
    """An option is malformed; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Mix:
    """Relative weights of the rider actions (only positive weights are kept)."""

    weights: Mapping[str, int]

    @property
    def actions(self) -> tuple[str, ...]:
        """Actions in a stable order, for weighted choice."""
        return tuple(self.weights)

    @property
    def cumulative(self) -> tuple[int, ...]:
        """Running totals of the weights, in the order of `actions`."""
        totals: list[int] = []
        running = 0
        for action in self.actions:
            running += self.weights[action]
            totals.append(running)
        return tuple(totals)


@dataclass(frozen=True, slots=True)
class LoadConfig:
    """Everything a load run needs to know."""

    url: str
    duration: float | None = 60.0  # seconds; None: until max_requests
    concurrency: int = 16
    seed: int = 0
    cities: tuple[str, ...] = ()  # empty: every city served by the target
    mix: Mix = field(default_factory=lambda: parse_mix(DEFAULT_MIX))
    json_path: Path | None = None
    database_url: str | None = None  # None: DATABASE_URL, else the embedded MOVR_DATA_DIR server
    max_requests: int | None = None
    allow_remote: bool = False
    request_timeout: float = 10.0
    ride_pause: float = 0.2  # longest pause between starting and ending a ride, seconds
    popular: int = 3  # vehicles per city that riders prefer, so that they contend on purpose
    metrics_token: str | None = None
    # `movr global`'s client regions: riders spread over their entries (`url` is then the
    # first entry's); None: every rider uses `url`.
    client_regions: ClientRegions | None = None


def parse_duration(text: str, *, allow_zero: bool = False) -> float:
    """Seconds in `90`, `60s`, `500ms`, `2m` or `1m30s` (positive, or zero if allowed)."""
    raw = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        seconds = float(raw)
    else:
        parts = _DURATION_PART.findall(raw)
        if not parts or "".join(number + unit for number, unit in parts) != raw:
            raise LoadConfigError(f"{text!r} is not a duration like 60s, 500ms, 2m or 1m30s")
        seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise LoadConfigError(f"{text!r}: a duration must be positive")
    return seconds


def parse_mix(text: str) -> Mix:
    """Weights from `browse=60,ride=30,register=5,history=5,retire=1` (unnamed ones weigh 0)."""
    weights: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, raw_weight = item.partition("=")
        name = name.strip().lower()
        if not sep or name not in ACTIONS:
            raise LoadConfigError(
                f"{item!r} is not action=weight with an action among {', '.join(ACTIONS)}"
            )
        if name in weights:
            raise LoadConfigError(f"{name!r} appears twice in the mix")
        try:
            weight = int(raw_weight.strip())
        except ValueError:
            raise LoadConfigError(f"{item!r}: the weight must be a whole number") from None
        if weight < 0:
            raise LoadConfigError(f"{item!r}: the weight must not be negative")
        weights[name] = weight
    kept = {name: weight for name, weight in weights.items() if weight > 0}
    if not kept:
        raise LoadConfigError(f"{text!r}: at least one action needs a positive weight")
    return Mix(MappingProxyType(kept))


def parse_cities(text: str) -> tuple[str, ...]:
    """City keys from `new york,boston` (order kept, duplicates dropped)."""
    cities = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not cities:
        raise LoadConfigError(f"{text!r} names no city")
    return tuple(dict.fromkeys(cities))


def check_target(url: str, *, allow_remote: bool) -> str:
    """The base URL without a trailing slash; refuses non-local hosts unless allowed."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadConfigError(f"{url!r} is not an http(s) URL")
    if parts.query or parts.fragment:
        raise LoadConfigError(f"{url!r}: give the server's base URL, without query or fragment")
    if not allow_remote and not _is_local(parts.hostname):
        raise LoadConfigError(
            f"{parts.hostname!r} is not this machine (127.0.0.1, localhost, ::1); "
            "pass --allow-remote to load a server you are responsible for"
        )
    return url.strip().rstrip("/")


def _is_local(host: str) -> bool:
    # Exact names only: 127.0.0.2 or a hostname resolving to loopback is still "remote" on purpose,
    # so that the rule is easy to state and cannot be tricked by DNS.
    if host.lower() in LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host) in (
            ipaddress.ip_address("127.0.0.1"),
            ipaddress.ip_address("::1"),
        )
    except ValueError:
        return False
