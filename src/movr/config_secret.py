"""The signing key: SECRET_KEY in production, else one kept in the data folder."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from movr.config_checks import GENERATE_SECRET, secret_weakness
from movr.config_readers import ConfigError, writable_folder

SECRET_KEY_FILE = "secret_key"  # noqa: S105 -- a file name, not a secret


def read_secret_key(env: Mapping[str, str], data_dir: Path, *, production: bool) -> str:
    """SECRET_KEY, refused if short (or guessable, in production); required in production."""
    key = env.get("SECRET_KEY")
    if key:
        if len(key) < 16:
            raise ConfigError(f"SECRET_KEY: use at least 16 random characters ({GENERATE_SECRET})")
        weakness = secret_weakness(key)
        if weakness is not None and production:
            raise ConfigError(
                f"SECRET_KEY: {weakness}, so sessions could be forged; "
                f"generate one with: {GENERATE_SECRET}"
            )
        return key
    if production:
        raise ConfigError(
            "SECRET_KEY: required in production (or set MOVR_ENV=development for a local run)"
        )
    # Development: one random key kept in the data folder, so sessions survive restarts. The
    # folder must be writable anyway (the embedded database, metrics): say so first.
    path = writable_folder(data_dir) / SECRET_KEY_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key
