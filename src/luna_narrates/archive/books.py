"""A branch of a story as a book: its lineage's turns, in chapters of one arc each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.db.lineage import lineage_of, select_turns
from luna_narrates.db.tables import Turn
from luna_narrates.formats.story_book import Book, BookTurn, Chapter
from luna_narrates.memory import repository as memory
from luna_narrates.stories import service as stories


async def read_book(
    session: AsyncSession, story_id: uuid.UUID, branch_id: uuid.UUID | None, arc_length: int
) -> Book:
    story = await stories.require_story(session, story_id)
    branch = await stories.resolve_branch(session, story_id, branch_id)
    lineage = await lineage_of(session, branch.id)
    query = (
        select_turns(lineage)
        .with_only_columns(Turn.turn_number, Turn.user_action, Turn.narrative_text)
        .order_by(Turn.turn_number)
    )
    turns = [BookTurn(*row) for row in (await session.execute(query)).all()]
    arcs = await memory.latest_arcs(session, lineage, len(turns) or 1)
    titles = {(a["first_turn"], a["turn_number"]): a["title"] for a in arcs}
    return Book(
        title=story.title,
        premise=story.premise,
        genre=story.genre,
        setting=story.setting,
        protagonist=story.protagonist,
        branch=branch.name,
        chapters=chapters(turns, titles, arc_length),
        exported_at=datetime.now(UTC),
        identifier=f"urn:uuid:{story.id}",
    )


def chapters(
    turns: list[BookTurn], titles: dict[tuple[int, int], str], arc_length: int
) -> tuple[Chapter, ...]:
    """One chapter per arc of `arc_length` turns, titled by the arc's summary where memory
    has written one."""
    found = []
    for start in range(0, len(turns), arc_length):
        block = tuple(turns[start : start + arc_length])
        first, last = block[0].number, block[-1].number
        title = titles.get((first, last)) or (
            f"Turn {first}" if first == last else f"Turns {first}–{last}"
        )
        found.append(Chapter(title, block))
    return tuple(found)
