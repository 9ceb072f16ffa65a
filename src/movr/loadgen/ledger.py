"""Writes the generator saw acknowledged, to prove afterwards that none was lost."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class LedgerView:
    """A copy of the ledger: started rides with their rider, ended ride ids, and retired
    vehicles with their owner."""

    started: dict[uuid.UUID, uuid.UUID]
    ended: frozenset[uuid.UUID]
    retired: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """How many writes of each kind were acknowledged."""
        return {
            "rides_started": len(self.started),
            "rides_ended": len(self.ended),
            "vehicles_retired": len(self.retired),
        }


class RideLedger:
    """Thread-safe record of every 201 on start, 200 on end and 204 on retire."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._started: dict[uuid.UUID, uuid.UUID] = {}
        self._ended: set[uuid.UUID] = set()
        self._retired: dict[uuid.UUID, uuid.UUID] = {}

    def started(self, ride_id: uuid.UUID, rider_id: uuid.UUID) -> None:
        """The server said it started `ride_id` for `rider_id`."""
        with self._lock:
            self._started[ride_id] = rider_id

    def ended(self, ride_id: uuid.UUID) -> None:
        """The server said it ended `ride_id`."""
        with self._lock:
            self._ended.add(ride_id)

    def retired(self, vehicle_id: uuid.UUID, owner_id: uuid.UUID) -> None:
        """The server said `owner_id` retired `vehicle_id`."""
        with self._lock:
            self._retired[vehicle_id] = owner_id

    def view(self) -> LedgerView:
        """A consistent copy for the invariant check."""
        with self._lock:
            return LedgerView(dict(self._started), frozenset(self._ended), dict(self._retired))
