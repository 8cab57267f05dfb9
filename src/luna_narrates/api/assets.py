"""/assets: the community asset library, where a player keeps, shares and finds asset card
PNGs (import, export, make public, tag, vote, report, search by type, tags, popularity, date
and meaning), and /assets/collections, themed packs downloaded as a zip. The collection routes
come first, so that `/assets/{asset_id}` does not take them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from luna_narrates.api.access import PrincipalDep
from luna_narrates.api.deps import Offset, ServicesDep, SessionDep
from luna_narrates.api.uploads import multipart_body, read_upload
from luna_narrates.assets import collections, service
from luna_narrates.assets.schemas import (
    AssetEdit,
    AssetImported,
    AssetOut,
    AssetPage,
    AssetSort,
    CollectionCreate,
    CollectionDetail,
    CollectionEdit,
    CollectionOut,
    ReportIn,
    ReportOut,
    Vote,
)
from luna_narrates.formats.asset_card import ContentType

router = APIRouter(prefix="/assets", tags=["assets"])


def acting_player(who: PrincipalDep) -> uuid.UUID:
    """The player acting: the signed-in one (the local player in single-player mode)."""
    return who.user_id


OwnerDep = Annotated[uuid.UUID, Depends(acting_player)]
Mine = Annotated[bool, Query(description="Only your own.")]
AGAIN: dict[int | str, dict[str, Any]] = {
    200: {"model": AssetImported, "description": "You had imported this file before: that asset."}
}
PNG_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/png": {}}, "description": "The PNG, with its asset card inside."}
}
ZIP_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/zip": {}}, "description": "The PNGs and collection.json."}
}


@router.post("/collections", status_code=status.HTTP_201_CREATED)
async def create_collection(
    data: CollectionCreate, session: SessionDep, owner: OwnerDep
) -> CollectionDetail:
    return await collections.create(session, owner, data)


@router.get("/collections")
async def list_collections(
    session: SessionDep, owner: OwnerDep, mine: Mine = False
) -> list[CollectionOut]:
    """Yours and the public ones, newest first."""
    return await collections.listing(session, owner, mine=mine)


@router.get("/collections/{collection_id}")
async def get_collection(
    collection_id: uuid.UUID, session: SessionDep, owner: OwnerDep
) -> CollectionDetail:
    return await collections.detail(session, owner, collection_id)


@router.patch("/collections/{collection_id}")
async def update_collection(
    collection_id: uuid.UUID, data: CollectionEdit, session: SessionDep, owner: OwnerDep
) -> CollectionDetail:
    return await collections.update(session, owner, collection_id, data)


@router.delete("/collections/{collection_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_collection(
    collection_id: uuid.UUID, session: SessionDep, owner: OwnerDep
) -> Response:
    """The collection goes; its assets stay in the library."""
    await collections.delete(session, owner, collection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/collections/{collection_id}/assets/{asset_id}")
async def add_to_collection(
    collection_id: uuid.UUID, asset_id: uuid.UUID, session: SessionDep, owner: OwnerDep
) -> CollectionDetail:
    """At the end of the collection; an asset already in it stays where it is."""
    return await collections.add(session, owner, collection_id, asset_id)


@router.delete(
    "/collections/{collection_id}/assets/{asset_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def remove_from_collection(
    collection_id: uuid.UUID, asset_id: uuid.UUID, session: SessionDep, owner: OwnerDep
) -> Response:
    await collections.remove(session, owner, collection_id, asset_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/collections/{collection_id}/download",
    response_class=StreamingResponse,
    responses=ZIP_RESPONSE,
)
async def download_collection(
    collection_id: uuid.UUID, session: SessionDep, services: ServicesDep, owner: OwnerDep
) -> StreamingResponse:
    """A zip of the collection's PNGs, in order (`01-<name>.png`…), with a `collection.json`
    manifest; counts a download of each."""
    found = await collections.download(
        session, owner, services.settings.luna_data_dir, collection_id
    )
    return StreamingResponse(
        found.chunks(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    responses=AGAIN,
    openapi_extra=multipart_body("tags"),
)
async def import_asset(
    request: Request,
    response: Response,
    services: ServicesDep,
    owner: OwnerDep,
    tags: Annotated[str | None, Query(max_length=2000, description="Comma-separated.")] = None,
) -> AssetImported:
    """An asset card PNG (one LUNA-Narrates made, its `LUNA-Asset-Card` chunk inside), as a
    multipart `file` or the raw body, stored byte for byte. Importing the same file again
    answers 200 with the asset you have (`already_in_library`)."""
    upload = await read_upload(request, services.settings.upload_max_bytes, "asset card")
    wanted = upload.form.get("tags") or tags or ""
    imported = await service.import_png(
        services.db,
        services.embedder,
        services.settings.luna_data_dir,
        owner,
        upload.data,
        filename=upload.filename,
        tags=wanted.split(","),
    )
    if imported.already_in_library:
        response.status_code = status.HTTP_200_OK
    return imported


@router.post("/from-image/{image_id}", status_code=status.HTTP_201_CREATED, responses=AGAIN)
async def import_image(
    image_id: uuid.UUID, response: Response, services: ServicesDep, owner: OwnerDep
) -> AssetImported:
    """A story's drawn image (`/images/{id}`) with its card, into your library; 409 while it
    is not drawn."""
    imported = await service.import_generated(
        services.db, services.embedder, services.settings.luna_data_dir, owner, image_id
    )
    if imported.already_in_library:
        response.status_code = status.HTTP_200_OK
    return imported


@router.get("")
async def search_assets(
    session: SessionDep,
    services: ServicesDep,
    owner: OwnerDep,
    q: Annotated[
        str | None, Query(min_length=1, max_length=500, description="Found by meaning.")
    ] = None,
    content_type: Annotated[ContentType | None, Query()] = None,
    tags: Annotated[
        str | None, Query(max_length=2000, description="Comma-separated; all must match.")
    ] = None,
    sort_by: Annotated[
        AssetSort | None, Query(description="relevance with q, else newest, by default.")
    ] = None,
    mine: Mine = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Offset = 0,
) -> AssetPage:
    """Your assets and the public ones."""
    return await service.search(
        session,
        services.embedder,
        owner,
        q=q,
        content_type=content_type,
        tags=(tags or "").split(","),
        sort_by=sort_by,
        mine=mine,
        limit=limit,
        offset=offset,
    )


@router.get("/{asset_id}")
async def get_asset(asset_id: uuid.UUID, session: SessionDep, owner: OwnerDep) -> AssetOut:
    return await service.get(session, owner, asset_id)


@router.patch("/{asset_id}")
async def update_asset(
    asset_id: uuid.UUID,
    data: AssetEdit,
    session: SessionDep,
    services: ServicesDep,
    owner: OwnerDep,
) -> AssetOut:
    """Name, description, tags (replaced whole) and whether it is public; the file and its
    card stay as imported."""
    return await service.update(session, services.embedder, owner, asset_id, data)


@router.delete("/{asset_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_asset(asset_id: uuid.UUID, services: ServicesDep, owner: OwnerDep) -> Response:
    """The asset and its file; it leaves the collections it was in."""
    await service.delete(services.db, services.settings.luna_data_dir, owner, asset_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{asset_id}/export", response_class=Response, responses=PNG_RESPONSE)
async def export_asset(
    asset_id: uuid.UUID, session: SessionDep, services: ServicesDep, owner: OwnerDep
) -> Response:
    """The PNG as it was imported, with its card; counts a download."""
    filename, png = await service.export(session, owner, services.settings.luna_data_dir, asset_id)
    return Response(
        png,
        media_type="image/png",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/{asset_id}/vote")
async def vote_on_asset(
    asset_id: uuid.UUID, data: Vote, session: SessionDep, owner: OwnerDep
) -> AssetOut:
    """One vote each: 1 or -1 replaces yours, 0 withdraws it."""
    return await service.vote(session, owner, asset_id, data.value)


@router.post("/{asset_id}/report", status_code=status.HTTP_201_CREATED)
async def report_asset(
    asset_id: uuid.UUID, data: ReportIn, session: SessionDep, owner: OwnerDep
) -> ReportOut:
    """Once per player and asset; 409 the second time."""
    return await service.report(session, owner, asset_id, data.reason)
