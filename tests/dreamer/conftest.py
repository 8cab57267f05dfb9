"""Dreamer tests play turns on the recording models of tests/scripted.py, with the Dreamer
and images on (drawn by the placeholder renderer)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from luna_narrates.config import Settings
from luna_narrates.services import Services
from tests.conftest import make_settings
from tests.narration.conftest import room
from tests.scripted import FN_MODELS, Room

__all__ = ["room"]


@pytest.fixture
def settings(database_url: str, data_dir: Path) -> Settings:
    return make_settings(
        database_url,
        data_dir,
        images_enabled=True,
        dreamer_continuous_generation=True,
        image_action_every_n_turns=0,
        **FN_MODELS,
    )


@pytest.fixture
async def services(services: Services, room: Room) -> AsyncIterator[Services]:
    room.install(services.registry)
    yield services
