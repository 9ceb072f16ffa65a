"""The round-trip times between regions: the default matrix, a replacement file, scaling."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# `cockroach demo --global`, the tutorial's simulated cluster (SPEC §10), in milliseconds.
# The order is the region map's (primary first) and breaks ties in `nearest`.
_DEFAULT_REGIONS = ("gcp-us-east1", "gcp-us-west1", "gcp-europe-west1")
_DEFAULT_MS = {
    ("gcp-us-east1", "gcp-us-west1"): 66.0,
    ("gcp-us-east1", "gcp-europe-west1"): 64.0,
    ("gcp-us-west1", "gcp-europe-west1"): 146.0,
}


class MatrixError(ValueError):
    """A round-trip matrix (usually a file) is malformed."""


@dataclass(frozen=True, slots=True)
class RoundTrips:
    """Symmetric round-trip times in milliseconds between every pair of regions."""

    regions: tuple[str, ...]
    # Keyed by the pair in `regions` order, so each round trip is stored exactly once;
    # a pair within a region is stored too (0 unless a file says otherwise).
    ms_by_pair: Mapping[tuple[str, str], float]

    @classmethod
    def default(cls) -> RoundTrips:
        """The tutorial's matrix: 66, 64 and 146 ms between regions, 0 within one."""
        return cls.from_pairs(_DEFAULT_REGIONS, _DEFAULT_MS)

    @classmethod
    def from_pairs(cls, regions: Sequence[str], ms: Mapping[tuple[str, str], float]) -> RoundTrips:
        """A matrix from `{(a, b): milliseconds}`; missing pairs within a region are 0."""
        order = tuple(regions)
        table: dict[tuple[str, str], float] = {(r, r): 0.0 for r in order}
        for (a, b), value in ms.items():
            table[_key(order, a, b)] = float(value)
        matrix = cls(order, table)
        missing = [f"{a}<->{b}" for a, b in matrix._pairs() if (a, b) not in table]
        if missing:
            raise MatrixError(f"no round-trip time for {', '.join(missing)}")
        return matrix

    @classmethod
    def from_file(cls, path: str | Path, regions: Iterable[str] | None = None) -> RoundTrips:
        """Read `{"region": {"other region": ms, ...}, ...}` from a JSON file.

        Each pair may be given in either direction or both (then both must agree); every pair
        of different regions must be given. `regions` are the known regions (default: the
        default matrix's); the file must name only those, and all of them.
        """
        known = tuple(regions) if regions is not None else _DEFAULT_REGIONS
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls._from_json(known, data)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, MatrixError) as exc:
            raise MatrixError(f"round-trip matrix {path}: {exc}") from exc

    @classmethod
    def _from_json(cls, known: tuple[str, ...], data: Any) -> RoundTrips:
        if not isinstance(data, dict) or not data:
            raise MatrixError('expected a JSON object like {"region": {"other region": ms}}')
        table: dict[tuple[str, str], float] = {}
        for a, row in data.items():
            _check_region(known, a)
            if not isinstance(row, dict):
                raise MatrixError(f"{a}: expected an object of round-trip times in ms")
            for b, value in row.items():
                _check_region(known, b)
                # bool is an int subclass: `true` is a typo, not one millisecond.
                number = isinstance(value, int | float) and not isinstance(value, bool)
                if not number or not math.isfinite(value) or value < 0:
                    raise MatrixError(f"{a} -> {b}: {value!r} is not a non-negative number of ms")
                key = _key(known, a, b)
                if key in table and table[key] != value:
                    raise MatrixError(
                        f"{a} <-> {b}: {table[key]:g} ms one way and {value:g} ms the other "
                        "(round trips are symmetric)"
                    )
                table[key] = float(value)
        return cls.from_pairs(known, table)

    def scaled(self, factor: float) -> RoundTrips:
        """Every round trip multiplied by `factor` (e.g. 0.1 to keep tests fast)."""
        if not math.isfinite(factor) or factor < 0:
            raise MatrixError(f"scale factor {factor!r} is not a non-negative number")
        return RoundTrips(self.regions, {key: ms * factor for key, ms in self.ms_by_pair.items()})

    def rtt_ms(self, a: str, b: str) -> float:
        """The round-trip time between two regions, in milliseconds."""
        _check_region(self.regions, a)
        _check_region(self.regions, b)
        return self.ms_by_pair[_key(self.regions, a, b)]

    def rtt(self, a: str, b: str) -> float:
        """The round-trip time between two regions, in seconds."""
        return self.rtt_ms(a, b) / 1000

    def nearest(self, region: str) -> list[str]:
        """Every region by round-trip time from `region`, itself first: the failover order."""
        _check_region(self.regions, region)
        others = sorted(
            (r for r in self.regions if r != region),
            key=lambda r: self.rtt_ms(region, r),  # sorted is stable: ties keep map order
        )
        return [region, *others]

    def as_dict(self) -> dict[str, dict[str, float]]:
        """The full matrix in milliseconds, in the file format (both directions, diagonal)."""
        return {a: {b: self.rtt_ms(a, b) for b in self.regions} for a in self.regions}

    def _pairs(self) -> Iterable[tuple[str, str]]:
        for i, a in enumerate(self.regions):
            for b in self.regions[i + 1 :]:
                yield a, b


def _check_region(known: Sequence[str], region: object) -> None:
    if region not in known:
        raise MatrixError(f"unknown region {region!r} (known: {', '.join(known)})")


def _key(order: Sequence[str], a: str, b: str) -> tuple[str, str]:
    _check_region(order, a)
    _check_region(order, b)
    return (a, b) if order.index(a) <= order.index(b) else (b, a)
