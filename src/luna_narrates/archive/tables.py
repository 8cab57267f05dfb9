"""Which tables a story export carries, how their rows are found, and how a row is checked.

Every table that holds part of a story is listed here; a test fails when a new one is not.
Rows travel with every column but those the database derives (memory embeddings and their
full-text vectors are rebuilt on import), the story's turn lease (a lock, not content), the
price row a cost was computed from (the server's own: the cost itself travels) and who owns the
story, its cards and lorebooks (the importer owns the copies).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    Select,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from luna_narrates.db.tables import (
    AgentRun,
    Base,
    Branch,
    CharacterCard,
    CharacterEvolutionSnapshot,
    CharacterPortrait,
    CharacterSkill,
    CostLog,
    DreamerContent,
    DreamerTally,
    Entity,
    EntityAlias,
    Fact,
    GeneratedImage,
    Lorebook,
    LorebookEntry,
    MemoryChunk,
    Relationship,
    Story,
    StoryArc,
    StoryCharacter,
    StoryLorebook,
    Turn,
    TurnSummary,
    story_arc_turns,
)

STORY_SKIPPED = ("turn_lease_id", "turn_lease_until", "owner_id")  # the importer owns the copy
OWNED_SKIPPED = ("owner_id",)  # the importer owns the copied cards and lorebooks
CHUNK_SKIPPED = ("embedding", "embedder", "search")
ENTRY_SKIPPED = ("embedding", "search")  # made again after import
COST_SKIPPED = ("pricing_id",)


def _cast(story_id: uuid.UUID) -> Select[Any]:
    return select(StoryCharacter.character_id).where(StoryCharacter.story_id == story_id)


def _books(story_id: uuid.UUID) -> Any:
    attached = select(StoryLorebook.lorebook_id).where(StoryLorebook.story_id == story_id)
    own = select(CharacterCard.lorebook_id).where(CharacterCard.id.in_(_cast(story_id)))
    return attached.union(own)


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
        elif table is CharacterCard.__table__:
            query = query.where(table.c.id.in_(_cast(story_id)))
        elif table is CharacterPortrait.__table__ or table is CharacterSkill.__table__:
            query = query.where(table.c.character_id.in_(_cast(story_id)))
        elif table is Lorebook.__table__:
            query = query.where(table.c.id.in_(_books(story_id)))
        elif table is LorebookEntry.__table__:
            query = query.where(table.c.lorebook_id.in_(_books(story_id)))
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


TURNS = (*(_exported(orm) for orm in (Branch, Turn, AgentRun)), _exported(CostLog, COST_SKIPPED))
# What memory wrote down, as opposed to the turns and the model calls that made them.
MEMORY_SPECS = (
    *(
        _exported(orm)
        for orm in (
            TurnSummary,
            Entity,
            EntityAlias,
            Fact,
            Relationship,
            CharacterEvolutionSnapshot,
            StoryArc,
            story_arc_turns,
        )
    ),
    _exported(MemoryChunk, CHUNK_SKIPPED),
)
# The story's cast and lorebooks: an imported story gets copies of them.
CAST_AND_LORE = (
    _exported(Lorebook, OWNED_SKIPPED),
    _exported(LorebookEntry, ENTRY_SKIPPED),
    _exported(CharacterCard, OWNED_SKIPPED),
    *(_exported(orm) for orm in (CharacterPortrait, CharacterSkill)),
    *(_exported(orm) for orm in (StoryCharacter, StoryLorebook)),
)
# The Dreamer's ideas (their embeddings made again after import) and the story's images (the
# worker that drew one is the server's own: its name travels); their files travel beside the
# tables (archive/pictures.py).
PICTURES = (
    _exported(DreamerContent, ("embedding",)),
    _exported(DreamerTally),
    _exported(GeneratedImage, ("worker_id",)),
)
EXPORTED = (*TURNS, *MEMORY_SPECS, *CAST_AND_LORE, *PICTURES)
STORY = _exported(Story, STORY_SKIPPED)
MEMORY = tuple(spec.name for spec in MEMORY_SPECS)
# The player's library that no story holds, exported by its own routes (worlds; the community
# asset library, whose assets export as asset-card PNGs); the server's own settings, model
# prices, image workers and accounts; and what the database derives from exported rows
# (lorebook_keys, by trigger from match_keys).
LIBRARY = (
    "worlds",
    "world_characters",
    "community_assets",
    "asset_imports",
    "asset_votes",
    "asset_reports",
    "asset_collections",
    "collection_assets",
)
SERVER = (
    "settings",
    "model_pricing",
    "image_workers",
    "image_worker_slots",
    "users",
    "sessions",
    "invites",
)
DERIVED = ("lorebook_keys",)
BY_NAME = {spec.name: spec for spec in EXPORTED}


def python_type(column: Column[Any]) -> Any:
    kind = column.type
    if isinstance(kind, JSONB):
        return Any
    if isinstance(kind, LargeBinary):
        return Annotated[bytes, BeforeValidator(from_base64)]
    if isinstance(kind, ARRAY):
        return list[str]
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


def from_base64(value: Any) -> Any:
    """Binary columns (a portrait, a packed entry) travel as base64 text."""
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as error:
            raise ValueError(f"not base64: {error}") from None
    return value


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
