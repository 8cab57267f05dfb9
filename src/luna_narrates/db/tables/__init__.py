"""ORM classes, one module per table; importing this package registers them all on `Base`."""

from luna_narrates.db.tables.accounts import (
    LOCAL_OWNER_ID,
    LOCAL_USERNAME,
    AuthSession,
    Invite,
    User,
)
from luna_narrates.db.tables.agent_runs import AgentRun
from luna_narrates.db.tables.assets import (
    AssetCollection,
    AssetImport,
    AssetReport,
    AssetVote,
    CollectionAsset,
    CommunityAsset,
)
from luna_narrates.db.tables.base import SCHEMA, Base
from luna_narrates.db.tables.branches import Branch
from luna_narrates.db.tables.character_cards import (
    CharacterCard,
    CharacterPortrait,
    CharacterSkill,
    StoryCharacter,
)
from luna_narrates.db.tables.character_evolution_snapshots import CharacterEvolutionSnapshot
from luna_narrates.db.tables.cost_logs import CostLog
from luna_narrates.db.tables.dreamer_content import DreamerContent, DreamerTally
from luna_narrates.db.tables.entities import Entity, EntityAlias
from luna_narrates.db.tables.facts import Fact
from luna_narrates.db.tables.images import GeneratedImage, ImageWorker, ImageWorkerSlot
from luna_narrates.db.tables.lorebooks import Lorebook, LorebookEntry, LorebookKey, StoryLorebook
from luna_narrates.db.tables.memory_chunks import MemoryChunk
from luna_narrates.db.tables.model_pricing import ModelPricing
from luna_narrates.db.tables.relationships import Relationship
from luna_narrates.db.tables.settings import StoredSetting
from luna_narrates.db.tables.stories import Story
from luna_narrates.db.tables.story_arcs import StoryArc, story_arc_turns
from luna_narrates.db.tables.turn_summaries import TurnSummary
from luna_narrates.db.tables.turns import Turn
from luna_narrates.db.tables.worlds import World, WorldCharacter

__all__ = [
    "LOCAL_OWNER_ID",
    "LOCAL_USERNAME",
    "SCHEMA",
    "TURN_MEMORY_TABLES",
    "AgentRun",
    "AssetCollection",
    "AssetImport",
    "AssetReport",
    "AssetVote",
    "AuthSession",
    "Base",
    "Branch",
    "CharacterCard",
    "CharacterEvolutionSnapshot",
    "CharacterPortrait",
    "CharacterSkill",
    "CollectionAsset",
    "CommunityAsset",
    "CostLog",
    "DreamerContent",
    "DreamerTally",
    "Entity",
    "EntityAlias",
    "Fact",
    "GeneratedImage",
    "ImageWorker",
    "ImageWorkerSlot",
    "Invite",
    "Lorebook",
    "LorebookEntry",
    "LorebookKey",
    "MemoryChunk",
    "ModelPricing",
    "Relationship",
    "StoredSetting",
    "Story",
    "StoryArc",
    "StoryCharacter",
    "StoryLorebook",
    "Turn",
    "TurnSummary",
    "User",
    "World",
    "WorldCharacter",
    "story_arc_turns",
]

# What memory writes because of one turn's take (rows saying their branch, turn number and
# turn), children before the tables they refer to: the order they can be deleted in.
TURN_MEMORY_TABLES = tuple(
    table.name
    for table in reversed(Base.metadata.sorted_tables)
    if {"branch_id", "turn_number", "turn_id"} <= set(table.columns.keys())
)
