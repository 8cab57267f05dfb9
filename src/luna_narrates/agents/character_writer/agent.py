"""Drafts a card, or rewrites one section of it, on the model it is given."""

from __future__ import annotations

from pathlib import Path

from luna_narrates.agents.character_writer.schemas import (
    SECTION_HELP,
    SECTION_LIMITS,
    CharacterDraft,
    CharacterIdea,
    SectionDraft,
    SectionRequest,
)
from luna_narrates.kit.templates import render
from luna_narrates.llm.calls import AgentModel, ModelCall, run_structured

HERE = Path(__file__).parent
NAME = "character_writer"
MAX_DRAFT_TOKENS = 900  # room for every section at its longest
MAX_SECTION_TOKENS = 300
CARD_CHARS = 1_500  # the other sections, shortened, as context for a rewrite


def draft_prompts(data: CharacterIdea) -> tuple[str, str]:
    system = render(HERE, "system.txt")
    user = render(
        HERE, "draft.txt", character=data.name, idea=data.idea, setting=data.setting or "(open)"
    )
    return system, user


def section_prompts(data: SectionRequest) -> tuple[str, str]:
    lines = [f"{key}: {value}" for key, value in data.card.items() if value and key != data.section]
    card = "\n".join(lines)
    if len(card) > CARD_CHARS:
        card = card[:CARD_CHARS].rsplit(" ", 1)[0] + " …"
    system = render(HERE, "system.txt")
    user = render(
        HERE,
        "section.txt",
        character=data.name,
        card=card or "(empty)",
        section=data.section,
        help=SECTION_HELP[data.section],
        instruction=f"The player asks: {data.instruction}" if data.instruction else "",
    )
    return system, user


async def draft(data: CharacterIdea, model: AgentModel) -> tuple[CharacterDraft, ModelCall]:
    system, user = draft_prompts(data)
    call = model.call(NAME, system, user, MAX_DRAFT_TOKENS)
    return await run_structured(call, CharacterDraft)


async def rewrite(data: SectionRequest, model: AgentModel) -> tuple[SectionDraft, ModelCall]:
    system, user = section_prompts(data)
    call = model.call(NAME, system, user, MAX_SECTION_TOKENS)
    section, record = await run_structured(call, SectionDraft)
    limit = SECTION_LIMITS[data.section]
    if len(section.text) > limit:
        section = SectionDraft(text=section.text[:limit].rsplit(" ", 1)[0])
    return section, record
