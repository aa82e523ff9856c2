"""Alembic migrations of the store's schema; `Database.migrate()` runs them."""
