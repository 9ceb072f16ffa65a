"""The riders' shared, possibly stale, picture of the vehicles of each city."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

# Share of ride attempts aimed at a popular vehicle whatever its last seen status: riders
# then collide on purpose, which exercises the conditional UPDATE and the retry loop.
POPULAR_SHARE = 0.5


@dataclass(slots=True)
class _CityView:
    popular: list[str] = field(default_factory=list)
    available: dict[str, None] = field(default_factory=dict)  # insertion-ordered set


class Fleet:
    """Vehicle ids per city as last listed, and a few "popular" ones per city."""

    def __init__(self, popular: int) -> None:
        """Keep `popular` vehicles per city as the contended favourites."""
        self._popular = popular
        self._lock = threading.Lock()
        self._cities: dict[str, _CityView] = {}

    def observe(self, city: str, vehicles: Iterable[tuple[str, str]]) -> None:
        """Take in a listing of (vehicle id, status); the first listing fixes the favourites."""
        listed = list(vehicles)
        with self._lock:
            view = self._cities.setdefault(city, _CityView())
            if not view.popular:
                usable = [vehicle for vehicle, status in listed if status != "removed"]
                view.popular = usable[: self._popular]
            view.available = dict.fromkeys(v for v, status in listed if status == "available")

    def pick(self, city: str, rng: random.Random) -> str | None:
        """A vehicle to try: often a popular one, else one last seen available."""
        with self._lock:
            view = self._cities.get(city)
            if view is None:
                return None
            if view.popular and rng.random() < POPULAR_SHARE:
                return rng.choice(view.popular)
            if view.available:
                return rng.choice(list(view.available))
            return None

    def known(self, city: str) -> bool:
        """True once the city has been listed at least once."""
        with self._lock:
            return city in self._cities

    def taken(self, city: str, vehicle: str) -> None:
        """The vehicle is in use (we started it, or the server said it is unavailable)."""
        with self._lock:
            view = self._cities.get(city)
            if view is not None:
                view.available.pop(vehicle, None)

    def retired(self, city: str, vehicle: str) -> None:
        """The vehicle is gone for good: nobody should try it again."""
        with self._lock:
            view = self._cities.get(city)
            if view is not None:
                view.available.pop(vehicle, None)
                view.popular = [v for v in view.popular if v != vehicle]

    def released(self, city: str, vehicle: str) -> None:
        """The vehicle is available again (a ride ended, or it was just added)."""
        with self._lock:
            self._cities.setdefault(city, _CityView()).available[vehicle] = None
