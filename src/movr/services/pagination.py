"""Keyset pagination: every page costs the same, however deep (no OFFSET scans)."""

from __future__ import annotations

import base64
import binascii
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, SQLColumnExpression, literal, tuple_

from movr.services.errors import NotFound

T = TypeVar("T")
K = TypeVar("K")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after the last row of a page: its sort timestamp and id."""

    at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        """Opaque, URL-safe text."""
        return _pack(self.at.isoformat(), self.id)

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Parse text made by encode(); NotFound (no such page) for anything else."""
        return cls(*_unpack(text, _aware_datetime))


@dataclass(frozen=True, slots=True)
class DistanceCursor:
    """Position after the last row of a nearest-first page: its distance and id."""

    distance: float
    id: uuid.UUID

    def encode(self) -> str:
        """Opaque, URL-safe text (repr: the float comes back bit for bit)."""
        return _pack(repr(self.distance), self.id)

    @classmethod
    def decode(cls, text: str) -> DistanceCursor:
        """Parse text made by encode(); NotFound (no such page) for anything else."""
        return cls(*_unpack(text, _finite_float))


def _pack(key: str, ident: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{key}|{ident}".encode()).decode().rstrip("=")


def _unpack(text: str, parse: Callable[[str], K]) -> tuple[K, uuid.UUID]:
    """The sort key (read by `parse`, which raises ValueError) and id of a cursor's text."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        key, _, ident = raw.partition("|")
        return parse(key), uuid.UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise NotFound("This page link is invalid or expired.") from None


def _aware_datetime(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("naive timestamp")
    return parsed


def _finite_float(text: str) -> float:
    parsed = float(text)
    if not math.isfinite(parsed):
        raise ValueError("not a finite number")
    return parsed


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which page to fetch: after `cursor`, at most `size` rows."""

    cursor: Cursor | None = None
    size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def parse(cls, cursor: str | None, size: int | None = None) -> PageRequest:
        """From query parameters; the size is clamped to [1, MAX_PAGE_SIZE]."""
        return cls(Cursor.decode(cursor) if cursor else None, clamp_size(size))


@dataclass(frozen=True, slots=True)
class NearbyPageRequest:
    """Which nearest-first page to fetch: after `cursor`, at most `size` rows."""

    cursor: DistanceCursor | None = None
    size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def parse(cls, cursor: str | None, size: int | None = None) -> NearbyPageRequest:
        """From query parameters, as PageRequest.parse."""
        return cls(DistanceCursor.decode(cursor) if cursor else None, clamp_size(size))


def clamp_size(size: int | None) -> int:
    """A page size within [1, MAX_PAGE_SIZE] (the default when none is asked for)."""
    return max(1, min(MAX_PAGE_SIZE, size or DEFAULT_PAGE_SIZE))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results and the cursor of the next, if any."""

    items: Sequence[T]
    next_cursor: str | None


def newest_first(
    query: Select[Any],
    at: SQLColumnExpression[datetime],
    ident: SQLColumnExpression[uuid.UUID],
    page: PageRequest,
) -> Select[Any]:
    """Order newest first by (at, id), start after the cursor, fetch one extra row."""
    if page.cursor is not None:
        query = query.where(
            tuple_(at, ident) < tuple_(literal(page.cursor.at), literal(page.cursor.id))
        )
    return query.order_by(at.desc(), ident.desc()).limit(page.size + 1)


def to_page(
    rows: Sequence[T], page: PageRequest, key: Callable[[T], tuple[datetime, uuid.UUID]]
) -> Page[T]:
    """Cut the extra row off and turn it into the next cursor."""
    if len(rows) <= page.size:
        return Page(rows, None)
    items = rows[: page.size]
    at, ident = key(items[-1])
    return Page(items, Cursor(at, ident).encode())
