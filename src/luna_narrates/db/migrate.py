"""Applies Alembic migrations; run at start-up and by `luna db upgrade`."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(libpq_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["libpq_url"] = libpq_url
    return config


def upgrade(libpq_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(libpq_url), revision)


def current_revision(libpq_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from luna_narrates.db.engine import SEARCH_PATH_OPTION, sqlalchemy_url

    engine = create_engine(sqlalchemy_url(libpq_url), connect_args={"options": SEARCH_PATH_OPTION})
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table_schema": "luna"})
            return context.get_current_revision()
    finally:
        engine.dispose()
