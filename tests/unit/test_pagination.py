"""Page cursors: opaque text that comes back exactly, and nothing else is accepted."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest

from movr.services.errors import NotFound
from movr.services.pagination import Cursor, DistanceCursor, NearbyPageRequest


def forged(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_cursors_come_back_exactly() -> None:
    ident = uuid.uuid4()
    at = datetime(2026, 12, 6, 11, 0, 0, 123456, tzinfo=UTC)
    assert Cursor.decode(Cursor(at, ident).encode()) == Cursor(at, ident)
    distance = 1234.5678901234567  # every bit of the float, as the database computed it
    assert DistanceCursor.decode(DistanceCursor(distance, ident).encode()).distance == distance


@pytest.mark.parametrize(
    "text",
    [
        "garbage",
        forged(f"nan|{uuid.uuid4()}"),
        forged(f"inf|{uuid.uuid4()}"),
        forged("12.5|not-a-uuid"),
        forged(f"2026-12-06T11:00:00|{uuid.uuid4()}"),
    ],
)
def test_a_distance_cursor_refuses_anything_it_did_not_make(text: str) -> None:
    with pytest.raises(NotFound):
        DistanceCursor.decode(text)


def test_a_timestamp_cursor_refuses_a_naive_timestamp() -> None:
    with pytest.raises(NotFound):
        Cursor.decode(forged(f"2026-12-06T11:00:00|{uuid.uuid4()}"))


def test_nearby_pages_are_bounded() -> None:
    assert NearbyPageRequest.parse(None, 10_000).size == 100
    assert NearbyPageRequest.parse(None).cursor is None
