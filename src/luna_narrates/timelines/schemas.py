"""Request and response bodies of timelines: branches, redo, takes and edits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from luna_narrates.kit.money import Usd
from luna_narrates.stories.schemas import (
    MAX_TURN_NUMBER,
    Action,
    BranchOut,
    BranchRef,
    Passage,
    no_nul,
    stripped,
)

BranchName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(stripped)]
Description = Annotated[str, Field(max_length=2_000), AfterValidator(no_nul)]


class BranchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    branch_name: BranchName
    from_turn_number: int = Field(
        ge=0,
        le=MAX_TURN_NUMBER,
        description="The last turn the new branch shares; 0 starts over from the premise.",
    )
    from_branch_id: uuid.UUID | None = Field(
        default=None, description="Whose turns to branch from; the active branch by default."
    )
    make_active: bool = True
    description: Description | None = None


class BranchUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: BranchName | None = None
    description: Description | None = None

    @model_validator(mode="after")
    def _something(self) -> BranchUpdate:
        if not self.model_fields_set:
            raise ValueError("give a new name, a description, or both")
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name: a branch must keep a name")
        return self


class BranchSwitch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    branch_id: uuid.UUID


class BranchStats(BranchOut):
    turn_count: int = Field(description="Turns in its lineage, inherited ones included.")
    own_turns: int = Field(description="Turns written on this branch itself.")
    child_count: int


class BranchList(BaseModel):
    active_branch_id: uuid.UUID
    items: list[BranchStats]


class BranchNode(BranchStats):
    depth: int = Field(description="0 for Main.")
    path: list[str] = Field(description="Branch names from Main down to this one.")
    children: list[BranchNode]


class BranchTree(BaseModel):
    active_branch_id: uuid.UUID
    branch_count: int
    root: BranchNode


class BranchDeleted(BaseModel):
    deleted_branches: list[BranchRef]
    deleted_turns: int


class TurnsDeleted(BaseModel):
    branch_id: uuid.UUID
    deleted_turns: int
    last_turn_number: int = Field(description="The branch's last turn now.")
    fork_turn_number: int | None = Field(
        description="Where the branch now forks from its parent (moved back when the redo "
        "point lies before its old fork)."
    )


class TurnVersion(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    turn_id: uuid.UUID = Field(validation_alias="id")
    version: int
    is_selected: bool
    origin: str
    user_action: str
    narrative_text: str
    total_cost_usd: Usd
    created_at: datetime


class TurnVersions(BaseModel):
    branch_id: uuid.UUID = Field(description="The branch that owns the turn.")
    turn_number: int
    selected_version: int
    items: list[TurnVersion]


class VersionSelect(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=MAX_TURN_NUMBER)


class TurnEdit(BaseModel):
    """A new take written by the player; the previous one is kept as a version."""

    model_config = ConfigDict(extra="forbid")

    narrative_text: Passage | None = None
    user_action: Action | None = None

    @model_validator(mode="after")
    def _something(self) -> TurnEdit:
        if self.narrative_text is None and self.user_action is None:
            raise ValueError("give the new narrative_text, user_action, or both")
        return self


class MemoryRebuild(BaseModel):
    memory_jobs: int = Field(description="Background jobs deferred to rebuild memory.")
