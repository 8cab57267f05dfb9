"""Services whose agents run on the recording FunctionModels of tests/scripted.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from luna_narrates.config import Settings
from luna_narrates.services import Services
from tests.conftest import make_settings
from tests.scripted import FN_MODELS, Room


@pytest.fixture
def room() -> Room:
    return Room()


@pytest.fixture
def settings(database_url: str, data_dir: Path) -> Settings:
    return make_settings(database_url, data_dir, model_timeout_seconds=5, **FN_MODELS)


@pytest.fixture
async def services(services: Services, room: Room) -> AsyncIterator[Services]:
    room.install(services.registry)
    yield services
