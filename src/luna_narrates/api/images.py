"""/images/{id}: a story's pictures; /stories/{id}/images: what a story (or one turn) asked
for and where each stands; /image-workers: the GPU pool's health, load and statistics."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from luna_narrates.api.deps import ServicesDep, SessionDep
from luna_narrates.db.tables import GeneratedImage
from luna_narrates.errors import Conflict, NotFound
from luna_narrates.images import service, storage
from luna_narrates.images.pool import ImageWorkerOut
from luna_narrates.images.schemas import ImageOut
from luna_narrates.stories import service as stories
from luna_narrates.timelines import service as timelines

router = APIRouter(tags=["images"])


@router.get("/images/{image_id}", response_class=FileResponse)
async def get_image(
    image_id: uuid.UUID, session: SessionDep, services: ServicesDep
) -> FileResponse:
    """The PNG, with its asset card (`LUNA-Asset-Card`) inside. A placeholder says so in the
    picture and in the `X-Luna-Placeholder` header."""
    image = await session.get(GeneratedImage, image_id)
    if image is None:
        raise NotFound(f"No image {image_id}.", image_id=str(image_id))
    if image.status != "complete" or image.path is None:
        raise Conflict(
            f"Image {image_id} is {image.status}: there is no picture to serve"
            + (f" ({image.error})." if image.error else " yet."),
            status=image.status,
        )
    path = storage.locate(services.settings.luna_data_dir, image.path)
    if not path.is_file():
        raise NotFound(f"The file of image {image_id} is missing.", image_id=str(image_id))
    headers = {"X-Luna-Placeholder": "true"} if image.placeholder else {}
    return FileResponse(path, media_type="image/png", headers=headers)


@router.get("/stories/{story_id}/images")
async def list_images(
    story_id: uuid.UUID,
    session: SessionDep,
    turn_number: Annotated[int | None, Query(ge=1, description="One turn's images.")] = None,
    branch_id: Annotated[uuid.UUID | None, Query(description="The turn's branch.")] = None,
    image_type: Annotated[str | None, Query(max_length=20)] = None,
) -> list[ImageOut]:
    await stories.require_story(session, story_id)
    turn_ids = None
    if turn_number is not None:
        position = await timelines.locate(session, story_id, turn_number, branch_id)
        turn_ids = [position.turn.id]
    found = await service.images_of(session, story_id, turn_ids, image_type)
    return [image_out(image, number) for image, number in found]


@router.get("/image-workers")
async def list_workers(services: ServicesDep) -> list[ImageWorkerOut]:
    """The configured GPU workers; with none, images come from the placeholder renderer."""
    return await services.pool.workers()


def image_out(image: GeneratedImage, turn_number: int | None) -> ImageOut:
    ready = image.status == "complete" and image.path is not None
    return ImageOut.model_validate(
        {
            **{c.key: getattr(image, c.key) for c in GeneratedImage.__table__.columns},
            "turn_number": turn_number,
            "reused_from": image.source_image_id,
            "url": f"/images/{image.id}" if ready else None,
        }
    )
