"""The container image's steps, run on this machine (Docker itself cannot run here).

What the Dockerfile does: build the MovR wheel from pyproject.toml, README.md and src/ only;
install requirements-runtime.lock with --require-hashes into a clean venv, then the wheel with
--no-deps. Then, through the Dockerfile's own ENTRYPOINT, CMD and HEALTHCHECK (read from the
file): migrate a scratch database on the test PostgreSQL, serve it, check the health, readiness
and pages, and stop with SIGTERM.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, make_url, text

from movr.db.migrate import head_revision
from tests.processes import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 600  # seconds; a cold pip cache downloads every locked distribution
STOP_TIMEOUT = 30
SECRET_KEY = "wheel-test-secret-key-0123456789-abcdef"
# Variables of the developer's shell that would change what the installed package does.
HOST_ONLY = ("DATABASE_URL", "SECRET_KEY", "PORT", "WEB_CONCURRENCY", "PYTHONPATH", "PYTHONHOME")


def dockerfile() -> dict[str, str]:
    """The Dockerfile's instructions, keyword → arguments (the last one wins)."""
    joined = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    instructions: dict[str, str] = {}
    for line in joined.splitlines():
        keyword, _, arguments = line.strip().partition(" ")
        if keyword.isalpha() and keyword.isupper():
            instructions[keyword] = arguments.strip()
    return instructions


def environment(venv: Path, **extra: str) -> dict[str, str]:
    """The image's environment: this machine's, minus MovR settings, with the venv first."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in HOST_ONLY and not key.startswith(("MOVR_", "PROMETHEUS_", "VIRTUAL_ENV"))
    }
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def run(
    args: list[str], *, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 -- our own interpreter, venv and Dockerfile commands
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(args)} exited with {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result


@pytest.fixture
def scratch_url(server_url: str, worker_id: str) -> Iterator[str]:
    """URL of an empty database of its own on the test server (Unix socket URL kept as is)."""
    name = f"movr_wheel_{worker_id}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_wheel_installs_from_the_runtime_lock_and_serves(tmp_path: Path, scratch_url: str) -> None:
    image = dockerfile()
    entrypoint: list[str] = json.loads(image["ENTRYPOINT"])
    command: list[str] = json.loads(image["CMD"])
    healthcheck = image["HEALTHCHECK"].split(" CMD ", 1)[1]

    # Build stage: the wheel from the files the Dockerfile copies (.dockerignore: no egg-info,
    # no bytecode), built outside the working tree so that no build/ folder lands in it.
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "src",
        source / "src",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )
    wheels = tmp_path / "wheels"
    pip = ["-m", "pip", "--disable-pip-version-check"]
    run([sys.executable, *pip, "wheel", "--no-deps", "-w", str(wheels), "."], cwd=source)
    (wheel,) = wheels.glob("movr-*.whl")

    # Runtime stage: a clean venv, the hash-checked runtime lock, then the wheel alone.
    venv = tmp_path / "venv"
    python = str(venv / "bin" / "python")
    run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    lock = str(ROOT / "requirements-runtime.lock")
    run(
        [python, *pip, "install", "--require-hashes", "-r", lock],
        cwd=tmp_path,
        timeout=INSTALL_TIMEOUT,
    )
    run([python, *pip, "install", "--no-deps", str(wheel)], cwd=tmp_path)
    run([python, *pip, "check"], cwd=tmp_path)  # the lock satisfies the wheel's requirements

    # The wheel is complete: every file of the source package is installed (templates, vendored
    # static files, migrations, region map), and the code runs from the venv, not from src/.
    site_packages = venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    installed = site_packages / "site-packages" / "movr"
    assert (installed / "web/ui/static/vendor/leaflet/leaflet.js").is_file()
    assert (installed / "db/migrations/versions/0001_initial.py").is_file()
    package = source / "src" / "movr"  # the copy the wheel was built from
    missing = [
        str(path.relative_to(package))
        for path in package.rglob("*")
        if path.is_file() and not (installed / path.relative_to(package)).is_file()
    ]
    assert missing == [], f"not in the wheel (see [tool.setuptools.package-data]): {missing}"
    imported = run([python, "-c", "import movr; print(movr.__file__)"], cwd=tmp_path).stdout
    assert Path(imported.strip()).is_relative_to(installed)

    # Without DATABASE_URL the entrypoint refuses to serve (no embedded database in containers).
    refused = subprocess.run(  # noqa: S603 -- the Dockerfile's entrypoint
        [*entrypoint, *command],
        cwd=tmp_path,
        env=environment(venv, SECRET_KEY=SECRET_KEY),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode == 64, refused.stderr
    assert "DATABASE_URL is required" in refused.stderr

    # Migrations are a separate step: `docker run … movr db upgrade`.
    data_dir = tmp_path / "data"
    env = environment(venv, DATABASE_URL=scratch_url, MOVR_DATA_DIR=str(data_dir))
    migrated = run([*entrypoint, "movr", "db", "upgrade"], cwd=tmp_path, env=env)
    assert f"database at revision {head_revision()}" in migrated.stdout

    # The container's command (listening on loopback here rather than on every interface).
    port = free_port()
    env.update(SECRET_KEY=SECRET_KEY, PORT=str(port), WEB_CONCURRENCY="2")
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 -- the Dockerfile's entrypoint and command
            [*entrypoint, *command, "--host", "127.0.0.1"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/healthz", server, log=log)
        run(["/bin/sh", "-c", healthcheck], cwd=tmp_path, env=env, timeout=10)
        with httpx.Client(base_url=base, timeout=10) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["revision"] == head_revision()
            login = client.get("/login")
            assert login.status_code == 200
            assert "Served from gcp-us-east1" in login.text
            assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200
            assert client.get("/api/v1/docs").status_code == 200
            assert client.get("/api/v1/openapi.json").status_code == 200
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            pytest.fail(f"movr serve did not stop within {STOP_TIMEOUT}s:\n{log.read_text()}")
    assert server.returncode == 0, log.read_text()
    leftover = subprocess.run(  # noqa: S603
        ["/usr/bin/pgrep", "-f", str(venv)], capture_output=True, text=True, check=False
    )
    assert leftover.stdout == "", f"processes left running: {leftover.stdout}"
