"""Alembic migrations: they match the ORM, they are re-runnable, and the embedded server checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from luna_narrates.db import migrate
from luna_narrates.db.embedded import start_embedded_postgres
from luna_narrates.db.engine import sqlalchemy_url
from luna_narrates.db.tables import SCHEMA, Base
from luna_narrates.errors import ConfigurationError


def ours(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
    if type_ == "schema":
        return name == SCHEMA
    if type_ == "table":
        return not (name or "").startswith("procrastinate") and name != "alembic_version"
    return True


# The extension lives in `luna` too, which reflection cannot map back to pgvector's type.
@pytest.mark.filterwarnings("ignore:Did not recognize type 'luna.vector'")
def test_migrations_match_the_orm(database_url: str) -> None:
    # No search_path here: `luna` must be compared as the named schema it is.
    engine = create_engine(sqlalchemy_url(database_url))
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_schemas": True, "include_name": ours}
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == []


def head(database_url: str) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(migrate.alembic_config(database_url)).get_current_head()


def test_upgrade_is_idempotent_and_at_head(database_url: str) -> None:
    migrate.upgrade(database_url)
    assert migrate.current_revision(database_url) == head(database_url)


def test_memory_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    from alembic import command

    command.downgrade(migrate.alembic_config(database_url), "0001")
    assert migrate.current_revision(database_url) == "0001"
    migrate.upgrade(database_url)
    assert migrate.current_revision(database_url) == head(database_url)


def test_pgvector_and_job_queue_live_in_the_database(database_url: str) -> None:
    engine = create_engine(sqlalchemy_url(database_url))
    with engine.connect() as connection:
        version = connection.scalar(
            text("SELECT extversion FROM pg_extension WHERE extname='vector'")
        )
        jobs = connection.scalar(text("SELECT to_regclass('luna.procrastinate_jobs') IS NOT NULL"))
        distance = connection.scalar(
            text("SELECT '[1,0]'::luna.vector OPERATOR(luna.<=>) '[0,1]'::luna.vector")
        )
    engine.dispose()
    assert version
    assert jobs is True
    assert distance == pytest.approx(1.0)


def test_too_deep_data_directory_is_refused_with_advice(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    with pytest.raises(ConfigurationError, match="LUNA_DATA_DIR"):
        start_embedded_postgres(deep)
