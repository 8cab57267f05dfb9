"""Engine and session factory; every connection sees the `luna` schema first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from luna_narrates.config import Settings
from luna_narrates.db.embedded import start_embedded_postgres

SEARCH_PATH_OPTION = "-c search_path=luna,public"


def resolve_database_url(settings: Settings) -> str:
    """A libpq URI (`postgresql://…`); starts the embedded server when none is configured."""
    if settings.database_url:
        return settings.database_url
    return start_embedded_postgres(settings.embedded_database_dir)


def sqlalchemy_url(libpq_url: str, *, driver: str = "psycopg") -> str:
    url = make_url(libpq_url)
    return url.set(drivername=f"postgresql+{driver}").render_as_string(hide_password=False)


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10) -> Database:
        engine = create_async_engine(
            sqlalchemy_url(url),
            pool_size=pool_size,
            max_overflow=10,
            pool_pre_ping=True,
            connect_args={"options": SEARCH_PATH_OPTION},
        )
        return cls(
            url=url, engine=engine, sessions=async_sessionmaker(engine, expire_on_commit=False)
        )

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits on success and rolls back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
