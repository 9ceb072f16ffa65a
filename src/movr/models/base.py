"""Declarative base, shared column types and the length limits the database enforces."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar

from sqlalchemy import DateTime, MetaData, String, Uuid, func, text
from sqlalchemy.orm import DeclarativeBase, mapped_column

# Input limits, shared by forms, API schemas and the database columns.
CITY_MAX = 32
NAME_MAX = 64
EMAIL_MAX = 254
USERNAME_MAX = 32
PASSWORD_HASH_MAX = 255
LOCATION_MAX = 128
COLOR_MAX = 32
BRAND_MAX = 64

NAMING_CONVENTION = {
    "ix": "%(table_name)s_%(column_0_N_name)s_idx",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "fk": "%(table_name)s_%(column_0_name)s_fkey",
    "pk": "%(table_name)s_pkey",
}

UUIDPrimaryKey = Annotated[
    uuid.UUID,
    mapped_column(Uuid, primary_key=True, server_default=text("gen_random_uuid()")),
]
CreatedAt = Annotated[datetime, mapped_column(server_default=func.now())]
City = Annotated[str, mapped_column(String(CITY_MAX))]


class Base(DeclarativeBase):
    """Base of all mappings; every table also has a database-generated `region` column,
    deliberately left unmapped: the database derives it from `city` and nothing writes it."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True)}
