"""Alembic environment: a synchronous psycopg connection with the `luna` schema first."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, text

from luna_narrates.db.engine import SEARCH_PATH_OPTION, sqlalchemy_url
from luna_narrates.db.tables import SCHEMA, Base

config = context.config
url = config.attributes["libpq_url"]

engine = create_engine(sqlalchemy_url(url), connect_args={"options": SEARCH_PATH_OPTION})
with engine.connect() as connection:
    # Concurrent starts (server + worker) must not race on the same migration.
    connection.execute(text("SELECT pg_advisory_lock(7216151)"))
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    connection.commit()
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        version_table_schema=SCHEMA,
        include_schemas=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.execute(text("SELECT pg_advisory_unlock(7216151)"))
    connection.commit()
engine.dispose()
