"""Turn generation: one JSON request, or a Server-Sent Events stream of the turn's progress."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sse_starlette import EventSourceResponse

from luna_narrates.api.access import PrincipalDep, check_models, check_story
from luna_narrates.api.deps import NarratorDep
from luna_narrates.api.images import image_out
from luna_narrates.api.stories import TurnNumber
from luna_narrates.errors import LunaError
from luna_narrates.images import service as images
from luna_narrates.narration.pipeline import Narrator, PreparedTurn
from luna_narrates.narration.schemas import (
    ModelOverrides,
    RegenerateRequest,
    TurnRequest,
    TurnResponse,
)

router = APIRouter(tags=["narration"])


@router.post("/narrate/turn")
async def narrate_turn(
    request: TurnRequest, narrator: NarratorDep, who: PrincipalDep
) -> TurnResponse:
    """Runs Preprocessor → Strategist → Writer and returns the committed turn."""
    check_models(who, request)
    async with narrator.db.sessions() as session:
        await check_story(session, who, request.story_id)
    return await narrator.run(request)


@router.get(
    "/narrates/stories/{story_id}/generate",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Turn events."}},
)
async def generate_turn(
    story_id: uuid.UUID,
    action: Annotated[str, Query(min_length=1, max_length=1_000)],
    narrator: NarratorDep,
    models: Annotated[ModelOverrides, Query()],
    who: PrincipalDep,
    branch_id: Annotated[uuid.UUID | None, Query()] = None,
) -> EventSourceResponse:
    """Streams `status`, `cost_estimate`, `agent_start`, `agent_complete`, `token`, then
    `done` with the stored turn, or `error`. A client that disconnects cancels the turn,
    and a cancelled turn stores nothing. The turn goes on `branch_id`, or the active branch.
    After `done`, an `image_ready` comes for each of the turn's images drawn while the client
    stays (up to `IMAGE_STREAM_WAIT_SECONDS`); the stream ends when none is left to draw."""
    check_models(who, models)
    request = TurnRequest(
        story_id=story_id, user_action=action, branch_id=branch_id, **models.overrides()
    )
    prepared = await narrator.prepare(request)
    return EventSourceResponse(_sse(narrator, prepared), ping=15)


@router.get(
    "/narrates/stories/{story_id}/turns/{turn_number}/regenerate",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Turn events."}},
)
async def stream_regenerated_turn(
    story_id: uuid.UUID,
    turn_number: TurnNumber,
    narrator: NarratorDep,
    models: Annotated[ModelOverrides, Query()],
    who: PrincipalDep,
    action: Annotated[str | None, Query(min_length=1, max_length=1_000)] = None,
    branch_id: Annotated[uuid.UUID | None, Query()] = None,
) -> EventSourceResponse:
    """The events of `POST /stories/{id}/turns/{n}/regenerate`, streamed as for a new turn."""
    check_models(who, models)
    data = RegenerateRequest(user_action=action, branch_id=branch_id, **models.overrides())
    prepared = await narrator.prepare_regeneration(story_id, turn_number, data)
    return EventSourceResponse(_sse(narrator, prepared), ping=15)


async def _sse(narrator: Narrator, prepared: PreparedTurn) -> AsyncIterator[dict[str, Any]]:
    """The turn's events; then, while the client stays (`IMAGE_STREAM_WAIT_SECONDS` at most),
    an `image_ready` for each of the turn's images as it is drawn."""
    turn_id = None
    try:
        async for event in narrator.events(prepared):
            yield {"event": event.type, "data": json.dumps(event.data)}
            if event.type == "done":
                turn_id = uuid.UUID(event.data["turn"]["turn_id"])
    except LunaError as error:
        yield {
            "event": "error",
            "data": json.dumps({"status": error.status_code, **error.to_dict()}),
        }
    settings = narrator.settings
    if turn_id is None or not settings.images_enabled or not settings.image_stream_wait_seconds:
        return
    async for image, number in images.watch_turn(
        narrator.db, turn_id, limit=settings.image_stream_wait_seconds
    ):
        yield {"event": "image_ready", "data": image_out(image, number).model_dump_json()}
