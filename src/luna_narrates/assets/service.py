"""The community asset library: asset card PNGs imported (uploaded, or taken from a story's
generated images), exported as they came, shared, tagged, voted on, reported, and found by
type, tags, popularity, date or meaning.

`owner`, `viewer`, `voter` and `reporter` are the player acting (the signed-in one, or the local
player in single-player mode). Importing and deleting own their transactions, since a file goes
with the row: an import writes the file, then commits, and removes the file if that fails; a
delete commits, then removes the file. Everything else runs in the caller's transaction.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.assets import files, repository
from luna_narrates.assets.errors import AssetNotFound, AssetRefused, NotYours
from luna_narrates.assets.repository import Found, Search
from luna_narrates.assets.schemas import (
    AssetEdit,
    AssetImported,
    AssetOut,
    AssetPage,
    ReportOut,
    normalise_tags,
)
from luna_narrates.db.engine import Database
from luna_narrates.db.tables import AssetImport, CommunityAsset, GeneratedImage
from luna_narrates.errors import Conflict, NotFound
from luna_narrates.formats import asset_card
from luna_narrates.formats.png_chunks import PNG_SIGNATURE
from luna_narrates.kit.images import ImageRefused, inspect
from luna_narrates.kit.names import slug
from luna_narrates.llm.embeddings import Embedder

# Below a cosine similarity of 0.25, all-MiniLM-L6-v2 finds two texts unrelated (what is
# related scores 0.35 and up): such an asset does not match `q`, unless `q` is in its name.
MAX_DISTANCE = 0.75
COLUMNS = [name for name in AssetOut.model_fields if name in CommunityAsset.__table__.columns]


@dataclass(frozen=True)
class Checked:
    card: asset_card.AssetCard
    width: int
    height: int
    checksum: str


def check(png: bytes) -> Checked:
    """The card of an uploaded file, which must be a PNG that Pillow reads within the pixel
    limit and that carries a LUNA asset card."""
    if not png.startswith(PNG_SIGNATURE):
        raise AssetRefused(
            "The file is not a PNG: an asset card is a PNG image with a `LUNA-Asset-Card` chunk."
        )
    try:
        card = asset_card.extract(png)  # reads the chunks first: says what is wrong with them
        info = inspect(png)
    except (ImageRefused, asset_card.AssetCardError) as error:
        raise AssetRefused(str(error)) from None
    return Checked(card, info.width, info.height, info.sha256)


def embedding_text(name: str, description: str, tags: Sequence[str]) -> str:
    text = f"{name}: {description}" if description else name
    return f"{text}, {', '.join(tags)}" if tags else text


def asset_out(found: Found, viewer: uuid.UUID) -> AssetOut:
    asset = found.asset
    return AssetOut.model_validate(
        {
            **{name: getattr(asset, name) for name in COLUMNS},
            "mine": asset.owner_id == viewer,
            "my_vote": found.my_vote,
            "url": f"/assets/{asset.id}/export",
            "similarity": None if found.distance is None else round(1 - found.distance, 4),
        }
    )


async def import_png(
    db: Database,
    embedder: Embedder,
    data_dir: Path,
    owner: uuid.UUID,
    png: bytes,
    *,
    filename: str | None = None,
    tags: Iterable[str] = (),
    source_image_id: uuid.UUID | None = None,
) -> AssetImported:
    """Stores the file unchanged as a new asset of `owner`'s. A file the owner has imported
    already answers that asset (`already_in_library`), unchanged."""
    checked = await asyncio.to_thread(check, png)
    wanted_tags = _tags(tags)
    found = await _in_library(db, owner, checked.checksum)
    if found is not None:
        return _imported(found, owner, already=True)
    card = checked.card
    text = embedding_text(card.name, card.description, wanted_tags)
    [vector] = await asyncio.to_thread(embedder.embed, [text])
    asset_id = uuid.uuid4()
    path = await asyncio.to_thread(files.write, data_dir, asset_id, png)
    try:
        async with db.transaction() as session:
            added = await repository.add(
                session,
                {
                    "id": asset_id,
                    "owner_id": owner,
                    "content_type": card.content_type,
                    "name": card.name,
                    "description": card.description,
                    "attributes": card.attributes,
                    "generation": card.generation.model_dump(mode="json"),
                    "license": card.license,
                    "created_by": card.created_by,
                    "card": card.model_dump(mode="json"),
                    "tags": wanted_tags,
                    "path": path,
                    "checksum": checked.checksum,
                    "size_bytes": len(png),
                    "width": checked.width,
                    "height": checked.height,
                    "embedding": vector,
                    "source_image_id": source_image_id,
                },
            )
            if added:
                source = "upload" if source_image_id is None else "generated"
                session.add(
                    AssetImport(
                        id=uuid.uuid4(),
                        asset_id=asset_id,
                        owner_id=owner,
                        source=source,
                        filename=filename[:255] if filename else None,
                    )
                )
    except BaseException:
        files.remove(data_dir, path)
        raise
    if not added:  # the same file, imported meanwhile by another request
        files.remove(data_dir, path)
    found = await _in_library(db, owner, checked.checksum)
    if found is None:
        raise Conflict("The asset was deleted while it was being imported: import it again.")
    return _imported(found, owner, already=not added)


async def import_generated(
    db: Database, embedder: Embedder, data_dir: Path, owner: uuid.UUID, image_id: uuid.UUID
) -> AssetImported:
    """A story's drawn image, with the card it was drawn with, into `owner`'s library."""
    async with db.sessions() as session:
        image = await session.get(GeneratedImage, image_id)
    if image is None:
        raise NotFound(f"No image {image_id}.", image_id=str(image_id))
    if image.status != "complete" or image.path is None:
        raise Conflict(
            f"Image {image_id} is {image.status}: only a drawn image can go into the library.",
            status=image.status,
        )
    path = files.existing(data_dir, image.path, f"image {image_id}")
    png = await asyncio.to_thread(path.read_bytes)
    return await import_png(db, embedder, data_dir, owner, png, source_image_id=image_id)


async def search(
    session: AsyncSession,
    embedder: Embedder,
    viewer: uuid.UUID,
    *,
    q: str | None = None,
    content_type: str | None = None,
    tags: Iterable[str] = (),
    sort_by: str | None = None,
    mine: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> AssetPage:
    """The viewer's assets and the public ones (only theirs with `mine`) of `content_type`
    bearing every one of `tags`; with `q`, those near it in meaning (or naming it), nearest
    first unless `sort_by` says otherwise; without, newest first."""
    q = (q or "").strip() or None
    if sort_by == "relevance" and not q:
        raise AssetRefused("sort_by=relevance ranks by meaning: give q, the text to match.")
    vector = None
    if q:
        [vector] = await asyncio.to_thread(embedder.embed, [q])
    wanted = Search(
        content_type=content_type,
        tags=_tags(tags),
        text=q,
        vector=vector,
        max_distance=MAX_DISTANCE,
        mine=mine,
        sort_by=sort_by or ("relevance" if q else "newest"),
        limit=limit,
        offset=offset,
    )
    found, total = await repository.search(session, viewer, wanted)
    return AssetPage(items=[asset_out(one, viewer) for one in found], total=total)


async def get(session: AsyncSession, viewer: uuid.UUID, asset_id: uuid.UUID) -> AssetOut:
    return asset_out(await visible(session, viewer, asset_id), viewer)


async def visible(
    session: AsyncSession,
    viewer: uuid.UUID,
    asset_id: uuid.UUID,
    *,
    lock: bool = False,
) -> Found:
    found = await repository.get(session, viewer, asset_id, lock=lock)
    if found is None:
        raise AssetNotFound(asset_id)
    return found


async def export(
    session: AsyncSession, viewer: uuid.UUID, data_dir: Path, asset_id: uuid.UUID
) -> tuple[str, bytes]:
    """The file name to offer and the PNG as it was imported, its card inside; counts a
    download."""
    asset = (await visible(session, viewer, asset_id)).asset
    path = files.existing(data_dir, asset.path, f"asset {asset_id}")
    png = await asyncio.to_thread(path.read_bytes)
    await repository.count_downloads(session, [asset_id])
    return f"{slug(asset.name, 'asset')}.png", png


async def update(
    session: AsyncSession,
    embedder: Embedder,
    owner: uuid.UUID,
    asset_id: uuid.UUID,
    edit: AssetEdit,
) -> AssetOut:
    """Changes the library's fields; the file and its card stay as they were imported. A new
    name, description or tags are embedded again, so the asset is found by its new meaning."""
    found = await _owned(session, owner, asset_id)
    asset = found.asset
    changes = edit.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(asset, name, value)
    if changes.keys() & {"name", "description", "tags"}:
        text = embedding_text(asset.name, asset.description, asset.tags)
        [asset.embedding] = await asyncio.to_thread(embedder.embed, [text])
    if changes:
        asset.updated_at = datetime.now(UTC)
    await session.flush()
    return asset_out(found, owner)


async def delete(db: Database, data_dir: Path, owner: uuid.UUID, asset_id: uuid.UUID) -> None:
    """The asset, its votes, reports and imports, its place in collections, then its file."""
    async with db.transaction() as session:
        asset = (await _owned(session, owner, asset_id)).asset
        path = asset.path
        await session.delete(asset)
    files.remove(data_dir, path)


async def vote(
    session: AsyncSession, voter: uuid.UUID, asset_id: uuid.UUID, value: int
) -> AssetOut:
    """`voter`'s one vote on the asset becomes `value` (0 withdraws it), and the score follows.
    The asset's row is locked first, so votes on it are counted one at a time."""
    asset = (await visible(session, voter, asset_id, lock=True)).asset
    before = await repository.vote_of(session, asset_id, voter)
    await repository.set_vote(session, asset_id, voter, value)
    asset.vote_score += value - before
    await session.flush()
    return asset_out(Found(asset, value), voter)


async def report(
    session: AsyncSession, reporter: uuid.UUID, asset_id: uuid.UUID, reason: str
) -> ReportOut:
    """One report per reporter and asset, so that the count says how many players object."""
    await visible(session, reporter, asset_id)
    row = await repository.add_report(session, asset_id, reporter, reason)
    if row is None:
        raise Conflict(f"You have reported asset {asset_id} already.", asset_id=str(asset_id))
    count = await repository.count_report(session, asset_id)
    return ReportOut(
        id=row.id,
        asset_id=asset_id,
        reason=row.reason,
        created_at=row.created_at,
        report_count=count,
    )


async def _owned(session: AsyncSession, owner: uuid.UUID, asset_id: uuid.UUID) -> Found:
    found = await visible(session, owner, asset_id)
    NotYours.unless(owner, found.asset.owner_id, "asset", asset_id)
    return found


async def _in_library(db: Database, owner: uuid.UUID, checksum: str) -> Found | None:
    async with db.sessions() as session:
        asset_id = await repository.by_checksum(session, owner, checksum)
        return None if asset_id is None else await repository.get(session, owner, asset_id)


def _imported(found: Found, owner: uuid.UUID, *, already: bool) -> AssetImported:
    return AssetImported(**asset_out(found, owner).model_dump(), already_in_library=already)


def _tags(tags: Iterable[str]) -> list[str]:
    try:
        return normalise_tags(tags)
    except ValueError as error:
        raise AssetRefused(f"tags: {error}.") from None
