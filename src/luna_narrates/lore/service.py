"""Lorebook logic: storing a book in its tier, reading it back whole, editing entries, and
exporting it in the formats other tools read. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.tables import Lorebook, LorebookEntry, StoryLorebook
from luna_narrates.db.tables.lorebooks import ENTRY_KINDS
from luna_narrates.formats import world_info
from luna_narrates.formats.lorebooks import read_lorebook
from luna_narrates.formats.world_info import LorebookError, checked_entry
from luna_narrates.kit.json_text import find_unstorable
from luna_narrates.lore import repository, tiers
from luna_narrates.lore.errors import EntryNotFound, LorebookNotFound, LorebookRefused
from luna_narrates.lore.keys import match_keys
from luna_narrates.lore.schemas import (
    EntryOut,
    EntryPage,
    EntryWrite,
    LorebookCreate,
    LorebookDetail,
    LorebookFormat,
    LorebookOut,
    LorebookPage,
    LorebookUpdate,
    Tier,
)
from luna_narrates.stories.service import require_story

MAX_ENTRIES = 50_000
MAX_UID = 100
MAX_KEY = 500
MAX_ENTRY_TEXT = 100_000
UNTITLED = "Untitled lorebook"


def parse_file(payload: bytes) -> world_info.Lorebook:
    try:
        return read_lorebook(payload)
    except LorebookError as error:
        raise LorebookRefused(str(error)) from None


async def store(
    session: AsyncSession,
    book: world_info.Lorebook,
    owner_id: uuid.UUID,
    *,
    name: str | None = None,
    universe_name: str | None = None,
    tier: Tier = "warm",
) -> Lorebook:
    """A new lorebook of the player's with every entry of `book`, checked whole first."""
    _check(book)
    row = Lorebook(
        owner_id=owner_id,
        name=(name or book.name or UNTITLED).strip()[:200] or UNTITLED,
        description=book.description,
        universe_name=universe_name,
        storage_tier=tier,
        source_format=book.source,
        settings=_settings(book),
        entry_count=len(book.entries),
        dictionary=tiers.train([tiers.encode(e) for e in book.entries]) if tier == "cold" else None,
    )
    session.add(row)
    await session.flush()
    await _write_entries(session, row, book.entries)
    return row


async def create(
    session: AsyncSession, data: LorebookCreate, owner_id: uuid.UUID
) -> LorebookDetail:
    entries = [_entry_fields(entry, index, {}) for index, entry in enumerate(data.entries)]
    book = world_info.Lorebook(
        entries,
        name=data.name,
        description=data.description,
        scan_depth=data.scan_depth,
        token_budget=data.token_budget,
        recursive_scanning=data.recursive_scanning,
        source="sillytavern",
    )
    row = await store(
        session,
        book,
        owner_id,
        name=data.name,
        universe_name=data.universe_name,
        tier=data.storage_tier,
    )
    return await detail(session, row.id)


async def require(session: AsyncSession, lorebook_id: uuid.UUID) -> Lorebook:
    row = await repository.get_book(session, lorebook_id)
    if row is None:
        raise LorebookNotFound(lorebook_id)
    return row


async def listing(
    session: AsyncSession,
    owner_id: uuid.UUID,
    *,
    tier: Tier | None,
    universe: str | None,
    sort_by: str,
    limit: int,
    offset: int,
) -> LorebookPage:
    """The player's lorebooks."""
    rows, total = await repository.list_books(
        session, owner_id, tier=tier, universe=universe, sort_by=sort_by, limit=limit, offset=offset
    )
    return LorebookPage(items=[book_out(row) for row in rows], total=total)


async def detail(
    session: AsyncSession, lorebook_id: uuid.UUID, entries_from: int = 0, limit: int = 100
) -> LorebookDetail:
    row = await require(session, lorebook_id)
    entries, total = await repository.entries(session, row.id, limit=limit, offset=entries_from)
    return LorebookDetail(
        **book_out(row).model_dump(),
        entries=entry_outs(row, entries),
        entries_from=entries_from,
        entries_total=total,
    )


async def update(
    session: AsyncSession, lorebook_id: uuid.UUID, data: LorebookUpdate
) -> LorebookOut:
    row = await require(session, lorebook_id)
    changes = data.model_dump(exclude_unset=True)
    tier = changes.pop("storage_tier", None)
    settings = dict(row.settings)
    for key in ("scan_depth", "token_budget", "recursive_scanning"):
        if key in changes:
            settings[key] = changes.pop(key)
    row.settings = settings
    for key, value in changes.items():
        if value is None and key != "universe_name":
            raise LorebookRefused(f"{key} cannot be null.")
        setattr(row, key, value)
    if tier is not None and tier != row.storage_tier:
        await _retier(session, row, tier)
    await session.flush()
    await repository.recount(session, row.id)
    await session.refresh(row)
    return book_out(row)


async def delete(session: AsyncSession, lorebook_id: uuid.UUID) -> None:
    if not await repository.delete_book(session, lorebook_id):
        raise LorebookNotFound(lorebook_id)


async def whole(session: AsyncSession, lorebook_id: uuid.UUID) -> world_info.Lorebook:
    """The stored book as one `Lorebook`, every entry unpacked."""
    row = await require(session, lorebook_id)
    entries, _ = await repository.entries(session, row.id)
    settings = row.settings
    return world_info.Lorebook(
        entry_fields(row, entries),
        name=row.name,
        description=row.description,
        scan_depth=settings.get("scan_depth"),
        token_budget=settings.get("token_budget"),
        recursive_scanning=settings.get("recursive_scanning"),
        extensions=settings.get("extensions") or {},
        extra=settings.get("extra") or {},
        source=row.source_format,  # type: ignore[arg-type]
    )


async def export(
    session: AsyncSession, lorebook_id: uuid.UUID, format: LorebookFormat
) -> dict[str, Any]:
    book = await whole(session, lorebook_id)
    if format == "world_info":
        return world_info.world_info_json(book)
    if format == "lorebook_v3":
        return {"spec": world_info.LOREBOOK_V3, "data": world_info.character_book_json(book)}
    return world_info.character_book_json(book)


async def entries_page(
    session: AsyncSession,
    lorebook_id: uuid.UUID,
    *,
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> EntryPage:
    row = await require(session, lorebook_id)
    entries, total = await repository.entries(
        session, row.id, kind=kind, limit=limit, offset=offset
    )
    return EntryPage(items=entry_outs(row, entries), total=total)


async def add_entry(session: AsyncSession, lorebook_id: uuid.UUID, data: EntryWrite) -> EntryOut:
    row = await require(session, lorebook_id)
    taken = await repository.uids(session, row.id)
    numbers = [int(uid) for uid in taken if world_info.INTEGER.fullmatch(uid)]
    fields = _entry_fields(data, max(numbers, default=-1) + 1, {})
    if str(fields["uid"]) in taken:
        raise LorebookRefused(f"The lorebook already has an entry with uid {fields['uid']}.")
    if row.entry_count >= MAX_ENTRIES:
        raise LorebookRefused(f"A lorebook holds at most {MAX_ENTRIES:,} entries.")
    position = await repository.next_position(session, row.id)
    entry = _entry_row(row, fields, position)
    session.add(entry)
    await session.flush()
    await repository.recount(session, row.id)
    return entry_outs(row, [entry])[0]


async def require_entry(
    session: AsyncSession, lorebook_id: uuid.UUID, entry_id: uuid.UUID
) -> tuple[Lorebook, LorebookEntry]:
    row = await require(session, lorebook_id)
    entry = await repository.get_entry(session, lorebook_id, entry_id)
    if entry is None:
        raise EntryNotFound(lorebook_id, entry_id)
    return row, entry


async def get_entry(session: AsyncSession, lorebook_id: uuid.UUID, entry_id: uuid.UUID) -> EntryOut:
    row, entry = await require_entry(session, lorebook_id, entry_id)
    return entry_outs(row, [entry])[0]


async def update_entry(
    session: AsyncSession, lorebook_id: uuid.UUID, entry_id: uuid.UUID, data: EntryWrite
) -> EntryOut:
    row, entry = await require_entry(session, lorebook_id, entry_id)
    current = entry_fields(row, [entry])[0]
    fields = _entry_fields(data, current["uid"], current)
    if str(fields["uid"]) != entry.uid and await repository.uid_taken(
        session, row.id, str(fields["uid"])
    ):
        raise LorebookRefused(f"The lorebook already has an entry with uid {fields['uid']}.")
    replacement = _entry_row(row, fields, entry.position)
    for column in ("uid", "kind", "comment", "match_keys", "enabled", "constant"):
        setattr(entry, column, getattr(replacement, column))
    entry.fields, entry.packed, entry.embedding = (
        replacement.fields,
        replacement.packed,
        None,
    )
    await session.flush()
    await repository.recount(session, row.id)
    return entry_outs(row, [entry])[0]


async def delete_entry(session: AsyncSession, lorebook_id: uuid.UUID, entry_id: uuid.UUID) -> None:
    row, entry = await require_entry(session, lorebook_id, entry_id)
    await session.delete(entry)
    await session.flush()
    await repository.recount(session, row.id)


def book_out(row: Lorebook) -> LorebookOut:
    settings = row.settings or {}
    return LorebookOut(
        id=row.id,
        name=row.name,
        description=row.description,
        universe_name=row.universe_name,
        storage_tier=row.storage_tier,
        source_format=row.source_format,
        entry_count=row.entry_count,
        created_at=row.created_at,
        updated_at=row.updated_at,
        scan_depth=settings.get("scan_depth"),
        token_budget=settings.get("token_budget"),
        recursive_scanning=settings.get("recursive_scanning"),
    )


def entry_fields(book: Lorebook, entries: Sequence[LorebookEntry]) -> list[dict[str, Any]]:
    """The World Info fields of each entry, unpacking the cold ones in one go."""
    cold = [e.packed for e in entries if e.packed is not None]
    unpacked = iter(tiers.unpack(cold, book.dictionary) if cold else [])
    return [e.fields if e.fields is not None else next(unpacked) for e in entries]


def entry_outs(book: Lorebook, entries: Sequence[LorebookEntry]) -> list[EntryOut]:
    return [
        EntryOut(id=e.id, uid=e.uid, position=e.position, kind=e.kind, fields=fields)
        for e, fields in zip(entries, entry_fields(book, entries), strict=True)
    ]


def kind_of(fields: dict[str, Any]) -> str:
    luna = (fields.get("extensions") or {}).get("luna") or {}
    kind = luna.get("kind") if isinstance(luna, dict) else None
    return kind if kind in ENTRY_KINDS else "lore"


def _check(book: world_info.Lorebook) -> None:
    if len(book.entries) > MAX_ENTRIES:
        raise LorebookRefused(
            f"The lorebook has {len(book.entries):,} entries; at most {MAX_ENTRIES:,} are kept."
        )
    where = find_unstorable(
        {"entries": book.entries, "extensions": book.extensions, "extra": book.extra}
    ) or find_unstorable({"name": book.name, "description": book.description})
    if where is not None:
        raise LorebookRefused(
            f"{where} holds a NUL character or a non-finite number: it cannot be stored."
        )
    seen: dict[str, int] = {}
    for index, entry in enumerate(book.entries):
        _check_entry(entry, f"entries[{index}]")
        uid = str(entry["uid"])
        if uid in seen:
            raise LorebookRefused(f"entries[{seen[uid]}] and entries[{index}] share uid {uid}.")
        seen[uid] = index


def _check_entry(entry: dict[str, Any], where: str) -> None:
    """What the columns and indexes hold: a uid of 100 characters, keys of a few hundred, an
    entry's text within what full-text search indexes."""
    if len(str(entry["uid"])) > MAX_UID:
        raise LorebookRefused(f"{where}.uid is longer than {MAX_UID} characters.")
    for name in ("key", "keysecondary"):
        if any(len(key) > MAX_KEY for key in entry.get(name) or []):
            raise LorebookRefused(f"{where}.{name} has a key longer than {MAX_KEY} characters.")
    text = len(entry.get("content") or "") + len(entry.get("comment") or "")
    if text > MAX_ENTRY_TEXT:
        raise LorebookRefused(f"{where}: its content is longer than {MAX_ENTRY_TEXT:,} characters.")


def _settings(book: world_info.Lorebook) -> dict[str, Any]:
    return {
        "scan_depth": book.scan_depth,
        "token_budget": book.token_budget,
        "recursive_scanning": book.recursive_scanning,
        "extensions": book.extensions,
        "extra": book.extra,
    }


def _entry_fields(data: EntryWrite, uid: Any, current: dict[str, Any]) -> dict[str, Any]:
    given = data.model_dump(exclude_unset=True)
    kind = given.pop("kind", None)
    merged = {**current, "uid": uid, **given}
    if kind is not None:
        extensions = dict(merged.get("extensions") or {})
        extensions["luna"] = {**(extensions.get("luna") or {}), "kind": kind}
        merged["extensions"] = extensions
    where = find_unstorable(merged)
    if where is not None:
        raise LorebookRefused(
            f"{where} holds a NUL character or a non-finite number: it cannot be stored."
        )
    try:
        fields = checked_entry(merged, "entry")
    except LorebookError as error:
        raise LorebookRefused(str(error)) from None
    _check_entry(fields, "entry")
    return fields


def _entry_row(
    book: Lorebook, fields: dict[str, Any], position: int, packed: bytes | None = None
) -> LorebookEntry:
    cold = book.storage_tier == "cold"
    if cold and packed is None:
        packed = tiers.pack([fields], book.dictionary)[0]
    return LorebookEntry(
        lorebook_id=book.id,
        uid=str(fields["uid"]),
        position=position,
        kind=kind_of(fields),
        comment=fields.get("comment") or "",
        match_keys=match_keys(fields.get("key") or []),
        enabled=not fields.get("disable"),
        constant=bool(fields.get("constant")),
        fields=None if cold else fields,
        packed=packed if cold else None,
    )


async def _write_entries(
    session: AsyncSession, book: Lorebook, entries: list[dict[str, Any]]
) -> None:
    packed: list[bytes | None] = [None] * len(entries)
    if book.storage_tier == "cold":
        packed = list(tiers.pack(entries, book.dictionary))
    session.add_all(
        _entry_row(book, fields, index, blob)
        for index, (fields, blob) in enumerate(zip(entries, packed, strict=True))
    )
    await session.flush()


async def _retier(session: AsyncSession, book: Lorebook, tier: str) -> None:
    """Moves every entry into the new tier in place: ids stay, embeddings are made again."""
    entries, _ = await repository.entries(session, book.id)
    fields = entry_fields(book, entries)
    book.storage_tier = tier
    book.dictionary = tiers.train([tiers.encode(e) for e in fields]) if tier == "cold" else None
    packed = tiers.pack(fields, book.dictionary) if tier == "cold" else [None] * len(fields)
    for entry, entry_fields_, blob in zip(entries, fields, packed, strict=True):
        entry.fields = None if tier == "cold" else entry_fields_
        entry.packed = blob
        entry.embedding = None
    await session.flush()


async def attach(session: AsyncSession, story_id: uuid.UUID, lorebook_id: uuid.UUID) -> LorebookOut:
    """The story uses the book from its next turn on; attaching twice changes nothing."""
    await require_story(session, story_id)
    row = await require(session, lorebook_id)
    if await repository.story_link(session, story_id, lorebook_id) is None:
        session.add(StoryLorebook(story_id=story_id, lorebook_id=lorebook_id))
        await session.flush()
    return book_out(row)


async def attached(session: AsyncSession, story_id: uuid.UUID) -> list[LorebookOut]:
    await require_story(session, story_id)
    return [book_out(row) for row in await repository.attached(session, story_id)]


async def detach(session: AsyncSession, story_id: uuid.UUID, lorebook_id: uuid.UUID) -> None:
    link = await repository.story_link(session, story_id, lorebook_id)
    if link is None:
        await require_story(session, story_id)
        raise LorebookNotFound(lorebook_id)
    await session.delete(link)
