"""Lore for the briefing: the entries this action activates in the books a story uses, found
by keyword as SillyTavern does it and, for entries no keyword hit, by meaning; each one a
cited candidate competing for the Preprocessor's token budget with the rest of memory."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.agents.preprocessor.schemas import BriefingItem, Citation
from luna_narrates.db.tables import Lorebook, LorebookEntry
from luna_narrates.formats import card_macros, lore_decorators
from luna_narrates.lore import repository
from luna_narrates.lore.activation import (
    CARRIED,
    MAX_RECURSION_STEPS,
    Activated,
    LoreEntry,
    Scan,
    activate,
    number,
)
from luna_narrates.lore.keys import text_keys
from luna_narrates.lore.service import entry_fields
from luna_narrates.memory.packing import Candidate

ACTIVATED = 2.6  # between what the action names (≥ 2.7) and what search finds (≤ ~2)
CONSTANT = 2.55
SIMILAR = 1.0
SIMILAR_K = 5
SIMILAR_MIN = 0.35  # cosine similarity (MiniLM); below it an entry is not about the action
ENTRY_CHARS = 800


# Earlier briefings read for timed effects; an entry whose sticky + cooldown reaches further
# back is timed within this window.
MAX_HISTORY_TURNS = 100
History = Callable[[int], Awaitable[dict[str, list[int]]]]


@dataclass
class LoreQuery:
    story_id: uuid.UUID
    messages: Sequence[str]  # newest first: the action, then the recent turns
    turn_number: int
    vector: Sequence[float]
    history: History  # the last N turns' firings, read only when an entry needs them
    character_books: dict[uuid.UUID, str] = field(default_factory=dict)  # book → character
    user_name: str = "the player"


async def candidates(session: AsyncSession, query: LoreQuery) -> list[Candidate]:
    books = await repository.story_books(session, query.story_id, list(query.character_books))
    if not books:
        return []
    by_id = {book.id: book for book in books}
    hot = [b.id for b in books if b.storage_tier == "hot"]
    indexed = [b.id for b in books if b.storage_tier != "hot"]
    entries: dict[str, LoreEntry] = {}
    scanned = "\n".join(query.messages)
    hits: list[Activated] = []
    history: dict[str, list[int]] = {}
    history_turns = 0
    # Warm and cold books offer only the entries whose keys the scanned text holds, so what
    # activated entries say (recursion) is offered in another round, up to the step limit.
    for _ in range(MAX_RECURSION_STEPS + 1):
        rows = await repository.candidate_entries(session, hot, indexed, text_keys(scanned))
        hot = []  # read whole once
        added = {k: v for k, v in _entries(by_id, rows).items() if k not in entries}
        if not added and hits:
            break
        entries.update(added)
        needed = _history_turns(entries.values())
        if needed > history_turns:  # read again only when a new entry looks further back
            history, history_turns = await query.history(needed), needed
        scan = Scan(query.messages, query.turn_number, str(query.story_id), history)
        hits = activate(entries.values(), scan)
        scanned = "\n".join(hit.content for hit in hits)
        if not indexed or not scanned:
            break
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
    """When each entry fired, from earlier turns' briefings: (turn number, briefing JSON).
    Only firings count; a turn an entry was carried by `sticky` or found by meaning does not."""
    fired: dict[str, list[int]] = {}
    for turn_number, briefing in briefings:
        for item in (briefing or {}).get("memory") or []:
            source = item.get("source") or {}
            if item.get("kind") == "lore" and source.get("lore_entry_id") and source.get("fired"):
                key = f"{source.get('lorebook_id')}:{source['lore_entry_id']}"
                fired.setdefault(key, []).append(turn_number)
    return fired


def _history_turns(entries: Iterable[LoreEntry]) -> int:
    """How many earlier turns the timed effects of these entries look back over."""
    needed = 0
    for entry in entries:
        fields = entry.fields
        span = int(number(fields.get("sticky"), 0) + number(fields.get("cooldown"), 0))
        content = str(fields.get("content") or "")
        if "_after_match" in content:  # @@keep_/@@dont_activate_after_match: all of it
            span = MAX_HISTORY_TURNS
        needed = max(needed, span)
    return min(needed, MAX_HISTORY_TURNS)


def _entries(books: dict[uuid.UUID, Lorebook], rows: Sequence[Any]) -> dict[str, LoreEntry]:
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
    order = min(max(number(fields.get("order"), 0), 0.0), 1000.0)
    priority = min(max(number(fields.get("priority"), 0), 0.0), 100.0)
    base = CONSTANT if hit.reason == "constant" else ACTIVATED
    shown = _item(hit.content, fields, book_id, entry_id, query, hit.reason not in CARRIED)
    reason = f"lorebook {books[book_id].name!r}: {hit.reason}"
    return Candidate(base + order / 100_000 + priority / 10_000, f"lore:{entry_id}", shown, reason)


def _similar(row: LorebookEntry, book: Lorebook, similarity: float, query: LoreQuery) -> Candidate:
    fields = row.fields or {}
    content = lore_decorators.strip(fields.get("content") or "")
    shown = _item(content, fields, book.id, row.id, query, fired=False)
    reason = f"lorebook {book.name!r}: close in meaning ({similarity:.2f})"
    return Candidate(SIMILAR + similarity, f"lore:{row.id}", shown, reason)


def _item(
    content: str,
    fields: dict[str, Any],
    book_id: uuid.UUID,
    entry_id: uuid.UUID,
    query: LoreQuery,
    fired: bool,
) -> BriefingItem:
    keys = fields.get("key") or []
    title = fields.get("comment") or (keys[0] if keys else "") or "entry"
    char = query.character_books.get(book_id, "the character")
    text = " ".join(card_macros.expand(content, char, query.user_name).split())
    if len(text) > ENTRY_CHARS:
        text = text[:ENTRY_CHARS].rsplit(" ", 1)[0] + "…"
    source = Citation(
        lorebook_id=book_id, lore_entry_id=entry_id, title=str(title)[:60], fired=fired
    )
    return BriefingItem(kind="lore", text=text, source=source)
