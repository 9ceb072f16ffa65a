"""Accounts: register, authenticate, look up, list by city, delete (erase)."""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache

from argon2 import PasswordHasher
from sqlalchemy import exists, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from movr.db.sql import Executor, with_result_columns
from movr.db.units import Runner, fresh, fresh_read, note_write, read, statement
from movr.models import User, Vehicle, VehicleStatus
from movr.models.base import EMAIL_MAX, NAME_MAX, USERNAME_MAX
from movr.regions import RegionMap
from movr.services import callers
from movr.services.accounts import ACCOUNT_COLUMNS, ACCOUNT_FIELDS, Account
from movr.services.callers import Caller, UnknownCaller
from movr.services.errors import (
    Forbidden,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    StillRiding,
    UsernameTaken,
)
from movr.services.pagination import Page, PageRequest, newest_first, to_page
from movr.services.passwords import verify_password

USERNAME_PATTERN = re.compile(rf"^[a-z0-9][a-z0-9_.-]{{2,{USERNAME_MAX - 1}}}$")
PASSWORD_MIN = 8
PASSWORD_MAX = 128  # argon2 hashes any length; the cap bounds the work an attacker can ask for
USERNAME_CONSTRAINT = "users_username_key"


@dataclass(frozen=True, slots=True)
class Registration:
    """What a new account needs."""

    city: str
    first_name: str
    last_name: str
    email: str
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class CityUser:
    """A user as others in their city may see them: no email, no username."""

    id: uuid.UUID
    display_name: str
    is_owner: bool
    created_at: datetime


def normalize_username(username: str) -> str:
    """Usernames are case-insensitive: stored and compared lowercased."""
    return username.strip().lower()


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A validated registration, its password already hashed: argon2 takes tens of
    milliseconds and must not run inside a (retried, conflict-prone) transaction."""

    city: str
    first_name: str
    last_name: str
    email: str
    username: str
    password_hash: str


def prepare_registration(
    hasher: PasswordHasher, region_map: RegionMap, form: Registration
) -> NewAccount:
    """Validate a registration and hash its password (no database access)."""
    username = normalize_username(form.username)
    _validate_registration(region_map, form, username)
    return NewAccount(
        city=form.city,
        first_name=form.first_name.strip(),
        last_name=form.last_name.strip(),
        email=form.email.strip(),
        username=username,
        password_hash=hasher.hash(form.password),
    )


@statement(orm=True)
def create_account(session: Session, account: NewAccount) -> User:
    """Insert the account, in one statement; UsernameTaken when the (case-insensitive)
    username exists."""
    insert_account = insert(User).values(**asdict(account))
    user: User
    try:
        user, write_xid = session.execute(insert_account.returning(User, func.txid_current())).one()
    except IntegrityError as error:
        if USERNAME_CONSTRAINT in str(error.orig):
            raise UsernameTaken(f"The username {account.username!r} is taken.") from None
        raise
    note_write(session, write_xid)
    return user


def register_user(
    session: Session, hasher: PasswordHasher, region_map: RegionMap, form: Registration
) -> User:
    """Both steps in one call (seeding, tests); request handlers hash before their transaction."""
    return create_account(session, prepare_registration(hasher, region_map, form))


def _validate_registration(region_map: RegionMap, form: Registration, username: str) -> None:
    if form.city not in region_map:
        raise InvalidInput("city", "Choose a city from the list.")
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput(
            "username",
            f"Use 3 to {USERNAME_MAX} letters, digits, '.', '_' or '-', starting with a letter "
            "or digit.",
        )
    if not PASSWORD_MIN <= len(form.password) <= PASSWORD_MAX:
        raise InvalidInput(
            "password", f"Use {PASSWORD_MIN} to {PASSWORD_MAX} characters for the password."
        )
    for field, value, limit in (
        ("first_name", form.first_name, NAME_MAX),
        ("last_name", form.last_name, NAME_MAX),
        ("email", form.email, EMAIL_MAX),
    ):
        if not value.strip() or len(value.strip()) > limit:
            raise InvalidInput(field, f"Enter 1 to {limit} characters.")
    if "@" not in form.email:
        raise InvalidInput("email", "Enter a valid email address.")


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash("movr-timing-equaliser")


GET_ACCOUNT = with_result_columns(
    text(f"SELECT {ACCOUNT_COLUMNS} FROM users WHERE users.id = :id AND users.deleted_at IS NULL"),  # noqa: S608 -- constant column list
    ACCOUNT_FIELDS,
)


@fresh_read
def get_user(executor: Executor, user_id: uuid.UUID) -> Account | None:
    """The live account with this id (one primary-key read), or None."""
    row = executor.execute(GET_ACCOUNT, {"id": user_id}).first()
    return Account(*row) if row is not None else None


@dataclass(frozen=True, slots=True)
class LoginCandidate:
    """The account a username names, with its password hash, read before checking it."""

    account: Account
    password_hash: str


FIND_LOGIN = with_result_columns(
    text(
        f"SELECT {ACCOUNT_COLUMNS}, users.password_hash FROM users "  # noqa: S608 -- constant column list
        "WHERE users.username = :username AND users.deleted_at IS NULL"
    ),
    (*ACCOUNT_FIELDS, "password_hash"),
)


@read
def find_login(executor: Executor, username: str) -> LoginCandidate | None:
    """One read: the live account with this (case-insensitive) username."""
    row = executor.execute(FIND_LOGIN, {"username": normalize_username(username)}).first()
    if row is None:
        return None
    *account, password_hash = row
    return LoginCandidate(Account(*account), password_hash)


find_login_fresh = fresh(find_login)


def check_login(hasher: PasswordHasher, candidate: LoginCandidate | None, password: str) -> Account:
    """The account if the password matches; InvalidCredentials otherwise (no database access).

    An unknown username still costs one hash verification, so response time does not reveal
    which usernames exist.
    """
    if candidate is None:
        verify_password(hasher, _dummy_hash(hasher), password)
        raise InvalidCredentials("Invalid username or password.")
    if not verify_password(hasher, candidate.password_hash, password):
        raise InvalidCredentials("Invalid username or password.")
    return candidate.account


def needs_rehash(hasher: PasswordHasher, candidate: LoginCandidate) -> bool:
    """True when the stored hash uses older parameters than the hasher's."""
    return hasher.check_needs_rehash(candidate.password_hash)


@statement
def store_password_hash(executor: Executor, user_id: uuid.UUID, password_hash: str) -> None:
    """Replace a live account's password hash."""
    executor.execute(
        update(User)
        .where(User.id == user_id, User.deleted_at.is_(None))
        .values(password_hash=password_hash)
    )


def authenticate(runner: Runner, hasher: PasswordHasher, username: str, password: str) -> Account:
    """Log in: one read, the argon2 check outside any unit of work, a rehash if due.

    Hashing inside a SERIALIZABLE transaction would hold it open for the hash's duration and
    repeat the hash on every retry; under load that turned logins into give-ups.
    """
    candidate = runner.run(find_login, username)
    if candidate is None:
        # A replica may not know an account registered a moment ago: ask the primary.
        candidate = runner.run(find_login_fresh, username)
    account = check_login(hasher, candidate, password)
    if candidate is not None and needs_rehash(hasher, candidate):
        runner.run(store_password_hash, account.id, hasher.hash(password))
    return account


@read
def list_city_users(executor: Executor, city: str, page: PageRequest) -> Page[CityUser]:
    """Live users of a city, newest first, each with whether they own a vehicle (one query)."""
    owns_vehicle = exists().where(
        Vehicle.owner_id == User.id, Vehicle.status != VehicleStatus.REMOVED
    )
    query = select(
        User.id, User.first_name, User.last_name, owns_vehicle.label("is_owner"), User.created_at
    ).where(User.city == city, User.deleted_at.is_(None))
    rows = executor.execute(newest_first(query, User.created_at, User.id, page)).all()
    users = [
        CityUser(
            id=row.id,
            display_name=f"{row.first_name} {row.last_name}",
            is_owner=row.is_owner,
            created_at=row.created_at,
        )
        for row in rows
    ]
    return to_page(users, page, lambda user: (user.created_at, user.id))


ERASE_COLUMNS = ("erased", "retired", "revoked", "caller_id", "found", "write_xid")


# delete_account's one statement. The erasure is conditional on the caller (resolved first, in
# the same snapshot) being the account; `found` and `caller_id` are read when nothing was
# erased, when `users` was not changed by this statement: unambiguous on PostgreSQL and
# CockroachDB alike.
ERASE_ACCOUNT = with_result_columns(
    text(
        f"""
    WITH {callers.CALLER}, erased AS (
        UPDATE users SET first_name = NULL, last_name = NULL, email = NULL, username = NULL,
            password_hash = NULL, deleted_at = now()
        WHERE users.id = {callers.CALLER_ID}
          AND users.id = coalesce(CAST(:user_id AS uuid), users.id)
          AND users.deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM active_rides WHERE active_rides.rider_id = users.id)
          AND NOT EXISTS (SELECT 1 FROM vehicles
                          WHERE vehicles.owner_id = users.id AND vehicles.status = 'in_use')
        RETURNING users.id
    ), retired AS (
        UPDATE vehicles SET status = 'removed', removed_at = now()
        WHERE vehicles.owner_id = (SELECT id FROM erased) AND vehicles.status = 'available'
        RETURNING vehicles.id
    ), revoked AS (
        UPDATE api_tokens SET revoked_at = now()
        WHERE api_tokens.user_id = (SELECT id FROM erased) AND api_tokens.revoked_at IS NULL
        RETURNING api_tokens.id
    )
    SELECT (SELECT count(*) FROM erased) AS erased, (SELECT count(*) FROM retired) AS retired,
           (SELECT count(*) FROM revoked) AS revoked, {callers.CALLER_ID} AS caller_id,
           EXISTS (SELECT 1 FROM users
                   WHERE users.id = coalesce(CAST(:user_id AS uuid), {callers.CALLER_ID})
                     AND users.deleted_at IS NULL) AS found,
           txid_current() AS write_xid
    """  # noqa: S608 -- constant CTEs, no input
    ),
    ERASE_COLUMNS,
)


@statement
def delete_account(
    executor: Executor, caller: Caller | uuid.UUID, user_id: uuid.UUID | None = None
) -> None:
    """Erase the account's personal data, retire its vehicles and revoke its tokens (its
    browser sessions too); its rides stay, anonymous.

    The account is the caller's own (a user id, or a Caller: UnknownCaller if its token is not
    valid); with `user_id`, that account, which must be the caller's (Forbidden otherwise).
    Refused while the user rides or one of their vehicles is being ridden. One statement: the
    caller, the conditions and the writes are checked and applied together, and its one row
    also says why nothing was erased (read in the same snapshot, so a refusal costs no second
    statement).
    """
    who = Caller.of(caller)
    row = executor.execute(ERASE_ACCOUNT, who.parameters() | {"user_id": user_id}).one()
    if row.erased:
        note_write(executor, row.write_xid)
        return
    if row.caller_id is None and who.token_hash is not None:
        raise UnknownCaller()
    if not row.found:
        raise NotFound("This account does not exist.")
    if user_id is not None and row.caller_id != user_id:
        raise Forbidden("You can only delete your own account.")
    raise StillRiding("End your ride (and wait for rides on your vehicles to end) first.")
