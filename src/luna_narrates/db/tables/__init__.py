"""ORM classes, one module per table; importing this package registers them all on `Base`."""

from luna_narrates.db.tables.agent_runs import AgentRun
from luna_narrates.db.tables.base import SCHEMA, Base
from luna_narrates.db.tables.branches import Branch
from luna_narrates.db.tables.cost_logs import CostLog
from luna_narrates.db.tables.stories import Story
from luna_narrates.db.tables.turn_embeddings import TurnEmbedding
from luna_narrates.db.tables.turns import Turn

__all__ = ["SCHEMA", "AgentRun", "Base", "Branch", "CostLog", "Story", "Turn", "TurnEmbedding"]
