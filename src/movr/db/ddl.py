"""SQL fragments derived from the region map, shared by every migration that needs them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.schema import SchemaItem
from sqlalchemy.types import UserDefinedType

from movr.regions import RegionMap


class CockroachRegion(UserDefinedType[str]):
    """CockroachDB's enum of the database's regions."""

    cache_ok = True

    def get_col_spec(self, **_: object) -> str:
        """Render the type name."""
        return "crdb_internal_region"


def sql_literal(value: str) -> str:
    """A single-quoted SQL literal (names are validated already; quoting is defence in depth)."""
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(value: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + value.replace('"', '""') + '"'


def city_list(region_map: RegionMap, region: str | None = None) -> str:
    """`'a', 'b', …`: the cities of the map (or of one region) as SQL literals."""
    return ", ".join(sql_literal(city.id) for city in region_map.cities(region))


def city_check(region_map: RegionMap) -> str:
    """CHECK body rejecting any city outside the map."""
    return f"city IN ({city_list(region_map)})"


def region_case(region_map: RegionMap) -> str:
    """CASE expression mapping `city` to its region; the ELSE is unreachable given city_check,
    but CockroachDB needs every branch to be a valid region."""
    branches = " ".join(
        f"WHEN city IN ({city_list(region_map, region)}) THEN {sql_literal(region)}"
        for region in region_map.regions
    )
    return f"CASE {branches} ELSE {sql_literal(region_map.primary_region)} END"


def cockroach_database_regions(database: str, region_map: RegionMap) -> list[str]:
    """Statements that make a CockroachDB database multi-region, primary region first."""
    name = sql_identifier(database)
    primary, *others = region_map.regions
    return [f"ALTER DATABASE {name} SET PRIMARY REGION {sql_identifier(primary)}"] + [
        f"ALTER DATABASE {name} ADD REGION IF NOT EXISTS {sql_identifier(region)}"
        for region in others
    ]


def cockroach_regional_by_row(table: str) -> str:
    """Home each row of `table` in the region computed from its city."""
    return f"ALTER TABLE {sql_identifier(table)} SET LOCALITY REGIONAL BY ROW AS region"


def city_columns(table: str, region_map: RegionMap, *, cockroach: bool) -> list[SchemaItem]:
    """`city` restricted to the map, and `region` computed from it by the database."""
    region_type = CockroachRegion() if cockroach else sa.Text()
    return [
        sa.Column("city", sa.String(32), nullable=False),
        sa.Column(
            "region",
            region_type,
            sa.Computed(region_case(region_map), persisted=True),
            nullable=False,
        ),
        sa.CheckConstraint(city_check(region_map), name=f"{table}_city_check"),
    ]
