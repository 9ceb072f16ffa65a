"""Typed readers of single environment variables; a bad value is a ConfigError naming it."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


def writable_folder(path: Path, variable: str = "MOVR_DATA_DIR") -> Path:
    """Create the folder `path` names if missing and check that this process can write there;
    ConfigError naming `variable` otherwise."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        # Modes, read-only mounts and ACLs are only known by trying (and root ignores modes).
        with tempfile.TemporaryFile(dir=path):
            pass
    except (FileExistsError, NotADirectoryError):
        raise ConfigError(f"{variable}: {path} is not a folder") from None
    except OSError as error:
        raise ConfigError(
            f"{variable}: cannot write in {path} ({error.strerror or error})"
        ) from None
    return path


def read_choice(
    env: Mapping[str, str],
    name: str,
    allowed: tuple[str, ...],
    default: str,
    *,
    upper: bool = False,
) -> str:
    """One of `allowed` (compared in lower case, or upper with `upper`); `default` if unset."""
    value = env.get(name) or default
    value = value.upper() if upper else value.lower()
    if value not in allowed:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return value


def read_int(
    env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    """A whole number within the bounds; `default` if unset."""
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}: {raw!r} is not a whole number") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ConfigError(f"{name}: {value} must be {bound}")
    return value


def read_bool(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    """True for 1/true/yes/on, False for 0/false/no/off (any case); `default` if unset."""
    raw = env.get(name)
    if not raw:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}: {raw!r} is not true/false")


def read_path(env: Mapping[str, str], name: str) -> Path | None:
    """The absolute path the variable names, or None if unset."""
    raw = env.get(name)
    return Path(raw).resolve() if raw else None


def checked(name: str, value: T, problem: Callable[[T], str | None]) -> T:
    """`value`, unless `problem` finds something wrong with it: then stop, naming `name`."""
    found = problem(value)
    if found is not None:
        raise ConfigError(f"{name}: {found}")
    return value
