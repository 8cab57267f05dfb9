"""Model calls outside a turn that write characters: a card drafted from a name and an idea,
or one section of a card rewritten. The model runs with no connection held; the card and the
call's agent-run and cost rows are then written in one transaction, so every call leaves its
record (`stage: character`) and a failed call leaves nothing."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from luna_narrates.agents.character_writer import agent as character_writer
from luna_narrates.agents.character_writer.schemas import CharacterIdea, Section, SectionRequest
from luna_narrates.characters import service as characters
from luna_narrates.characters.schemas import CardEdit, CharacterCreate
from luna_narrates.costs import pricing
from luna_narrates.db.engine import Database
from luna_narrates.llm.calls import AgentModel, ModelCall
from luna_narrates.llm.registry import ModelRegistry
from luna_narrates.narration.records import agent_run_row, price_call
from luna_narrates.narration.schemas import AgentReport, CharacterGenerate, CharacterWritten

# Its own llama.cpp context on the embedded model, so writing a character never evicts the
# prompt prefixes the turn's agents keep in theirs.
CHARACTER_SLOT = "character"
SECTIONS = ("description", "personality", "scenario", "first_mes", "mes_example")
NO_PORTRAITS = (
    "No portrait was queued: portraits need an image worker (ComfyUI or Automatic1111), and "
    "none is configured; the card shows a placeholder."
)


def writer_model(registry: ModelRegistry) -> AgentModel:
    """Characters are written on the Writer's model."""
    return AgentModel.for_role(registry, "writer", CHARACTER_SLOT)


async def generate(
    db: Database, model: AgentModel, data: CharacterGenerate, owner_id: uuid.UUID
) -> CharacterWritten:
    idea = CharacterIdea(name=data.name, idea=data.description, setting=data.setting)
    draft, record = await character_writer.draft(idea, model)
    async with db.transaction() as session:
        row = await characters.create(
            session,
            CharacterCreate(
                name=data.name,
                description=draft.description,
                personality=draft.personality,
                scenario=draft.scenario,
                first_mes=draft.first_mes,
                mes_example=draft.mes_example,
                tags=sorted({*data.tags, *draft.tags}),
                creator_notes=f"Written by LUNA-Narrates from: {data.description}",
                in_library=data.in_library,
            ),
            owner_id,
            origin="generated",
        )
        report = await _record(session, record, idea.model_dump(), row.id)
        found = await characters.get(session, row.id)
    warnings = [NO_PORTRAITS] if data.generate_portrait else []
    return CharacterWritten(
        **found.model_dump(exclude={"warnings"}), agent=report, warnings=warnings
    )


async def rewrite(
    db: Database,
    model: AgentModel,
    character_id: uuid.UUID,
    section: Section,
    instruction: str | None,
) -> CharacterWritten:
    async with db.sessions() as session:
        card = await characters.get(session, character_id)
    request = SectionRequest(
        name=card.name,
        section=section,
        card={name: getattr(card, name) for name in SECTIONS},
        instruction=instruction,
    )
    rewritten, record = await character_writer.rewrite(request, model)
    async with db.transaction() as session:
        await characters.update(session, character_id, CardEdit(**{section: rewritten.text}))
        report = await _record(session, record, request.model_dump(), character_id)
        found = await characters.get(session, character_id)
    return CharacterWritten(**found.model_dump(), agent=report)


async def _record(
    session: AsyncSession,
    record: ModelCall,
    agent_input: dict[str, object],
    character_id: uuid.UUID,
) -> AgentReport:
    priced = price_call(record, await pricing.load(session))
    row = agent_run_row(0, record, dict(agent_input), priced, None, None, "character", character_id)
    session.add(row)
    return priced.report
