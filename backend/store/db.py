"""`Database(url)`: the engine, transactions and migrations.

    db = Database("sqlite:////home/me/.plait/plait.db")   # or postgresql://...
    db.migrate()                     # Alembic upgrade head; a no-op when current
    with db.session() as s:          # commits on success, rolls back on error
        queries.ensure_project(s, "default")
    db.dispose()

SQLite runs in WAL mode with foreign keys on and a busy timeout, and every
write transaction starts with `BEGIN IMMEDIATE`, so two writers queue for the
lock instead of failing half-way through (`session(readonly=True)` begins a
plain deferred transaction that readers share). PostgreSQL runs at READ
COMMITTED; queries.py makes each contended write a single conditional UPDATE
or INSERT ... ON CONFLICT so that it stays correct there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

_SQLITE_BUSY_TIMEOUT_MS = 30_000
# Any constant shared by every plait server: serialises concurrent migrations.
_PG_MIGRATION_LOCK = 0x706C6169


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        parsed = make_url(url)
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 ships with plait
        self.dialect = parsed.get_backend_name()
        options: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            database = parsed.database or ""
            memory = database in ("", ":memory:") or "mode=memory" in str(parsed)
            if not memory:
                Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
                parsed = parsed.set(database=os.path.expanduser(database))
            options["connect_args"] = {"check_same_thread": False}
            if memory:
                options["poolclass"] = StaticPool  # one shared in-memory database
        elif self.dialect == "postgresql":
            options["pool_pre_ping"] = True
        self.url = parsed
        self.engine: Engine = create_engine(parsed, **options)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._readonly_sessions = sessionmaker(
            self.engine.execution_options(plait_readonly=True), expire_on_commit=False
        )

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error.

        Pass `readonly=True` when the block only reads: on SQLite it then
        reads a snapshot instead of queueing behind writers for the lock.
        """
        factory = self._readonly_sessions if readonly else self._sessions
        with factory() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest revision (Alembic `upgrade head`)."""
        from alembic import command

        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            command.upgrade(alembic_config(connection), "head")

    def revision(self) -> str | None:
        """The schema revision stored in the database (None before `migrate`)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Any:
    """An Alembic `Config` for backend/migrations, built in code (no alembic.ini)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        readonly = connection.get_execution_options().get("plait_readonly", False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")
