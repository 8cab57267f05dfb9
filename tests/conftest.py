"""Fixtures: one real PostgreSQL (pgserver) per test session, migrated by Alembic; the real app
through an async HTTP client; tables emptied after each test."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, text

from luna_narrates.app import create_app
from luna_narrates.config import Settings
from luna_narrates.db import migrate
from luna_narrates.db.embedded import start_embedded_postgres, stop_embedded_postgres
from luna_narrates.db.tables import LOCAL_OWNER_ID, User
from luna_narrates.services import Services, open_services


@pytest.fixture(scope="session")
def data_dir() -> Iterator[Path]:
    # Short on purpose: pgserver's Unix socket lives in the data directory (107-byte limit).
    with tempfile.TemporaryDirectory(prefix="luna-", dir="/tmp") as directory:
        yield Path(directory)
        if (Path(directory) / "pg").exists():
            stop_embedded_postgres(Path(directory) / "pg")


@pytest.fixture(scope="session")
def database_url(data_dir: Path) -> str:
    url = start_embedded_postgres(data_dir / "pg")
    migrate.upgrade(url)
    return url


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "luna_data_dir": data_dir,
        "preprocessor_model": "test",
        "strategist_model": "test",
        "writer_model": "test",
        "turn_wait_seconds": 30,
        "images_enabled": False,  # the image and Dreamer tests turn them on
        "dreamer_continuous_generation": False,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg,arg-type]


@pytest.fixture
def settings(database_url: str, data_dir: Path) -> Settings:
    return make_settings(database_url, data_dir)


@asynccontextmanager
async def services_on(settings: Settings) -> AsyncIterator[Services]:
    """Services on `settings`, with what the test created emptied afterwards."""
    async with open_services(settings, run_worker=False) as opened:
        yield opened
        async with opened.db.transaction() as session:
            await session.execute(
                text(f"TRUNCATE {', '.join(f'luna.{t}' for t in TOP_TABLES)} CASCADE")
            )
            await session.execute(text("DELETE FROM luna.procrastinate_jobs"))
            await session.execute(delete(User).where(User.id != LOCAL_OWNER_ID))


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with services_on(settings) as opened:
        yield opened


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services.settings, run_worker=False)
    app.state.services = services
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://luna.test") as http:
        yield http


# What a test may create that other rows hang from; emptied after each test.
TOP_TABLES = (
    "stories",
    "lorebooks",
    "character_cards",
    "worlds",
    "settings",
    "image_workers",
    "community_assets",
    "asset_collections",
)
STORY = {
    "title": "The Canal Thief",
    "genre": "fantasy",
    "premise": "In the canal city of Veyra, the thief Ila plans to steal the Doge's cursed crown.",
    "protagonist": "Ila, a quick-witted thief with a debt to the Guild",
}


@pytest.fixture
async def story(client: httpx.AsyncClient) -> dict[str, object]:
    response = await client.post("/stories", json=STORY)
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created
