"""Deterministic demo data, built through the services."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from movr.config import Settings
from movr.db import migrate
from movr.db.engine import create_database
from movr.db.transaction import run_in_transaction
from movr.models import User
from movr.regions import City, RegionMap
from movr.services import rides, users, vehicles
from movr.services.passwords import PasswordHasher, password_hasher
from movr.services.positions import Position

DEMO_PASSWORD = "movr-demo-2026"  # noqa: S105 -- printed for people trying the demo
FIRST_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia"]
LAST_NAMES = ["Hopper", "Turing", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Ritchie"]
STREETS = ["Main St", "Market St", "Harbour Rd", "Station Sq", "Park Ave", "River Walk", "Old Town"]
COLORS = ["red", "blue", "green", "black", "white", "yellow", "orange"]
BRANDS = ["Acme", "Lime", "Bird", "Brompton", "Santa Cruz", "Segway", "VanMoof"]
TYPES = ["bike", "scooter", "skateboard"]


@dataclass(frozen=True, slots=True)
class SeedPlan:
    """How much demo data to make per city."""

    users_per_city: int = 4
    vehicles_per_city: int = 6
    rides_per_city: int = 5
    seed: int = 2026


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """A login printed for people trying the demo."""

    username: str
    password: str
    city: str


def demo_username(city_id: str) -> str:
    """The demo login of a city, e.g. `demo-new-york` for "new york"."""
    return "demo-" + city_id.replace(" ", "-")


def seed(
    sessions: sessionmaker[Session],
    hasher: PasswordHasher,
    region_map: RegionMap,
    plan: SeedPlan = SeedPlan(),
    progress: Callable[[str], None] = lambda _: None,
) -> list[DemoLogin]:
    """Seed every city that is not seeded yet, each in one transaction whose demo login marks
    it done; a database with users but no demo login is someone's real data: left alone."""
    logins = demo_logins(region_map)
    usernames = [login.username for login in logins]
    found = run_in_transaction(sessions, partial(_demo_users, usernames=usernames))
    if found == 0 and run_in_transaction(sessions, _any_user):
        progress("database already has data; not seeding")
        return logins
    if found == len(usernames):
        progress("demo data already there")
        return logins
    rng = random.Random(plan.seed)  # noqa: S311 -- demo data, not security
    # One seed per city, drawn in map order: a city seeded after an interruption, or a retried
    # transaction, makes the same data as an uninterrupted run.
    for city, city_seed in [(city, rng.random()) for city in region_map]:
        work = partial(
            _seed_city,
            hasher=hasher,
            region_map=region_map,
            city=city,
            plan=plan,
            city_seed=city_seed,
        )
        if run_in_transaction(sessions, work, operation="seed"):
            progress(f"seeded {city.name}")
    return logins


def _demo_users(session: Session, *, usernames: list[str]) -> int:
    """How many of the demo logins exist (each one marks its city seeded)."""
    return (
        session.scalar(select(func.count()).select_from(User).where(User.username.in_(usernames)))
        or 0
    )


def _any_user(session: Session) -> bool:
    return session.scalar(select(User.id).limit(1)) is not None


def demo_logins(region_map: RegionMap) -> list[DemoLogin]:
    """One login per city."""
    return [DemoLogin(demo_username(c.id), DEMO_PASSWORD, c.name) for c in region_map]


def _seed_city(
    session: Session,
    *,
    hasher: PasswordHasher,
    region_map: RegionMap,
    city: City,
    plan: SeedPlan,
    city_seed: float,
) -> bool:
    """Add the city's demo data unless its demo login exists (then it was seeded: False)."""
    # Checked in the city's own serializable transaction: two seeders cannot both add it.
    if _demo_users(session, usernames=[demo_username(city.id)]):
        return False
    rng = random.Random(city_seed)  # noqa: S311 -- demo data, not security
    people = []
    for n in range(plan.users_per_city):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = demo_username(city.id) if n == 0 else f"{demo_username(city.id)}-{n}"
        registration = users.Registration(
            city=city.id,
            first_name=first,
            last_name=last,
            email=f"{username}@example.com",
            username=username,
            password=DEMO_PASSWORD,
        )
        people.append(users.register_user(session, hasher, region_map, registration))
    region_cities = [c.id for c in region_map.cities(city.region)]
    fleet = []
    for _ in range(plan.vehicles_per_city):
        owner = rng.choice(people[1:] or people)
        new = vehicles.NewVehicle(
            type=rng.choice(TYPES),
            color=rng.choice(COLORS),
            brand=rng.choice(BRANDS),
            location=f"{rng.randint(1, 400)} {rng.choice(STREETS)}",
            position=_near(city, rng),
        )
        fleet.append(vehicles.add_vehicle(session, region_map, owner, region_cities, new))
    for n in range(plan.rides_per_city):
        rider = people[n % len(people)]
        vehicle = fleet[n % len(fleet)]
        ride = rides.start_ride(session, rider.id, vehicle.id, region_cities)
        rides.end_ride(
            session,
            rider.id,
            ride.id,
            location=f"{rng.randint(1, 400)} {rng.choice(STREETS)}",
            position=_near(city, rng),
            region_map=region_map,
        )
        # Spread past rides over the last weeks: shift both ends, keeping the length.
        days, minutes = rng.randint(1, 30), rng.randint(4, 45)
        session.execute(
            text(
                "UPDATE rides SET start_time = now() - :d * interval '1 day', "
                "end_time = now() - :d * interval '1 day' + :m * interval '1 minute', "
                "revenue = round(1.00 + 0.15 * :m, 2) WHERE id = :id"
            ),
            {"d": days, "m": minutes, "id": ride.id},
        )
    return True


def _near(city: City, rng: random.Random) -> Position:
    """A point within about two kilometres of the city centre."""
    return Position(
        round(city.latitude + rng.uniform(-0.02, 0.02), 6),
        round(city.longitude + rng.uniform(-0.02, 0.02), 6),
    )


def prepare_database(
    settings: Settings, url: str, *, seed_data: bool, progress: Callable[[str], None]
) -> None:
    """Migrate the database at `url` and, with `seed_data`, add the demo data."""
    database = create_database(settings, url)
    try:
        progress("migrating…")
        migrate.upgrade(database.engine, settings.region_map)
        if seed_data:
            seed(
                database.sessions,
                password_hasher(),
                settings.region_map,
                SeedPlan(),
                progress=lambda message: progress(f"  {message}"),
            )
    finally:
        database.dispose()
