"""Cost tests play turns on the recording models of tests/scripted.py, or on the fake Anthropic
server of tests/fakes (its fixtures are those of tests/narration/test_remote_providers.py)."""

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete

from luna_narrates.db.tables import ModelPricing
from luna_narrates.services import Services
from tests.narration.conftest import room, services, settings
from tests.narration.test_remote_providers import claude, claude_server

__all__ = ["claude", "claude_server", "operator_prices", "room", "services", "settings"]


@pytest.fixture
async def operator_prices(services: Services) -> AsyncIterator[None]:
    """The prices a test sets as an operator are gone after it (genai-prices' rows stay: the
    test database seeds them once)."""
    yield
    async with services.db.transaction() as session:
        await session.execute(delete(ModelPricing).where(ModelPricing.source == "operator"))
