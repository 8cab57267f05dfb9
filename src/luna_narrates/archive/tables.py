"""Which tables a story export carries, how their rows are found, and how a row is checked.

Every table that holds part of a story is listed here; a test fails when a new one is not.
Rows travel with every column but those the database derives (memory embeddings and their
full-text vectors are rebuilt on import) and the story's turn lease (a lock, not content).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    Numeric,
    Select,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB

from luna_narrates.db.tables import (
    AgentRun,
    Base,
    Branch,
    CharacterEvolutionSnapshot,
    CostLog,
    Entity,
    EntityAlias,
    Fact,
    MemoryChunk,
    Relationship,
    Story,
    StoryArc,
    Turn,
    TurnSummary,
    story_arc_turns,
)

STORY_SKIPPED = ("turn_lease_id", "turn_lease_until")
CHUNK_SKIPPED = ("embedding", "embedder", "search")


@dataclass(frozen=True)
class Exported:
    name: str
    table: Table
    skipped: tuple[str, ...] = ()

    def columns(self) -> list[Column[Any]]:
        return [c for c in self.table.columns if c.name not in self.skipped]

    def rows_of(self, story_id: uuid.UUID) -> Select[Any]:
        """The story's rows in a stable order (ids are remapped in order on import)."""
        columns = self.columns()
        query = select(*columns)
        table = self.table
        if table is Story.__table__:
            query = query.where(table.c.id == story_id)
        elif "story_id" in table.columns:
            query = query.where(table.c.story_id == story_id)
        elif table is AgentRun.__table__:
            turns = select(Turn.id).where(Turn.story_id == story_id)
            query = query.where(table.c.turn_id.in_(turns))
        elif table is story_arc_turns:
            arcs = select(StoryArc.id).where(StoryArc.story_id == story_id)
            query = query.where(table.c.arc_id.in_(arcs))
        else:
            raise AssertionError(f"no story filter for {self.name}")
        first = [table.c.created_at] if "created_at" in table.c else []
        return query.order_by(*first, *table.primary_key.columns)


def _exported(orm: type[Base] | Table, skipped: tuple[str, ...] = ()) -> Exported:
    table = orm if isinstance(orm, Table) else orm.__table__
    assert isinstance(table, Table)
    return Exported(table.name, table, skipped)


# In the order they can be inserted: every row's references come before it.
EXPORTED = tuple(
    _exported(*spec)
    for spec in (
        (Branch,),
        (Turn,),
        (AgentRun,),
        (CostLog,),
        (TurnSummary,),
        (Entity,),
        (EntityAlias,),
        (Fact,),
        (Relationship,),
        (CharacterEvolutionSnapshot,),
        (StoryArc,),
        (story_arc_turns,),
        (MemoryChunk, CHUNK_SKIPPED),
    )
)
STORY = _exported(Story, STORY_SKIPPED)
# The player's library, shared by stories and exported by its own routes (character cards,
# lorebooks); and a story's links to it, which the archive does not carry yet: an imported
# story starts without its cast and lorebooks attached.
LIBRARY = (
    "character_cards",
    "character_portraits",
    "character_skills",
    "lorebooks",
    "lorebook_entries",
    "worlds",
    "world_characters",
)
NOT_YET_ARCHIVED = ("story_characters", "story_lorebooks")
# What memory wrote down, as opposed to the turns and the model calls that made them.
MEMORY = tuple(spec.name for spec in EXPORTED[4:])
BY_NAME = {spec.name: spec for spec in EXPORTED}


def python_type(column: Column[Any]) -> Any:
    kind = column.type
    if isinstance(kind, JSONB):
        return Any
    for sql, python in (
        (Uuid, uuid.UUID),
        (Boolean, bool),
        (SmallInteger, int),
        (Integer, int),
        (Numeric, Decimal),
        (Float, float),
        (DateTime, datetime),
        (String, str),
        (Text, str),
    ):
        if isinstance(kind, sql):
            return python
    raise AssertionError(f"no JSON type for {column.table.name}.{column.name}: {kind!r}")


@cache
def row_model(spec: Exported) -> type[BaseModel]:
    """A pydantic model of one row: the column types, lengths and nullability, no extras. A
    column the database fills in by default may be missing (older files lack newer columns)."""
    fields: dict[str, Any] = {}
    for column in spec.columns():
        annotation = python_type(column)
        length = getattr(column.type, "length", None)
        info = Field(max_length=length) if length and annotation is str else Field()
        optional = column.nullable or column.server_default is not None
        if optional:
            info.default = None
            annotation = annotation | None
        fields[column.name] = (annotation, info)
    return create_model(f"{spec.name}_row", __config__=ConfigDict(extra="forbid"), **fields)
