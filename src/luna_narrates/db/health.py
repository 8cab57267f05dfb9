"""Database checks for `luna doctor`: connection, PostgreSQL version, pgvector, migrations.

Nothing here prints; each check is a `DatabaseCheck` the CLI renders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from luna_narrates.config import Settings
from luna_narrates.db import migrate
from luna_narrates.db.engine import SEARCH_PATH_OPTION, resolve_database_url, sqlalchemy_url

CONNECT_TIMEOUT_SECONDS = 5
MASK = "***"
PASSWORD_PARAMETER = re.compile(r"((?:^|&)password=)[^&#]*")


@dataclass(frozen=True)
class DatabaseCheck:
    name: str
    ok: bool
    detail: str


def mask_database_url(url: str) -> str:
    """The URL with any password (in the authority or a `password=` parameter) replaced."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(hidden: not a URL)"
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        url = url.replace(parts.netloc, f"{parts.username or ''}:{MASK}@{host}", 1)
    head, question, query = url.partition("?")
    return head + question + PASSWORD_PARAMETER.sub(rf"\g<1>{MASK}", query)


def check_database(settings: Settings) -> list[DatabaseCheck]:
    """Connects (starting the embedded server when DATABASE_URL is unset) and inspects it."""
    where = _where(settings)
    try:
        url = resolve_database_url(settings)
        engine = create_engine(
            sqlalchemy_url(url),
            connect_args={
                "options": SEARCH_PATH_OPTION,
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            },
        )
        try:
            with engine.connect() as connection:
                checks = [_server(connection, where), _pgvector(connection)]
        finally:
            engine.dispose()
    except Exception as error:
        return [DatabaseCheck("database", False, f"{where}: {_one_line(error)}")]
    return [*checks, check_migrations(url)]


def _where(settings: Settings) -> str:
    if settings.database_url:
        return mask_database_url(settings.database_url)
    return f"embedded PostgreSQL in {settings.embedded_database_dir}"


def _server(connection: Connection, where: str) -> DatabaseCheck:
    version = connection.execute(text("SHOW server_version")).scalar_one()
    return DatabaseCheck("database", True, f"PostgreSQL {version} ({where})")


def _pgvector(connection: Connection) -> DatabaseCheck:
    installed = connection.execute(
        text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    ).scalar_one_or_none()
    if installed is not None:
        return DatabaseCheck("pgvector", True, f"extension installed, version {installed}")
    available = connection.execute(
        text("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'")
    ).scalar_one_or_none()
    if available is None:
        return DatabaseCheck("pgvector", False, "not available on this server: install pgvector")
    return DatabaseCheck(
        "pgvector", False, f"available ({available}) but not installed: run `luna db upgrade`"
    )


def check_migrations(url: str) -> DatabaseCheck:
    """The Alembic revision of the database against the newest migration shipped."""
    from alembic.script import ScriptDirectory

    try:
        heads = ScriptDirectory.from_config(migrate.alembic_config(url)).get_heads()
        current = migrate.current_revision(url)
    except Exception as error:
        return DatabaseCheck("migrations", False, _one_line(error))
    head = ", ".join(heads)
    if current in heads:
        return DatabaseCheck("migrations", True, f"at head ({head})")
    return DatabaseCheck(
        "migrations", False, f"at {current or 'no revision'}, head is {head}: run `luna db upgrade`"
    )


def _one_line(error: BaseException) -> str:
    # SQLAlchemy wraps the driver's error; the driver's own message is the useful one.
    message = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {message[0] if message else ''}".rstrip(": ")
