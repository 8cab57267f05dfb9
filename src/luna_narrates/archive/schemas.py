"""Bodies of story export and import."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

ExportFormat = Literal["json", "markdown", "html", "epub"]


class StoryImported(BaseModel):
    story_id: uuid.UUID = Field(description="The new story; every id in it is new.")
    title: str
    format_version: int
    branches: int
    turns: int = Field(description="Turn rows, every take counted.")
    agent_runs: int = Field(description="Model calls, with what each agent saw and answered.")
    memory_rows: int = Field(description="World-state and memory rows brought along.")
    memory_jobs: int = Field(
        description="Background jobs deferred for turns whose memory was not built at export."
    )
    characters: int = Field(default=0, description="Copies of the story's cast's cards.")
    lorebooks: int = Field(default=0, description="Copies of the lorebooks the story uses.")
    images: int = Field(default=0, description="Image rows; their pictures came with them.")
    dreamer_ideas: int = Field(default=0, description="The Dreamer's ideas, used or not.")
