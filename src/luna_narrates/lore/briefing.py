"""Lore for the briefing: the entries this action activates in the books a story uses, found
by keyword as SillyTavern does it and, for entries no keyword hit, by meaning; each one a
cited candidate competing for the Preprocessor's token budget with the rest of memory."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.agents.preprocessor.schemas import BriefingItem, Citation
from luna_narrates.db.tables import Lorebook, LorebookEntry
from luna_narrates.formats import card_macros, lore_decorators
from luna_narrates.lore import repository
from luna_narrates.lore.activation import Activated, LoreEntry, Scan, activate
from luna_narrates.lore.keys import text_keys
from luna_narrates.lore.service import entry_fields
from luna_narrates.memory.packing import Candidate

ACTIVATED = 2.6  # between what the action names (≥ 2.7) and what search finds (≤ ~2)
CONSTANT = 2.55
SIMILAR = 1.0
SIMILAR_K = 5
SIMILAR_MIN = 0.35  # cosine similarity (MiniLM); below it an entry is not about the action
ENTRY_CHARS = 800


@dataclass
class LoreQuery:
    story_id: uuid.UUID
    messages: Sequence[str]  # newest first: the action, then the recent turns
    turn_number: int
    vector: Sequence[float]
    character_books: dict[uuid.UUID, str] = field(default_factory=dict)  # book → character
    user_name: str = "the player"
    history: dict[str, list[int]] = field(default_factory=dict)


async def candidates(session: AsyncSession, query: LoreQuery) -> list[Candidate]:
    books = await repository.story_books(session, query.story_id, list(query.character_books))
    if not books:
        return []
    by_id = {book.id: book for book in books}
    hot = [b.id for b in books if b.storage_tier == "hot"]
    indexed = [b.id for b in books if b.storage_tier != "hot"]
    rows = await repository.candidate_entries(
        session, hot, indexed, text_keys("\n".join(query.messages))
    )
    entries = _entries(by_id, rows)
    scan = Scan(query.messages, query.turn_number, str(query.story_id), query.history)
    hits = activate(entries.values(), scan)
    found = [_activated(hit, by_id, query) for hit in hits]
    searchable = [b.id for b in books if b.storage_tier != "cold"]
    chosen = [uuid.UUID(hit.entry.key.split(":")[1]) for hit in hits]
    for row, similarity in await repository.similar_entries(
        session, searchable, query.vector, SIMILAR_K, chosen
    ):
        if similarity >= SIMILAR_MIN and row.fields is not None:
            found.append(_similar(row, by_id[row.lorebook_id], similarity, query))
    return found


def history_of(briefings: Sequence[tuple[int, dict[str, Any]]]) -> dict[str, list[int]]:
    """When each entry fired, from earlier turns' briefings: (turn number, briefing JSON)."""
    fired: dict[str, list[int]] = {}
    for turn_number, briefing in briefings:
        for item in (briefing or {}).get("memory") or []:
            source = item.get("source") or {}
            if item.get("kind") == "lore" and source.get("lore_entry_id"):
                key = f"{source.get('lorebook_id')}:{source['lore_entry_id']}"
                fired.setdefault(key, []).append(turn_number)
    return fired


def _entries(
    books: dict[uuid.UUID, Lorebook], rows: Sequence[LorebookEntry]
) -> dict[str, LoreEntry]:
    found: dict[str, LoreEntry] = {}
    for book_id, book in books.items():
        mine = [row for row in rows if row.lorebook_id == book_id]
        settings = book.settings or {}
        for row, fields in zip(mine, entry_fields(book, mine), strict=True):
            key = f"{book_id}:{row.id}"
            found[key] = LoreEntry(
                key, fields, settings.get("scan_depth"), settings.get("recursive_scanning")
            )
    return found


def _activated(hit: Activated, books: dict[uuid.UUID, Lorebook], query: LoreQuery) -> Candidate:
    book_id, entry_id = (uuid.UUID(part) for part in hit.entry.key.split(":"))
    fields = hit.entry.fields
    order = min(max(float(fields.get("order") or 0), 0.0), 1000.0)
    priority = min(max(float(fields.get("priority") or 0), 0.0), 100.0)
    base = CONSTANT if hit.reason == "constant" else ACTIVATED
    shown = _item(hit.content, fields, book_id, entry_id, query)
    reason = f"lorebook {books[book_id].name!r}: {hit.reason}"
    return Candidate(base + order / 100_000 + priority / 10_000, f"lore:{entry_id}", shown, reason)


def _similar(row: LorebookEntry, book: Lorebook, similarity: float, query: LoreQuery) -> Candidate:
    fields = row.fields or {}
    shown = _item(
        lore_decorators.strip(fields.get("content") or ""), fields, book.id, row.id, query
    )
    reason = f"lorebook {book.name!r}: close in meaning ({similarity:.2f})"
    return Candidate(SIMILAR + similarity, f"lore:{row.id}", shown, reason)


def _item(
    content: str,
    fields: dict[str, Any],
    book_id: uuid.UUID,
    entry_id: uuid.UUID,
    query: LoreQuery,
) -> BriefingItem:
    keys = fields.get("key") or []
    title = fields.get("comment") or (keys[0] if keys else "") or "entry"
    char = query.character_books.get(book_id, "the character")
    text = " ".join(card_macros.expand(content, char, query.user_name).split())
    if len(text) > ENTRY_CHARS:
        text = text[:ENTRY_CHARS].rsplit(" ", 1)[0] + "…"
    source = Citation(lorebook_id=book_id, lore_entry_id=entry_id, title=str(title)[:60])
    return BriefingItem(kind="lore", text=text, source=source)
