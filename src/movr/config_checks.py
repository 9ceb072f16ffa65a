"""Checks of single configuration values that take more than a type: how guessable a signing
key looks, whether a rate-limit storage can run in this install, what a tile URL needs, whether a
folder may be emptied. Each returns what is wrong, or None (config_readers.checked then names
the variable)."""

from __future__ import annotations

import math
from collections import Counter
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

from limits.storage import SCHEMES as LIMIT_STORAGE_SCHEMES  # type: ignore[attr-defined]

GENERATE_SECRET = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"  # noqa: S105 -- a command, not a secret
# A key's estimated entropy (Shannon, per character, times its length) must reach this: a
# 22-character token_urlsafe reaches ~90 bits, `changeme-changeme` ~50, 32 times `x` none.
MIN_SECRET_BITS = 64
# Words found in keys copied from examples; each long enough never to turn up in a random key.
SECRET_PLACEHOLDERS = ("changeme", "change-me", "change_me", "password", "placeholder", "example")
MAX_TILE_ATTRIBUTION = 500


def secret_bits(key: str) -> float:
    """Estimated entropy of a key in bits: Shannon's per character, times the length."""
    counts = Counter(key).values()
    return -sum(n * math.log2(n / len(key)) for n in counts)


def secret_weakness(key: str) -> str | None:
    """Why a signing key looks guessable, or None when it looks random."""
    lowered = key.lower()
    placeholder = next((word for word in SECRET_PLACEHOLDERS if word in lowered), None)
    if placeholder is not None:
        return f"it contains the placeholder {placeholder!r}"
    if (key + key).find(key, 1) < len(key):  # found inside itself: a shorter part repeated
        return "it repeats a shorter part"
    if secret_bits(key) < MIN_SECRET_BITS:
        return f"it looks like {secret_bits(key):.0f} bits of randomness, under {MIN_SECRET_BITS}"
    return None


def storage_problem(uri: str) -> str | None:
    """What keeps Flask-Limiter from using this storage URI here (checked at start, not when the
    first worker boots: `limits` imports its driver lazily)."""
    scheme, sep, _ = uri.partition("://")
    storage = LIMIT_STORAGE_SCHEMES.get(scheme) if sep else None
    if storage is None or scheme.startswith("async+"):
        known = ", ".join(s for s in sorted(LIMIT_STORAGE_SCHEMES) if not s.startswith("async+"))
        return f"{uri!r} is not 'database' or a storage URI ({known}://…)"
    # A storage lists its drivers; one serving several schemes (redis://, valkey://) uses the
    # driver its scheme is named after.
    drivers = {m.split(".")[0] for m in getattr(storage, "DEPENDENCIES", [])}
    needed = {d for d in drivers if scheme.startswith(d)} or drivers
    missing = sorted(d for d in needed if find_spec(d) is None)
    return f"{scheme}:// needs the Python package {', '.join(missing)}" if missing else None


def tile_url_problem(url: str) -> str | None:
    """An http(s) tile URL template with {z}, {x} and {y} (Leaflet's syntax), or what is wrong."""
    parts = urlsplit(url.replace("{s}", "a"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{url!r} is not an http(s) URL"
    missing = [p for p in ("{z}", "{x}", "{y}") if p not in url]
    return f"{url!r} lacks {', '.join(missing)}" if missing else None


def attribution_problem(attribution: str) -> str | None:
    """Tile servers' licences ask for their attribution to be shown: it may not be blank."""
    if 0 < len(attribution) <= MAX_TILE_ATTRIBUTION:
        return None
    return f"1 to {MAX_TILE_ATTRIBUTION} characters"


def metrics_token_problem(token: str | None) -> str | None:
    """A bearer token for /metrics travels in a header: long, and without spaces."""
    if token is None or (len(token) >= 16 and not any(c.isspace() for c in token)):
        return None
    return f"use at least 16 characters and no spaces ({GENERATE_SECRET})"


def metrics_dir_problem(path: Path | None) -> str | None:
    """`movr serve` empties the metrics folder at start: it must hold nothing but metric files
    (a mistyped path to a real folder would lose that folder)."""
    if path is None:
        return None
    if path.exists() and not path.is_dir():
        return f"{path} is not a folder"
    if path.is_dir() and any(entry.suffix != ".db" for entry in path.iterdir()):
        return (
            f"{path} holds more than metric files (*.db), and it is emptied at start: "
            "give it a folder of its own"
        )
    return None
