"""The Dreamer's ideas as briefing candidates: an unused idea the action names, or one close
to it in meaning, competes for the briefing's budget like memory and lore, cited as
`[idea: …]` and said to be not yet in the story, so the Strategist may bring it in."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.agents.preprocessor.schemas import BriefingItem, Citation
from luna_narrates.db.tables import DreamerContent
from luna_narrates.memory.packing import Candidate

NAMED_SCORE = 0.75  # the action or the recent turns name it
MIN_SIMILARITY = 0.35  # as lore entries found by meaning
MEANING_WEIGHT = 0.8
LIMIT = 3
DESCRIPTION_CHARS = 240


async def candidates(
    session: AsyncSession,
    story_id: uuid.UUID,
    texts: Sequence[str],
    vector: Sequence[float],
) -> list[Candidate]:
    """At most `LIMIT` unused ideas: those the action or the recent turns name, then the
    nearest in meaning (cosine ≥ `MIN_SIMILARITY`)."""
    distance = DreamerContent.embedding.cosine_distance(list(vector))
    rows = (
        await session.execute(
            select(DreamerContent, 1 - distance)
            .where(
                DreamerContent.story_id == story_id,
                DreamerContent.realized_in_turn.is_(None),
                DreamerContent.content_type != "plot_twist",
            )
            .order_by(distance)
            .limit(50)
        )
    ).all()
    said = " ".join(texts).lower()
    found: list[Candidate] = []
    for idea, similarity in rows:
        if idea.name.lower() in said:
            score, reason = NAMED_SCORE, "an idea of the Dreamer's the story names"
        elif similarity is not None and similarity >= MIN_SIMILARITY:
            score = float(similarity) * MEANING_WEIGHT
            reason = f"an idea of the Dreamer's close in meaning ({similarity:.2f})"
        else:
            continue
        description = " ".join(idea.description.split())
        if len(description) > DESCRIPTION_CHARS:
            description = description[:DESCRIPTION_CHARS].rsplit(" ", 1)[0] + "…"
        text = f"{idea.name} ({idea.content_type.replace('_', ' ')}, not yet in the story): "
        shown = BriefingItem(
            kind="dream",
            text=text + description,
            source=Citation(dream_id=idea.id, title=idea.name[:60]),
        )
        found.append(Candidate(score, f"dream:{idea.id}", shown, reason))
    found.sort(key=lambda c: -c.score)
    return found[:LIMIT]
