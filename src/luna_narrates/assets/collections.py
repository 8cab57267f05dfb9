"""Collections: themed packs of assets in the order they were added, shared like assets, and
downloaded whole as a zip: each PNG as it was imported (`<nn>-<name>.png`) and a
`collection.json` manifest saying what each file is. A viewer sees in a collection only the
assets they may see."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.assets import files, repository, service
from luna_narrates.assets.errors import AssetRefused, CollectionNotFound, NotYours
from luna_narrates.assets.repository import Found
from luna_narrates.assets.schemas import (
    CollectionCreate,
    CollectionDetail,
    CollectionEdit,
    CollectionOut,
)
from luna_narrates.db.tables import AssetCollection
from luna_narrates.errors import NotFound
from luna_narrates.kit.names import slug

MAX_ASSETS = 200
MANIFEST = "collection.json"
MANIFEST_FORMAT = "luna-asset-collection"
MANIFEST_VERSION = "1.0"
IN_MEMORY_BYTES = 16 * 1024 * 1024  # a larger zip is spooled to a temporary file
CHUNK_BYTES = 1024 * 1024
COLUMNS = [name for name in CollectionOut.model_fields if name in AssetCollection.__table__.columns]


@dataclass(frozen=True)
class Download:
    filename: str
    file: IO[bytes]

    def chunks(self) -> Iterator[bytes]:
        """The zip, read once; the temporary file goes when it is read whole or abandoned."""
        with self.file:
            self.file.seek(0)
            while piece := self.file.read(CHUNK_BYTES):
                yield piece


async def create(
    session: AsyncSession, owner: uuid.UUID, data: CollectionCreate
) -> CollectionDetail:
    row = AssetCollection(id=uuid.uuid4(), owner_id=owner, **data.model_dump())
    session.add(row)
    await session.flush()
    return await detail(session, owner, row.id)


async def listing(session: AsyncSession, viewer: uuid.UUID, *, mine: bool) -> list[CollectionOut]:
    """The viewer's collections and the public ones (only theirs with `mine`), newest first."""
    found = await repository.collections(session, viewer, mine=mine)
    return [_out(row, viewer, count) for row, count in found]


async def detail(
    session: AsyncSession, viewer: uuid.UUID, collection_id: uuid.UUID
) -> CollectionDetail:
    row = await _collection(session, viewer, collection_id)
    assets = await repository.collection_assets(session, viewer, collection_id)
    return CollectionDetail(
        **_out(row, viewer, len(assets)).model_dump(),
        assets=[service.asset_out(found, viewer) for found in assets],
    )


async def update(
    session: AsyncSession, owner: uuid.UUID, collection_id: uuid.UUID, edit: CollectionEdit
) -> CollectionDetail:
    row = await _collection(session, owner, collection_id, owned=True)
    changes = edit.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(row, name, value)
    if changes:
        row.updated_at = datetime.now(UTC)
    await session.flush()
    return await detail(session, owner, collection_id)


async def delete(session: AsyncSession, owner: uuid.UUID, collection_id: uuid.UUID) -> None:
    """The collection goes; its assets stay in the library."""
    await session.delete(await _collection(session, owner, collection_id, owned=True))


async def add(
    session: AsyncSession, owner: uuid.UUID, collection_id: uuid.UUID, asset_id: uuid.UUID
) -> CollectionDetail:
    """Puts an asset the owner may see at the end of the collection; one already in it stays
    where it is. The collection's row is locked, so additions take positions one at a time."""
    row = await _collection(session, owner, collection_id, owned=True, lock=True)
    await service.visible(session, owner, asset_id)
    if await repository.collection_size(session, collection_id) >= MAX_ASSETS:
        raise AssetRefused(f"A collection holds at most {MAX_ASSETS} assets.")
    await repository.add_to_collection(session, collection_id, asset_id)
    row.updated_at = datetime.now(UTC)
    await session.flush()
    return await detail(session, owner, collection_id)


async def remove(
    session: AsyncSession, owner: uuid.UUID, collection_id: uuid.UUID, asset_id: uuid.UUID
) -> None:
    """Takes the asset out of the collection; it stays in the library."""
    row = await _collection(session, owner, collection_id, owned=True)
    if not await repository.remove_from_collection(session, collection_id, asset_id):
        raise NotFound(
            f"Asset {asset_id} is not in collection {collection_id}.",
            asset_id=str(asset_id),
            collection_id=str(collection_id),
        )
    row.updated_at = datetime.now(UTC)


async def download(
    session: AsyncSession, viewer: uuid.UUID, data_dir: Path, collection_id: uuid.UUID
) -> Download:
    """The collection as a zip; counts a download of each asset in it."""
    row = await _collection(session, viewer, collection_id)
    assets = await repository.collection_assets(session, viewer, collection_id)
    paths = [files.existing(data_dir, f.asset.path, f"asset {f.asset.id}") for f in assets]
    archive = await asyncio.to_thread(_zip, row, assets, paths)
    await repository.count_downloads(session, [found.asset.id for found in assets])
    return Download(f"{slug(row.name, 'collection')}.zip", archive)


def _zip(row: AssetCollection, assets: Sequence[Found], paths: Sequence[Path]) -> IO[bytes]:
    """Spooled (to disk past `IN_MEMORY_BYTES`); closed here on failure, else by `Download`."""
    width = max(2, len(str(len(assets))))
    entries = []
    with contextlib.ExitStack() as failing:
        out = failing.enter_context(tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES))
        archive = failing.enter_context(zipfile.ZipFile(out, "w"))
        for number, (found, path) in enumerate(zip(assets, paths, strict=True), start=1):
            asset = found.asset
            name = f"{number:0{width}d}-{slug(asset.name, 'asset')}.png"
            archive.write(path, name, compress_type=zipfile.ZIP_STORED)  # PNG is compressed
            entries.append(
                {
                    "file": name,
                    "id": str(asset.id),
                    "name": asset.name,
                    "content_type": asset.content_type,
                    "description": asset.description,
                    "tags": asset.tags,
                    "license": asset.license,
                    "created_by": asset.created_by,
                    "checksum": asset.checksum,
                }
            )
        manifest = {
            "format": MANIFEST_FORMAT,
            "format_version": MANIFEST_VERSION,
            "name": row.name,
            "description": row.description,
            "exported_at": datetime.now(UTC).isoformat(),
            "assets": entries,
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=2)
        archive.writestr(MANIFEST, text, compress_type=zipfile.ZIP_DEFLATED)
        archive.close()
        failing.pop_all()
    return out


def _out(row: AssetCollection, viewer: uuid.UUID, count: int) -> CollectionOut:
    return CollectionOut.model_validate(
        {
            **{name: getattr(row, name) for name in COLUMNS},
            "mine": row.owner_id == viewer,
            "asset_count": count,
            "download_url": f"/assets/collections/{row.id}/download",
        }
    )


async def _collection(
    session: AsyncSession,
    player: uuid.UUID,
    collection_id: uuid.UUID,
    *,
    owned: bool = False,
    lock: bool = False,
) -> AssetCollection:
    """The collection as `player` sees it; `owned`: only if it is theirs to change."""
    row = await repository.collection(session, player, collection_id, lock=lock)
    if row is None:
        raise CollectionNotFound(collection_id)
    if owned:
        NotYours.unless(player, row.owner_id, "collection", collection_id)
    return row
