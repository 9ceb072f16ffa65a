"""Rides the generator saw succeed, to prove afterwards that none was lost."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LedgerView:
    """A copy of the ledger: started rides with their rider, and ended ride ids."""

    started: dict[uuid.UUID, uuid.UUID]
    ended: frozenset[uuid.UUID]


class RideLedger:
    """Thread-safe record of every 201 on start and 200 on end."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._started: dict[uuid.UUID, uuid.UUID] = {}
        self._ended: set[uuid.UUID] = set()

    def started(self, ride_id: uuid.UUID, rider_id: uuid.UUID) -> None:
        """The server said it started `ride_id` for `rider_id`."""
        with self._lock:
            self._started[ride_id] = rider_id

    def ended(self, ride_id: uuid.UUID) -> None:
        """The server said it ended `ride_id`."""
        with self._lock:
            self._ended.add(ride_id)

    def view(self) -> LedgerView:
        """A consistent copy for the invariant check."""
        with self._lock:
            return LedgerView(dict(self._started), frozenset(self._ended))
