"""Alembic environment for plait's store.

`Database.migrate()` hands Alembic an open connection in
`config.attributes["connection"]`; no alembic.ini is needed. To draft a new
revision after changing models.py (then review it by hand):

    from alembic import command
    from plait.backend.store.db import Database, alembic_config

    db = Database("sqlite:////tmp/plait-dev.db"); db.migrate()
    with db.engine.begin() as connection:
        config = alembic_config(connection)
        command.revision(config, message="what changed", autogenerate=True)

tests/backend/test_store.py checks that the migrated schema equals the models.
"""

from __future__ import annotations

from alembic import context
from plait.backend.store.models import Base
from sqlalchemy import create_engine

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise RuntimeError("give the database as `-x url=...` or sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
