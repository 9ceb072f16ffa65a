"""Settings: defaults, validation, and the development secret key."""

from __future__ import annotations

from pathlib import Path

import pytest

from movr.config import ConfigError, Settings

BASE = {"SECRET_KEY": "x" * 32}


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
        ("SECRET_KEY", "short"),
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
