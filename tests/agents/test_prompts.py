"""Rendered prompts: pinned by golden files, and stable first so KV caches are reused.

Regenerate the golden files with `LUNA_UPDATE_GOLDEN=1 pytest tests/agents` and review the
diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from luna_narrates.agents.character_writer import agent as character_writer
from luna_narrates.agents.character_writer.schemas import CharacterIdea, SectionRequest
from luna_narrates.agents.dreamer import agent as dreamer
from luna_narrates.agents.dreamer.schemas import DreamerInput, KnownThing
from luna_narrates.agents.preprocessor import agent as preprocessor
from luna_narrates.agents.preprocessor import remember
from luna_narrates.agents.preprocessor.memory_schemas import ArcInput, RememberInput
from luna_narrates.agents.preprocessor.schemas import (
    BriefingItem,
    Citation,
    PreprocessorInput,
    StrategistBriefing,
)
from luna_narrates.agents.schemas import PastTurn, StoryFrame
from luna_narrates.agents.strategist import agent as strategist
from luna_narrates.agents.strategist.schemas import ResponseTemplate, StrategistInput
from luna_narrates.agents.writer import agent as writer
from luna_narrates.agents.writer.schemas import WriterInput
from tests.scripted import BRIEFING, PLAN

GOLDEN = Path(__file__).parent / "golden"
FRAME = StoryFrame(
    title="The Canal Thief",
    genre="fantasy",
    premise="In the canal city of Veyra, the thief Ila plans to steal the Doge's cursed crown.",
    protagonist="Ila, a quick-witted thief with a debt to the Guild",
)
TURNS = [
    PastTurn(turn_number=n, user_action=f"Action {n}", narrative_text=f"Passage {n}. " * 80)
    for n in range(1, 21)
]


MEMORY = [
    BriefingItem(
        kind="fact",
        text="The Doge's crown · status: cursed",
        source=Citation(turn=2, fact_id="6d6c9f53-70ce-4f2d-8f7a-3a7fbd3c8a11"),
    ),
    BriefingItem(
        kind="arc",
        text="The Job: Ila took the Guild's commission.",
        source=Citation(turn=10, first_turn=1),
    ),
]
WORLD = [
    KnownThing(name="Ila", kind="character", summary="A thief; location: inside the Water Gate"),
    KnownThing(name="The Doge's crown", kind="item", summary="Cursed; kept in the palace vault"),
]


def inputs(turn: int) -> dict[str, object]:
    """Each agent's input at a given turn of the same story."""
    recent = TURNS[max(0, turn - 4) : turn - 1]
    briefing = StrategistBriefing(**BRIEFING, memory=MEMORY)
    plan = ResponseTemplate(**PLAN)
    action = f"Action {turn}"
    return {
        "preprocessor": PreprocessorInput(
            story=FRAME, recent_turns=recent, user_action=action, token_budget=400
        ),
        "strategist": StrategistInput(story=FRAME, briefing=briefing, user_action=action),
        "remember": RememberInput(
            story=FRAME, turn=TURNS[turn - 1], known_entities=["Ila", "The Doge"]
        ),
        "arc": ArcInput(
            story=FRAME,
            first_turn=max(1, turn - 9),
            last_turn=turn,
            turn_summaries=[
                f"Turn {n}: Action {n} happened." for n in range(max(1, turn - 9), turn + 1)
            ],
        ),
        "writer": WriterInput(
            story=FRAME,
            previous_turn=recent[-1] if recent else None,
            user_action=action,
            plan=plan,
            target_tokens=700,
        ),
        # It dreams after the turn, while the player thinks: that turn is the latest it reads.
        "dreamer": DreamerInput(
            story=FRAME,
            recent_turns=TURNS[max(0, turn - 3) : turn],
            world=WORLD,
            open_threads=["Who hired Ila?"],
            already_dreamed=["The Drowned Bell", "Tavi"],
            wanted=3,
        ),
    }


PROMPTS = {
    "preprocessor": preprocessor.prompts,
    "strategist": strategist.prompts,
    "writer": writer.prompts,
    "remember": remember.remember_prompts,
    "arc": remember.arc_prompts,
    "dreamer": dreamer.prompts,
}


@pytest.mark.parametrize("agent", sorted(PROMPTS))
def test_prompt_matches_golden_file(agent: str) -> None:
    system, user = PROMPTS[agent](inputs(3)[agent])  # type: ignore[operator]
    rendered = f"=== system ===\n{system}\n=== user ===\n{user}\n"
    path = GOLDEN / f"{agent}.txt"
    if os.environ.get("LUNA_UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8"), f"{path} is out of date"
    assert "$" not in rendered, "an unrendered placeholder leaked into the prompt"


@pytest.mark.parametrize("agent", sorted(PROMPTS))
def test_stable_part_comes_first_and_does_not_change(agent: str) -> None:
    systems = set()
    for turn in (1, 2, 20):
        system, user = PROMPTS[agent](inputs(turn)[agent])  # type: ignore[operator]
        systems.add(system)
        assert FRAME.premise in system
        assert f"Action {turn}" in user and f"Action {turn}" not in system
    assert len(systems) == 1


def test_recent_window_has_a_bounded_size() -> None:
    """TTFT at turn 20 stays near turn 2 only if the per-turn part does not grow with history."""
    sizes = [
        len(preprocessor.prompts(inputs(turn)["preprocessor"])[1].split())  # type: ignore[arg-type]
        for turn in (5, 12, 20)
    ]
    assert len(set(sizes)) == 1


CHARACTER_PROMPTS = {
    "character_draft": lambda: character_writer.draft_prompts(
        CharacterIdea(name="Tavi", idea="A lamplighter who sees ghosts.", setting="Veyra")
    ),
    "character_section": lambda: character_writer.section_prompts(
        SectionRequest(
            name="Tavi",
            section="personality",
            card={"description": "A lamplighter.", "personality": "wry", "scenario": ""},
            instruction="more secretive",
        )
    ),
}


@pytest.mark.parametrize("name", sorted(CHARACTER_PROMPTS))
def test_character_writer_prompts_match_golden_files(name: str) -> None:
    system, user = CHARACTER_PROMPTS[name]()
    rendered = f"=== system ===\n{system}\n=== user ===\n{user}\n"
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("LUNA_UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8"), f"{path} is out of date"
    assert "$" not in rendered, "an unrendered placeholder leaked into the prompt"
    assert system == character_writer.draft_prompts(CharacterIdea(name="X", idea="Y"))[0]
