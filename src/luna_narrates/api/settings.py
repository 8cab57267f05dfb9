"""/settings: every setting with its value and where it came from; stored changes that take
effect for the next turn in every process. The environment wins: a setting it sets is locked."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from luna_narrates.api.deps import ServicesDep
from luna_narrates.settings.schemas import SettingsOut

router = APIRouter(prefix="/settings", tags=["settings"])

EXAMPLE = {
    "writer_model": "ollama:llama3.1",
    "writer_fallbacks": ["local:smollm2"],
    "briefing_token_budget": 600,
    "arc_length_turns": None,
}


@router.get("")
async def show_settings(services: ServicesDep) -> SettingsOut:
    return services.store.show()  # the request refreshed it


@router.put("")
async def change_settings(
    services: ServicesDep,
    changes: Annotated[
        dict[str, Any],
        Body(
            description="The settings to change, by name; `null` forgets a stored value (back "
            "to the default). All are checked before any is stored: 422 names an unknown or "
            "invalid one, 409 one the environment sets.",
            examples=[EXAMPLE],
        ),
    ],
) -> SettingsOut:
    return await services.store.update(changes)
