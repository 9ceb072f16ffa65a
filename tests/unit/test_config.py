"""Settings: defaults, validation, and the development secret key."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from movr.config import ConfigError, Settings

BASE = {"SECRET_KEY": secrets.token_urlsafe(32)}


def test_defaults_serve_the_first_region(tmp_path: Path) -> None:
    settings = Settings.from_env(BASE | {"MOVR_DATA_DIR": str(tmp_path)})
    assert settings.region == "gcp-us-east1"
    assert settings.cities == ("new york", "boston", "washington dc")
    assert settings.database_url is None
    assert settings.environment == "production"
    assert settings.login_rate_limit is not None


def test_production_requires_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({"MOVR_DATA_DIR": str(tmp_path)})


def test_development_generates_and_keeps_a_secret_key(tmp_path: Path) -> None:
    env = {"MOVR_DATA_DIR": str(tmp_path)}
    first = Settings.from_env(env, development=True).secret_key
    again = Settings.from_env(env, development=True).secret_key
    assert first == again
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MOVR_REGION", "mars-north1"),
        ("DATABASE_URL", "mysql://x"),
        ("MOVR_RATE_LIMITS", "lots"),
        ("MOVR_TX_MAX_ATTEMPTS", "0"),
        ("PORT", "99999"),
        ("MOVR_REGION_URLS", "gcp-us-west1=ftp://x"),
        ("MOVR_REGION_URLS", "nowhere=https://x"),
        ("MOVR_LOG_FORMAT", "xml"),
        ("MOVR_FOLLOWER_READS", "maybe"),
        ("MOVR_FOLLOWER_READS", "true"),  # with no CockroachDB URL
        ("SECRET_KEY", "short"),
        ("MOVR_RATE_LIMIT_STORAGE", "bogus://x"),
        ("MOVR_RATE_LIMIT_STORAGE", "redis"),
        ("MOVR_RATE_LIMIT_STORAGE", "async+redis://localhost"),
        ("MOVR_RATE_LIMIT_STORAGE", "memcached://localhost:11211"),  # pymemcache not installed
        ("MOVR_RATE_LIMIT_STORAGE", "valkey://localhost:6379"),  # valkey not installed
        ("MOVR_TILE_URL", "ftp://tiles.example/{z}/{x}/{y}.png"),
        ("MOVR_TILE_URL", "https://tiles.example/tile.png"),
        ("MOVR_TILE_URL", "tiles/{z}/{x}/{y}.png"),
        ("MOVR_TILE_ATTRIBUTION", "   "),
        ("MOVR_TILE_ATTRIBUTION", "x" * 501),
        ("MOVR_METRICS_TOKEN", "short"),
        ("MOVR_METRICS_TOKEN", "a token with spaces in it"),
        ("MOVR_REGION_MAP", "/nonexistent/regions.json"),
        ("MOVR_REQUEST_TIMEOUT_MS", "soon"),
        ("MOVR_LOCK_TIMEOUT_MS", "-1"),
        ("MOVR_DB_KEEPALIVES_IDLE_S", "0"),
        ("MOVR_DB_TCP_USER_TIMEOUT_MS", "never"),
    ],
)
def test_bad_values_fail_naming_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(BASE | {"MOVR_DATA_DIR": str(tmp_path), name: value})


def test_bare_postgres_urls_mean_psycopg3(tmp_path: Path) -> None:
    env = BASE | {"MOVR_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgresql://u@h/db"}
    assert Settings.from_env(env).database_url == "postgresql+psycopg://u@h/db"


def test_rate_limits_can_be_turned_off(tmp_path: Path) -> None:
    env = BASE | {"MOVR_DATA_DIR": str(tmp_path), "MOVR_RATE_LIMITS": "off"}
    assert Settings.from_env(env).login_rate_limit is None


def test_region_urls_are_parsed(tmp_path: Path) -> None:
    env = BASE | {
        "MOVR_DATA_DIR": str(tmp_path),
        "MOVR_REGION": "gcp-us-west1",
        "MOVR_REGION_URLS": "gcp-us-east1=https://east.example/, gcp-europe-west1=https://eu.example",
    }
    settings = Settings.from_env(env)
    assert settings.region_urls == {
        "gcp-us-east1": "https://east.example",
        "gcp-europe-west1": "https://eu.example",
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MOVR_ACCOUNT_RATE_LIMITS", "lots"),
        ("MOVR_ACCOUNT_RATE_LIMITS", "100 per day"),  # would lock an account out for a day
        ("MOVR_MAX_API_TOKENS", "0"),
        ("MOVR_SESSION_IDLE_MINUTES", "0"),
        ("MOVR_SESSION_IDLE_MINUTES", "721"),  # beyond the 12 h a session lasts at most
    ],
)
def test_bad_login_and_session_settings_fail_naming_the_variable(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(BASE | {"MOVR_DATA_DIR": str(tmp_path), name: value})


def test_login_and_session_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env(BASE | {"MOVR_DATA_DIR": str(tmp_path)})
    assert settings.account_login_rate_limit == "10 per minute"
    assert settings.max_api_tokens == 10
    assert settings.session_idle == timedelta(minutes=60)
    off = Settings.from_env(BASE | {"MOVR_DATA_DIR": str(tmp_path), "MOVR_RATE_LIMITS": "off"})
    assert off.account_login_rate_limit is None


def test_good_storage_and_tile_values_are_kept(tmp_path: Path) -> None:
    env = BASE | {
        "MOVR_DATA_DIR": str(tmp_path),
        "MOVR_RATE_LIMIT_STORAGE": "redis://localhost:6379/0",
        "MOVR_TILE_URL": "https://{s}.tiles.example/{z}/{x}/{y}.png",
        "MOVR_TILE_ATTRIBUTION": "Tiles by Example",
    }
    settings = Settings.from_env(env)
    assert settings.rate_limit_storage == "redis://localhost:6379/0"
    assert settings.tile_url == "https://{s}.tiles.example/{z}/{x}/{y}.png"
    assert settings.tile_attribution == "Tiles by Example"


@pytest.mark.parametrize(
    "key",
    [
        "a" * 16,
        "x" * 32,
        "changeme-changeme",
        "ChangeMe-0123456789-kq7Zp2",  # random-looking, but copied from an example
        "my-password-is-long-enough-2026",
        "abc123XYZ-abc123XYZ-abc123XYZ-",  # a short part repeated
        "1234567890123456",
    ],
)
def test_production_refuses_a_guessable_secret_key(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigError, match=r"SECRET_KEY: .*secrets\.token_urlsafe\(48\)"):
        Settings.from_env({"MOVR_DATA_DIR": str(tmp_path), "SECRET_KEY": key})


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: secrets.token_urlsafe(16),
        lambda: secrets.token_hex(16),
        lambda: secrets.token_urlsafe(48),
    ],
)
def test_production_accepts_random_secret_keys(tmp_path: Path, make_key: Callable[[], str]) -> None:
    for _ in range(200):  # a random key must never be refused by chance
        key = make_key()
        assert (
            Settings.from_env({"MOVR_DATA_DIR": str(tmp_path), "SECRET_KEY": key}).secret_key == key
        )


def test_development_takes_any_key_of_length(tmp_path: Path) -> None:
    env = {"MOVR_DATA_DIR": str(tmp_path), "SECRET_KEY": "changeme-changeme"}
    assert Settings.from_env(env, development=True).secret_key == "changeme-changeme"


def test_follower_reads_need_cockroachdb_alone(tmp_path: Path) -> None:
    env = BASE | {
        "MOVR_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "cockroachdb://root@crdb:26257/movr",
        "MOVR_FOLLOWER_READS": "true",
    }
    assert Settings.from_env(env).follower_reads
    with pytest.raises(ConfigError, match=r"MOVR_FOLLOWER_READS: .* not both"):
        Settings.from_env(env | {"MOVR_READ_DATABASE_URL": "postgresql://u@standby/movr"})


def test_the_metrics_folder_must_hold_only_metric_files(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    env = BASE | {"MOVR_DATA_DIR": str(tmp_path), "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    assert Settings.from_env(env).metrics_dir == folder  # not there yet: made at start
    folder.mkdir()
    (folder / "counter_123.db").touch()
    assert Settings.from_env(env).metrics_dir == folder
    (folder / "notes.txt").touch()  # someone's folder: `movr serve` would empty it
    with pytest.raises(ConfigError, match=r"PROMETHEUS_MULTIPROC_DIR: .* folder of its own"):
        Settings.from_env(env)
    with pytest.raises(ConfigError, match=r"PROMETHEUS_MULTIPROC_DIR: .* not a folder"):
        Settings.from_env(env | {"PROMETHEUS_MULTIPROC_DIR": str(folder / "notes.txt")})


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MOVR_REQUEST_TIMEOUT_MS": "4000"}, "MOVR_STATEMENT_TIMEOUT_MS"),  # 5000 by default
        ({"MOVR_LOCK_TIMEOUT_MS": "6000"}, "MOVR_LOCK_TIMEOUT_MS"),
        ({"MOVR_DB_POOL_TIMEOUT_MS": "10000"}, "MOVR_DB_POOL_TIMEOUT_MS"),
    ],
)
def test_each_bound_must_fit_in_the_one_it_serves(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(BASE | {"MOVR_DATA_DIR": str(tmp_path)} | env)


def test_a_statement_timeout_of_zero_means_none_and_fits_any_request(tmp_path: Path) -> None:
    env = {"MOVR_STATEMENT_TIMEOUT_MS": "0", "MOVR_REQUEST_TIMEOUT_MS": "3000"}
    settings = Settings.from_env(BASE | {"MOVR_DATA_DIR": str(tmp_path)} | env)
    assert settings.bounds.request_ms == 3000
