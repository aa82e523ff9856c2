"""Real databases for backend tests: a file SQLite and a private PostgreSQL cluster.

`postgres_url` starts one PostgreSQL server per test session (initdb + pg_ctl
on a free port, as the `postgres` user when running as root) and stops it at
the end. Without PostgreSQL's server binaries it fails, never skips: run
`make test` (which installs them) or `apt-get install -y postgresql`.

`db` is a migrated `Database`, once on SQLite and once on PostgreSQL (a fresh
database per test); `database_url` is the same, unmigrated.

`s3` is a real S3-compatible server for the test session (moto's
`ThreadedMotoServer` on a loopback port, in this process) with one bucket;
`s3.env` are the AWS variables that point a client (this process, or a
`plait server` subprocess and its workers) at it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from plait.backend.store import Database
from s3_fixture import S3

_PG_USER = "plait"


def postgres_bindir() -> Path | None:
    """The folder of `initdb` and `pg_ctl`: on PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.parent.name)] or [0],
    )
    return versions[-1].parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    bindir = postgres_bindir()
    if bindir is None:
        pytest.fail(
            "PostgreSQL's server binaries (initdb, pg_ctl) are not installed, and the backend "
            "tests run against a real PostgreSQL. Install them with `make test` (it runs "
            "scripts/ensure-postgres.sh) or `apt-get install -y postgresql`.",
            pytrace=False,
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail(
            "the PostgreSQL driver is missing: pip install -e '.[server]' (psycopg[binary])",
            pytrace=False,
        )
    prefix: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="plait-pg-"))
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            shutil.chown(base, "postgres", "postgres")
        except LookupError:
            shutil.rmtree(base)
            pytest.fail(
                "running as root but there is no `postgres` user to run PostgreSQL as; "
                "install the `postgresql` package (it creates the user)",
                pytrace=False,
            )
        prefix = ["runuser", "-u", "postgres", "--"]
    data, log, port = base / "data", base / "server.log", _free_port()

    def run(*args: str) -> None:
        try:
            subprocess.run(
                [*prefix, *args], cwd=base, check=True, capture_output=True, text=True, timeout=60
            )
        except subprocess.CalledProcessError as error:
            server_log = log.read_text() if log.exists() else ""
            pytest.fail(
                f"{' '.join(args)} failed:\n{error.stdout}{error.stderr}\n{server_log}",
                pytrace=False,
            )

    options = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off"
    )
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", _PG_USER, "-A", "trust"]
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-w", "-t", "60"]
    try:
        run(*initdb, "-E", "UTF8", "--no-locale", "--no-sync")
        run(*pg_ctl, "-l", str(log), "-o", options, "start")
        try:
            yield f"postgresql+psycopg://{_PG_USER}@127.0.0.1:{port}/postgres"
        finally:
            run(*pg_ctl, "-m", "immediate", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _admin(postgres_url: str, sql: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as connection:
        connection.execute(sql)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'plait.db'}"
        return
    server = request.getfixturevalue("postgres_url")
    name = f"test_{uuid.uuid4().hex[:12]}"
    _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated `Database` on SQLite and on PostgreSQL."""
    database = Database(database_url)
    database.migrate()
    try:
        yield database
    finally:
        database.dispose()


# ------------------------------------------------------------------ S3


@pytest.fixture(scope="session")
def s3() -> Iterator[S3]:
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        started = S3(f"http://{host}:{port}", "plait-tests")
        env = started.env
        boto3.client("s3", endpoint_url=started.endpoint, region_name=env["AWS_DEFAULT_REGION"],
                     aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                     aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"]).create_bucket(Bucket=started.bucket)
        yield started
    finally:
        server.stop()
