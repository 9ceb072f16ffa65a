"""The embedded PostgreSQL server: lifecycle, persistence, adoption, crash recovery, databases."""

from __future__ import annotations

import os
import pwd
import secrets
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from movr.config import Settings
from movr.db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from movr.db.runtime import database_url


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh MovR data folder (not created: start() must create it)."""
    return tmp_path / "data"


@pytest.fixture
def pg(data_dir: Path) -> Iterator[EmbeddedPostgres]:
    """An embedded server on a fresh data dir, always stopped afterwards."""
    server = EmbeddedPostgres(data_dir)
    yield server
    # Whatever the test did, leave no postmaster behind.
    server.stop()
    assert not server.is_running()


def _connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    """Open a psycopg connection from the SQLAlchemy URL the server hands out."""
    parsed = make_url(url)
    port = parsed.query.get("port", "5432")
    assert isinstance(port, str)
    return psycopg.connect(
        host=str(parsed.query["host"]),
        port=int(port),
        user=parsed.username,
        dbname=parsed.database,
        autocommit=True,
    )


def _scalar(url: str, query: str) -> object:
    """Run one query and return the first column of its first row."""
    with _connect(url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]


def _postmaster_pid(server: EmbeddedPostgres) -> int:
    """Read the postmaster pid the way an operator would."""
    return int((server.pgdata / "postmaster.pid").read_text().splitlines()[0])


def _wait_dead(pid: int, timeout: float = 30.0) -> None:
    """Wait until `pid` has exited (a zombie awaiting its reaper counts as exited)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except FileNotFoundError:
            return
        if state in {"Z", "X"}:
            return
        time.sleep(0.05)
    pytest.fail(f"pid {pid} still alive after {timeout}s")


def test_start_query_stop(pg: EmbeddedPostgres, data_dir: Path) -> None:
    assert not pg.is_running()
    pg.start()
    assert pg.is_running()
    assert _scalar(pg.url(), "SELECT 1") == 1
    # Unix socket only, in the data dir, private to the server's user.
    assert _scalar(pg.url(), "SHOW listen_addresses") == ""
    socket_dir = data_dir / "run"
    assert make_url(pg.url()).query["host"] == str(socket_dir)
    assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
    if os.geteuid() == 0:
        server_uid = pwd.getpwnam("movr-postgres").pw_uid
        assert socket_dir.stat().st_uid == server_uid
        assert Path(f"/proc/{_postmaster_pid(pg)}").stat().st_uid == server_uid

    pg.stop()
    assert not pg.is_running()
    assert not (pg.pgdata / "postmaster.pid").exists()
    with pytest.raises(EmbeddedPostgresError, match="not running"):
        pg.url()
    pg.stop()  # a no-op once stopped


def test_data_persists_across_restart(pg: EmbeddedPostgres) -> None:
    with pg, _connect(pg.url()) as conn:
        conn.execute("CREATE TABLE rides (id int PRIMARY KEY, city text)")
        conn.execute("INSERT INTO rides VALUES (1, 'amsterdam')")
    assert not pg.is_running()
    with pg:
        assert _scalar(pg.url(), "SELECT city FROM rides WHERE id = 1") == "amsterdam"


def test_start_is_idempotent_and_serialised(pg: EmbeddedPostgres, data_dir: Path) -> None:
    # Two instances starting at once stand in for two processes (the flock is per open file).
    other = EmbeddedPostgres(data_dir)
    failures: list[BaseException] = []

    def start(server: EmbeddedPostgres) -> None:
        try:
            server.start()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(server,)) for server in (pg, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    pid = _postmaster_pid(pg)

    pg.start()
    assert _postmaster_pid(pg) == pid
    assert _scalar(pg.url(), "SELECT 1") == 1


def test_second_instance_adopts_running_server(pg: EmbeddedPostgres, data_dir: Path) -> None:
    pg.start()
    pid = _postmaster_pid(pg)

    adopter = EmbeddedPostgres(data_dir)
    assert adopter.is_running()
    adopter.start()
    assert _postmaster_pid(adopter) == pid
    assert adopter.url("postgres") == pg.url("postgres")
    engine = create_engine(adopter.url())
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()

    adopter.stop()
    assert not pg.is_running()


def test_recovers_after_postmaster_killed(pg: EmbeddedPostgres) -> None:
    pg.start()
    with _connect(pg.url()) as conn:
        conn.execute("CREATE TABLE survivors (id int)")
        conn.execute("INSERT INTO survivors VALUES (42)")
    pid = _postmaster_pid(pg)
    os.kill(pid, signal.SIGKILL)
    _wait_dead(pid)
    assert (pg.pgdata / "postmaster.pid").exists()  # the stale lock file a killed run leaves
    assert not pg.is_running()

    pg.start()
    assert _postmaster_pid(pg) != pid
    # Committed data survives the crash (WAL replay with fsync on).
    assert _scalar(pg.url(), "SELECT id FROM survivors") == 42


def test_databases_with_long_data_dir(tmp_path: Path) -> None:
    # A path too long for a Unix socket moves the socket to a short private dir under /tmp.
    data_dir = tmp_path / ("d" * 60) / "movr"
    server = EmbeddedPostgres(data_dir)
    try:
        server.start()
        socket_dir = Path(str(make_url(server.url()).query["host"]))
        assert socket_dir.parent == Path(tempfile.gettempdir())
        assert socket_dir.name.startswith("movr-pg-")
        assert stat.S_IMODE(socket_dir.lstat().st_mode) == 0o700

        server.ensure_database("movr_test")
        server.ensure_database("movr_test")  # idempotent
        assert _scalar(server.url("movr_test"), "SELECT current_database()") == "movr_test"

        server.drop_database("movr_test")
        server.drop_database("movr_test")  # IF EXISTS
        with pytest.raises(psycopg.OperationalError, match="movr_test"):
            _connect(server.url("movr_test")).close()
    finally:
        server.stop()
    assert not socket_dir.exists()


def test_start_failure_reports_log_tail(pg: EmbeddedPostgres) -> None:
    pg.start()
    pg.stop()
    with (pg.pgdata / "postgresql.conf").open("a") as conf:
        conf.write("movr_no_such_setting = 1\n")
    with pytest.raises(EmbeddedPostgresError, match="movr_no_such_setting") as caught:
        pg.start()
    assert str(pg.data_dir / "postgres.log") in str(caught.value)
    assert not pg.is_running()


def test_a_database_task_leaves_a_running_demo_database_running(
    pg: EmbeddedPostgres, data_dir: Path
) -> None:
    """`movr db …` while `movr demo` runs on the same data folder must not stop its server."""
    settings = Settings.from_env(
        {"SECRET_KEY": secrets.token_urlsafe(32), "MOVR_DATA_DIR": str(data_dir)}
    )
    with database_url(settings):
        pass
    assert not pg.is_running()  # started for the task, stopped after it
    pg.start()
    pid = _postmaster_pid(pg)
    with database_url(settings) as url:
        assert _scalar(url, "SELECT 1") == 1
    assert pg.is_running()
    assert _postmaster_pid(pg) == pid


def test_a_server_left_running_by_a_dead_process_is_taken_over_and_stopped(
    data_dir: Path,
) -> None:
    """A process that started the server and died without stopping it (SIGKILL, a crash) leaves
    it to the next user, which stops it when done; a live owner's server is left alone."""
    started = (
        "import sys; from pathlib import Path; from movr.db.embedded import EmbeddedPostgres; "
        "EmbeddedPostgres(Path(sys.argv[1])).start()"
    )
    subprocess.run([sys.executable, "-c", started, str(data_dir)], check=True, timeout=120)  # noqa: S603
    left = EmbeddedPostgres(data_dir)
    assert left.is_running()
    settings = Settings.from_env(
        {"SECRET_KEY": secrets.token_urlsafe(32), "MOVR_DATA_DIR": str(data_dir)}
    )
    try:
        with database_url(settings) as url:
            assert _scalar(url, "SELECT 1") == 1
        assert not left.is_running()
    finally:
        left.stop()
