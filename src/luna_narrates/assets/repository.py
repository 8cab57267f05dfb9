"""All SQL of the community asset library. A viewer sees their own assets and collections and
the public ones (`visible`); every read goes through that rule."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from luna_narrates.db.tables import (
    AssetCollection,
    AssetReport,
    AssetVote,
    CollectionAsset,
    CommunityAsset,
)

HNSW_MAX_EF = 1000  # pgvector's upper limit for hnsw.ef_search
ORDER: dict[str, tuple[Any, ...]] = {
    "popular": (CommunityAsset.vote_score.desc(), CommunityAsset.downloads.desc()),
    "downloads": (CommunityAsset.downloads.desc(), CommunityAsset.vote_score.desc()),
    "newest": (CommunityAsset.created_at.desc(),),
    "oldest": (CommunityAsset.created_at,),
}


@dataclass(frozen=True)
class Found:
    """An asset as one viewer sees it: with their vote, and how far it is from the query."""

    asset: CommunityAsset
    my_vote: int
    distance: float | None = None


@dataclass(frozen=True)
class Search:
    """What a search asks for; `vector` is the embedding of `text`, the query."""

    content_type: str | None
    tags: Sequence[str]
    text: str | None
    vector: Sequence[float] | None
    max_distance: float
    mine: bool
    sort_by: str
    limit: int
    offset: int


def visible(viewer: uuid.UUID) -> ColumnElement[bool]:
    return or_(CommunityAsset.owner_id == viewer, CommunityAsset.is_public)


def _with_vote(viewer: uuid.UUID, *columns: Any) -> Select[Any]:
    vote = (
        select(AssetVote.value)
        .where(AssetVote.asset_id == CommunityAsset.id, AssetVote.voter_id == viewer)
        .scalar_subquery()
    )
    return select(CommunityAsset, func.coalesce(vote, 0), *columns).options(
        defer(CommunityAsset.embedding)
    )


async def get(
    session: AsyncSession, viewer: uuid.UUID, asset_id: uuid.UUID, *, lock: bool = False
) -> Found | None:
    """`lock` holds the row until the transaction ends, so that changes to it are serial."""
    query = _with_vote(viewer).where(CommunityAsset.id == asset_id, visible(viewer))
    if lock:
        query = query.with_for_update(of=CommunityAsset)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else Found(row[0], int(row[1]))


async def by_checksum(session: AsyncSession, owner: uuid.UUID, checksum: str) -> uuid.UUID | None:
    return await session.scalar(
        select(CommunityAsset.id).where(
            CommunityAsset.owner_id == owner, CommunityAsset.checksum == checksum
        )
    )


async def add(session: AsyncSession, values: dict[str, Any]) -> bool:
    """False when the owner has this file already (imported meanwhile by another request)."""
    added = await session.scalar(
        insert(CommunityAsset)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["owner_id", "checksum"])
        .returning(CommunityAsset.id)
    )
    return added is not None


async def search(
    session: AsyncSession, viewer: uuid.UUID, wanted: Search
) -> tuple[list[Found], int]:
    """A page of the assets matching `wanted`, and how many match in all. With a query vector,
    an asset matches when it is within `max_distance` in meaning or has the text in its name."""
    where: list[ColumnElement[bool]] = [
        CommunityAsset.owner_id == viewer if wanted.mine else visible(viewer)
    ]
    if wanted.content_type is not None:
        where.append(CommunityAsset.content_type == wanted.content_type)
    if wanted.tags:
        where.append(CommunityAsset.tags.contains(list(wanted.tags)))
    distance = None
    if wanted.vector is not None:
        distance = CommunityAsset.embedding.cosine_distance(list(wanted.vector))
        near = distance <= wanted.max_distance
        if wanted.text:
            named = func.lower(CommunityAsset.name).contains(wanted.text.lower(), autoescape=True)
            near = or_(near, named)
        where.append(near)
        # pgvector 0.6 filters after the index scan: let the index offer all it can.
        await session.execute(text(f"SET LOCAL hnsw.ef_search = {HNSW_MAX_EF}"))
    total = await session.scalar(select(func.count()).select_from(CommunityAsset).where(*where))
    order = (distance,) if wanted.sort_by == "relevance" else ORDER[wanted.sort_by]
    query = (
        _with_vote(viewer, *(() if distance is None else (distance,)))
        .where(*where)
        .order_by(*order, CommunityAsset.created_at.desc(), CommunityAsset.id)
        .limit(wanted.limit)
        .offset(wanted.offset)
    )
    rows = (await session.execute(query)).all()
    found = [Found(row[0], int(row[1]), None if distance is None else row[2]) for row in rows]
    return found, int(total or 0)


async def vote_of(session: AsyncSession, asset_id: uuid.UUID, voter: uuid.UUID) -> int:
    value = await session.scalar(
        select(AssetVote.value).where(AssetVote.asset_id == asset_id, AssetVote.voter_id == voter)
    )
    return int(value or 0)


async def set_vote(
    session: AsyncSession, asset_id: uuid.UUID, voter: uuid.UUID, value: int
) -> None:
    """0 withdraws the voter's vote."""
    if value == 0:
        await session.execute(
            delete(AssetVote).where(AssetVote.asset_id == asset_id, AssetVote.voter_id == voter)
        )
        return
    await session.execute(
        insert(AssetVote)
        .values(asset_id=asset_id, voter_id=voter, value=value)
        .on_conflict_do_update(index_elements=["asset_id", "voter_id"], set_={"value": value})
    )


async def add_report(
    session: AsyncSession, asset_id: uuid.UUID, reporter: uuid.UUID, reason: str
) -> AssetReport | None:
    """None when the reporter has reported the asset already."""
    return await session.scalar(
        insert(AssetReport)
        .values(id=uuid.uuid4(), asset_id=asset_id, reporter_id=reporter, reason=reason)
        .on_conflict_do_nothing(index_elements=["asset_id", "reporter_id"])
        .returning(AssetReport)
    )


async def count_report(session: AsyncSession, asset_id: uuid.UUID) -> int:
    count = await session.scalar(
        update(CommunityAsset)
        .where(CommunityAsset.id == asset_id)
        .values(report_count=CommunityAsset.report_count + 1)
        .returning(CommunityAsset.report_count)
    )
    return int(count or 0)


async def count_downloads(session: AsyncSession, asset_ids: Sequence[uuid.UUID]) -> None:
    await session.execute(
        update(CommunityAsset)
        .where(CommunityAsset.id.in_(list(asset_ids)))
        .values(downloads=CommunityAsset.downloads + 1)
    )


def visible_collection(viewer: uuid.UUID) -> ColumnElement[bool]:
    return or_(AssetCollection.owner_id == viewer, AssetCollection.is_public)


def _asset_count(viewer: uuid.UUID) -> Any:
    return (
        select(func.count())
        .select_from(CollectionAsset)
        .join(CommunityAsset, CommunityAsset.id == CollectionAsset.asset_id)
        .where(CollectionAsset.collection_id == AssetCollection.id, visible(viewer))
        .scalar_subquery()
    )


async def collections(
    session: AsyncSession, viewer: uuid.UUID, *, mine: bool
) -> list[tuple[AssetCollection, int]]:
    """Newest first, each with the number of its assets the viewer may see."""
    query = (
        select(AssetCollection, _asset_count(viewer))
        .where(AssetCollection.owner_id == viewer if mine else visible_collection(viewer))
        .order_by(AssetCollection.created_at.desc(), AssetCollection.id)
    )
    return [(row[0], int(row[1])) for row in (await session.execute(query)).all()]


async def collection(
    session: AsyncSession, viewer: uuid.UUID, collection_id: uuid.UUID, *, lock: bool = False
) -> AssetCollection | None:
    query = select(AssetCollection).where(
        AssetCollection.id == collection_id, visible_collection(viewer)
    )
    return await session.scalar(query.with_for_update() if lock else query)


async def collection_assets(
    session: AsyncSession, viewer: uuid.UUID, collection_id: uuid.UUID
) -> list[Found]:
    """In the collection's order; an asset the viewer may not see is left out."""
    query = (
        _with_vote(viewer)
        .join(CollectionAsset, CollectionAsset.asset_id == CommunityAsset.id)
        .where(CollectionAsset.collection_id == collection_id, visible(viewer))
        .order_by(CollectionAsset.position)
    )
    return [Found(row[0], int(row[1])) for row in (await session.execute(query)).all()]


async def add_to_collection(
    session: AsyncSession, collection_id: uuid.UUID, asset_id: uuid.UUID
) -> None:
    """At the end; nothing happens when it is in already. The caller holds the collection's
    row lock, so two additions cannot take the same position."""
    last = select(func.coalesce(func.max(CollectionAsset.position), 0)).where(
        CollectionAsset.collection_id == collection_id
    )
    await session.execute(
        insert(CollectionAsset)
        .values(collection_id=collection_id, asset_id=asset_id, position=last.scalar_subquery() + 1)
        .on_conflict_do_nothing()
    )


async def remove_from_collection(
    session: AsyncSession, collection_id: uuid.UUID, asset_id: uuid.UUID
) -> bool:
    gone = await session.execute(
        delete(CollectionAsset)
        .where(CollectionAsset.collection_id == collection_id, CollectionAsset.asset_id == asset_id)
        .returning(CollectionAsset.asset_id)
    )
    return gone.first() is not None


async def collection_size(session: AsyncSession, collection_id: uuid.UUID) -> int:
    size = await session.scalar(
        select(func.count())
        .select_from(CollectionAsset)
        .where(CollectionAsset.collection_id == collection_id)
    )
    return int(size or 0)
