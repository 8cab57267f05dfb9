"""Story export (JSON archive, Markdown, HTML, EPUB) and import of our JSON archive."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from starlette.datastructures import UploadFile

from luna_narrates.api.deps import ServicesDep
from luna_narrates.api.stories import BranchQuery
from luna_narrates.archive import export
from luna_narrates.archive.imports import ImportRefused, import_story
from luna_narrates.archive.schemas import ExportFormat, StoryImported
from luna_narrates.errors import LunaError

router = APIRouter(prefix="/stories", tags=["export and import"])

MAX_IMPORT_BYTES = 100 * 1024 * 1024


class TooLarge(LunaError):
    status_code = 413
    code = "too_large"


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
        services.db, story_id, format, branch_id, services.settings.arc_length_turns
    )
    return StreamingResponse(
        found.chunks,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


@router.post(
    "/import",
    status_code=201,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
            "required": True,
        }
    },
)
async def import_story_route(request: Request, services: ServicesDep) -> StoryImported:
    """Recreates a story from our JSON export (any version so far), with new ids, as the JSON
    body or as a multipart `file`. Checked whole first: a bad or truncated file is refused with
    where it goes wrong, and nothing is written."""
    data = await _read_upload(request)
    return await import_story(
        services.db, services.embedder, services.narrator.enqueue_post_turn, data
    )


async def _read_upload(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_IMPORT_BYTES:
        raise TooLarge(f"The file is larger than {MAX_IMPORT_BYTES // 2**20} MiB.")
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=10) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ImportRefused("Send the export as the multipart field `file`.")
            data = await upload.read(MAX_IMPORT_BYTES + 1)
    elif kind.startswith("application/json") or not kind:
        buffer = bytearray()
        async for piece in request.stream():
            buffer += piece
            if len(buffer) > MAX_IMPORT_BYTES:
                break
        data = bytes(buffer)
    else:
        raise ImportRefused(
            f"Send the export as application/json or as a multipart file, not {kind}."
        )
    if len(data) > MAX_IMPORT_BYTES:
        raise TooLarge(f"The file is larger than {MAX_IMPORT_BYTES // 2**20} MiB.")
    return data
