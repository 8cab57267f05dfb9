"""The cast for the briefing: what the Preprocessor reads of the cards of a story's
characters. The protagonist's description, personality and scenario always compete for the
budget near the top; an NPC's card rises when the action names it and sinks when nobody does;
example dialogue comes last, used only when the budget has room."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.agents.preprocessor.schemas import BriefingItem, Citation
from luna_narrates.characters import repository
from luna_narrates.db.tables import CharacterCard, CharacterSkill
from luna_narrates.formats import card_macros
from luna_narrates.formats.character_card import Card
from luna_narrates.memory.packing import Candidate
from luna_narrates.memory.text import padded

SECTION_CHARS = 600
EXAMPLE_CHARS = 400
# section → score for (the protagonist, an NPC the action names, one on stage, one elsewhere)
SCORES = {
    "description": (2.75, 2.85, 1.2, 0.9),
    "personality": (2.7, 2.8, 1.15, 0.85),
    "scenario": (2.5, 1.0, 0.8, 0.6),
    "skills": (2.3, 2.2, 1.0, 0.5),
    "mes_example": (0.95, 0.9, 0.7, 0.4),
}


@dataclass
class CastBriefing:
    candidates: list[Candidate] = field(default_factory=list)
    books: dict[uuid.UUID, str] = field(default_factory=dict)  # a character's book → its name
    user_name: str = "the player"


async def cast_briefing(
    session: AsyncSession, story_id: uuid.UUID, action: str, context: str
) -> CastBriefing:
    members = await repository.cast(session, story_id)
    if not members:
        return CastBriefing()
    cards = await repository.cards(session, [m.character_id for m in members])
    skills = await repository.skills(session, list(cards))
    found = CastBriefing()
    for member in members:
        card = cards.get(member.character_id)
        if card is not None and member.role == "protagonist":
            found.user_name = _call(card)
    for member in members:
        card = cards.get(member.character_id)
        if card is None:
            continue
        if card.lorebook_id is not None:
            found.books[card.lorebook_id] = _call(card)
        column = _column(card, member.role, action, context)
        found.candidates += _sections(card, skills[card.id], column, found.user_name)
    return found


def _column(card: CharacterCard, role: str, action: str, context: str) -> tuple[int, str]:
    if role == "protagonist":
        return 0, "the protagonist's card"
    names = {padded(card.name), padded(_call(card))}
    first = card.name.split()[0] if card.name.split() else ""
    if len(first) >= 3:
        names.add(padded(first))
    if any(name.strip() and name in padded(action) for name in names):
        return 1, "named in the action"
    if any(name.strip() and name in padded(context) for name in names):
        return 2, "in the recent turns"
    return 3, "in the story's cast"


def _sections(
    card: CharacterCard, skills: list[CharacterSkill], column: tuple[int, str], user: str
) -> list[Candidate]:
    fields = _fields(card)
    index, reason = column
    name = _call(card)
    found: list[Candidate] = []
    for section, scores in SCORES.items():
        if section == "skills":
            text = ", ".join(_skill(s) for s in skills)
        else:
            text = card_macros.expand(str(fields.get(section) or ""), name, user)
        text = " ".join(text.split())
        if not text:
            continue
        limit = EXAMPLE_CHARS if section == "mes_example" else SECTION_CHARS
        if len(text) > limit:
            text = text[:limit].rsplit(" ", 1)[0] + "…"
        label = {"mes_example": "speaks like", "skills": "skills and stats"}.get(section, section)
        source = Citation(character_id=card.id, title=name[:60])
        shown = BriefingItem(kind="character", text=f"{name}, {label}: {text}", source=source)
        found.append(Candidate(scores[index], f"card:{card.id}:{section}", shown, reason))
    return found


def _fields(card: CharacterCard) -> dict[str, Any]:
    return Card(card.version, card.card).data  # type: ignore[arg-type]


def _call(card: CharacterCard) -> str:
    """What the story calls the character: its V3 nickname, else its name."""
    nickname = _fields(card).get("nickname")
    return nickname if isinstance(nickname, str) and nickname.strip() else card.name


def _skill(skill: CharacterSkill) -> str:
    value = f"{skill.value}/{skill.max_value}" if skill.max_value is not None else str(skill.value)
    return f"{skill.name} {value}"
