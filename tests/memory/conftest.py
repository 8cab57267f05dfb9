"""Memory tests run on the recording models of tests/scripted.py, like the pipeline's."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from luna_narrates.agents.preprocessor.memory_schemas import TurnMemory
from luna_narrates.db.tables import Turn
from luna_narrates.memory import tasks
from luna_narrates.services import Services
from tests.narration.conftest import room, services, settings

__all__ = ["room", "services", "settings"]


async def import_turns(
    client: httpx.AsyncClient, story_id: object, turns: list[tuple[str, str]]
) -> dict[str, Any]:
    response = await client.post(
        f"/stories/{story_id}/turns/import",
        json={"turns": [{"user_action": a, "narrative_text": n} for a, n in turns]},
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def turn_id(services: Services, branch_id: uuid.UUID | str, number: int) -> uuid.UUID:
    from sqlalchemy import select

    async with services.db.sessions() as session:
        found = await session.scalar(
            select(Turn.id).where(
                Turn.branch_id == uuid.UUID(str(branch_id)),
                Turn.turn_number == number,
                Turn.is_selected,
            )
        )
    assert found is not None
    return found


async def remember(
    services: Services, branch_id: uuid.UUID | str, number: int, **memory: Any
) -> None:
    """Indexes a turn and writes its memory as the jobs would, from a scripted TurnMemory."""
    found = await turn_id(services, branch_id, number)
    assert await tasks.index_turn(services.db, services.embedder, found)
    context = await tasks.read_turn(services.db, found, names=True)
    assert context is not None
    data = TurnMemory(summary=memory.pop("summary", f"Turn {number} happened."), **memory)
    await tasks.write_memory(services.db, services.embedder, context, data)


async def fork(
    client: httpx.AsyncClient, story_id: object, parent: uuid.UUID | str, at_turn: int
) -> uuid.UUID:
    """A branch off `parent` after turn `at_turn`, through the API; the active one stays."""
    response = await client.post(
        f"/stories/{story_id}/branches",
        json={
            "branch_name": f"Fork at {at_turn} of {parent}",
            "from_turn_number": at_turn,
            "from_branch_id": str(parent),
            "make_active": False,
        },
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def add_turn(
    services: Services, story_id: object, branch_id: uuid.UUID, number: int, action: str, text: str
) -> uuid.UUID:
    from decimal import Decimal

    turn = Turn(
        id=uuid.uuid4(),
        story_id=uuid.UUID(str(story_id)),
        branch_id=branch_id,
        turn_number=number,
        user_action=action,
        narrative_text=text,
        briefing={},
        plan={},
        total_cost_usd=Decimal(0),
        total_execution_time_seconds=0.0,
        origin="imported",
    )
    async with services.db.transaction() as session:
        session.add(turn)
    return turn.id
