"""Story export (JSON archive, Markdown, HTML, EPUB) and import of our JSON archive."""

from __future__ import annotations

import functools
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from luna_narrates.api.access import PrincipalDep
from luna_narrates.api.deps import ServicesDep
from luna_narrates.api.stories import BranchQuery
from luna_narrates.api.uploads import multipart_body, read_upload
from luna_narrates.archive import export
from luna_narrates.archive.imports import import_story
from luna_narrates.archive.schemas import ExportFormat, StoryImported
from luna_narrates.jobs.queue import enqueue_lore_embedding

router = APIRouter(prefix="/stories", tags=["export and import"])

MAX_IMPORT_BYTES = 100 * 1024 * 1024


@router.get(
    "/{story_id}/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {media: {} for media, _ in export.MEDIA_TYPES.values()},
            "description": "The story, as a file to download.",
        }
    },
)
async def export_story(
    story_id: uuid.UUID,
    services: ServicesDep,
    format: Annotated[ExportFormat, Query(description="json carries everything.")] = "json",
    branch_id: BranchQuery = None,
) -> StreamingResponse:
    """`json` is the lossless, versioned archive of every branch, take, agent output, cost and
    memory row, streamed; `markdown`, `html` and `epub` are readable books of one branch."""
    found = await export.open_export(
        services.db,
        services.settings.luna_data_dir,
        story_id,
        format,
        branch_id,
        services.settings.arc_length_turns,
    )
    return StreamingResponse(
        found.chunks,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


@router.post(
    "/import",
    status_code=201,
    openapi_extra=multipart_body(),
)
async def import_story_route(
    request: Request, services: ServicesDep, who: PrincipalDep
) -> StoryImported:
    """Recreates a story from our JSON export (any version so far), with new ids, as the JSON
    body or as a multipart `file`. Checked whole first: a bad or truncated file is refused with
    where it goes wrong, and nothing is written."""
    upload = await read_upload(request, MAX_IMPORT_BYTES, "export")
    return await import_story(
        services.db,
        who.user_id,
        services.settings.luna_data_dir,
        services.embedder,
        services.narrator.enqueue_post_turn,
        upload.data,
        functools.partial(enqueue_lore_embedding, services.jobs),
    )
