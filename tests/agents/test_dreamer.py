"""The Dreamer: an answer bounded for a grammar, repeats dropped, and a real dream on the
embedded model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from luna_narrates.agents.dreamer import agent as dreamer
from luna_narrates.agents.dreamer.schemas import (
    Detail,
    Dream,
    DreamerInput,
    DreamIdea,
    KnownThing,
)
from luna_narrates.agents.schemas import PastTurn, StoryFrame
from luna_narrates.llm.calls import AgentModel
from luna_narrates.llm.registry import ModelRegistry, ModelSpec
from luna_narrates.llm.structured import MAX_GRAMMAR_STRING_LENGTH
from tests.conftest import STORY, make_settings
from tests.scripted import Room

FRAME = StoryFrame(**STORY)
TURNS = [
    PastTurn(
        turn_number=1,
        user_action="I slip into the palace by the water gate.",
        narrative_text="Ila ducks under the rusted portcullis. Cold canal water bites at her "
        "knees, and somewhere above, a guard's lantern swings toward the sound.",
    ),
    PastTurn(
        turn_number=2,
        user_action="I follow the sound of footsteps.",
        narrative_text="The footsteps lead to a chapel where an old priest counts keys by "
        "candlelight. One key is black iron, and it hums.",
    ),
]
INPUT = DreamerInput(
    story=FRAME,
    recent_turns=TURNS,
    world=[
        KnownThing(name="Ila", kind="character", summary="A thief; inside the palace"),
        KnownThing(name="The Doge's crown", kind="item", summary="Cursed; in the vault"),
    ],
    open_threads=["Who hired Ila?"],
    already_dreamed=["Tavi", "The Drowned Bell"],
    wanted=2,
)


def idea(name: str, content_type: str = "character", confidence: float = 0.7) -> dict[str, Any]:
    return {
        "content_type": content_type,
        "name": name,
        "description": f"{name}, who fits the palace at night.",
        "metadata": [{"key": "mood", "value": "watchful"}],
        "confidence": confidence,
    }


def unbounded(schema: Any, path: str = "$") -> list[str]:
    """Where a schema lets a grammar-bound model write on forever: a string without a
    maxLength (or with one a llama.cpp grammar cannot take), an array without maxItems, an
    object with keys of its own choosing."""
    found: list[str] = []
    if isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "string" and "enum" not in schema and "const" not in schema:
            bound = schema.get("maxLength")
            if bound is None or bound > MAX_GRAMMAR_STRING_LENGTH:
                found.append(path)
        if kind == "array" and "maxItems" not in schema:
            found.append(path)
        if kind == "object" and schema.get("additionalProperties", False) is not False:
            found.append(path)  # llama.cpp ignores maxProperties and propertyNames
        for key, value in schema.items():
            found += unbounded(value, f"{path}.{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            found += unbounded(value, f"{path}[{index}]")
    return found


def test_the_dream_schema_bounds_every_string_and_list() -> None:
    assert unbounded(Dream.model_json_schema()) == []
    loose = {
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "array", "items": {"type": "string", "maxLength": 601}},
            "c": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 9}},
            "d": {"type": "object", "additionalProperties": False},
        }
    }
    assert unbounded(loose) == [
        "$.properties.a",
        "$.properties.b",
        "$.properties.b.items",
        "$.properties.c",
    ]


@pytest.fixture
def registry(data_dir: Path) -> ModelRegistry:
    # No database is touched: the registry only builds models.
    return ModelRegistry(make_settings("postgresql://unused.invalid/luna", data_dir))


async def test_repeats_are_dropped_and_the_dream_is_clamped_to_what_was_wanted(
    registry: ModelRegistry,
) -> None:
    answer = {
        "ideas": [
            idea("the_drowned_bell", "item"),  # already dreamed, spelt as SmolLM2 may spell it
            idea("The Salt Stair", "location", confidence=80),
            idea(" the salt stair ", "scene"),  # a repeat within the answer
            idea("Mother Wren"),
            idea("The Guild's Ledger", "plot_twist"),
        ]
    }
    room = Room()
    registry.register("fn", lambda reg, spec, agent: room.structured(agent, lambda: answer))
    model = AgentModel.on(registry, [ModelSpec("fn", "dreamer")], "dreamer", timeout=5)

    dream, record = await dreamer.dream(INPUT, model)

    assert [i.name for i in dream.ideas] == ["The Salt Stair", "Mother Wren"]
    assert dream.ideas[0].confidence == 1.0, "80 is read as the top of the scale"
    assert dream.ideas[0].details() == {"mood": "watchful"}
    assert record.agent == "dreamer"
    assert len(record.output["ideas"]) == 5, "the record keeps what the model said"
    seen = room.calls["dreamer"][0]
    assert FRAME.premise in seen.system
    assert "Already dreamed, not to repeat: Tavi, The Drowned Bell" in seen.user
    assert "Dream 2 ideas" in seen.user


def test_the_prompt_stays_the_same_size_however_much_the_story_has() -> None:
    def sized(n: int) -> int:
        data = DreamerInput(
            story=FRAME,
            recent_turns=[
                PastTurn(turn_number=t, user_action="go " * 300, narrative_text="rain " * 900)
                for t in range(1, n + 1)
            ],
            world=[KnownThing(name="n" * 90, kind="k" * 90, summary="s " * 400)] * n,
            open_threads=["t " * 100] * n,
            already_dreamed=[f"Idea {i:03d}" for i in range(10 * n)],
            wanted=5,
        )
        return len(dreamer.prompts(data)[1])

    assert sized(200) == sized(900)  # the same number of digits in turn numbers


def test_a_key_given_twice_keeps_its_first_value() -> None:
    twice = DreamIdea(
        content_type="item",
        name="The Black Key",
        description="A key of black iron that hums near the crown.",
        metadata=[Detail(key="looks", value="black iron"), Detail(key="looks", value="rusty")],
        confidence=-0.5,
    )
    assert twice.details() == {"looks": "black iron"}
    assert twice.confidence == 0.0


def prose(length: int) -> str:
    return ("the thief crosses the canal at night " * 30)[:length]


# What the longest answer and the largest per-turn part leave of the embedded model's default
# context for the story's frame: about 2,500 characters of prose. (The largest frame the API
# accepts is longer; the engine then gives the answer whatever room the context has left.)
FRAME_ROOM_TOKENS = 600


@pytest.mark.llm
def test_the_widest_dream_fits_the_answer_limit_and_leaves_room_for_the_frame(
    registry: ModelRegistry,
) -> None:
    """A wider answer than the limit is cut off mid-JSON; a prompt too long for the context
    shortens the answer the same way."""
    engine = registry.local_engine("smollm2")
    widest = Dream(
        ideas=[
            DreamIdea(
                content_type="plot_twist",
                name=prose(80),
                description=prose(400),
                metadata=[Detail(key=prose(40), value=prose(160))] * 6,
                confidence=0.123456789,
            )
        ]
        * 5
    )
    answer = len(engine.tokenize(widest.model_dump_json()))
    assert answer <= dreamer.MAX_DREAM_TOKENS, answer

    largest = INPUT.model_copy(
        update={
            "story": StoryFrame(title="", premise=""),
            "recent_turns": [
                PastTurn(turn_number=n, user_action=prose(1000), narrative_text=prose(900) * 9)
                for n in range(5)
            ],
            "world": [KnownThing(name=prose(90), kind=prose(90), summary=prose(600))] * 30,
            "open_threads": [prose(300)] * 9,
            "already_dreamed": [prose(80)] * 30,
        }
    )
    system, user = dreamer.prompts(largest)
    used = len(engine.tokenize(system)) + len(engine.tokenize(user)) + 16
    room = registry.settings.local_context_tokens - used - dreamer.MAX_DREAM_TOKENS
    assert room >= FRAME_ROOM_TOKENS, room


@pytest.mark.llm
async def test_a_real_dream_on_the_embedded_model(registry: ModelRegistry) -> None:
    model = AgentModel.on(registry, [ModelSpec("local", "smollm2")], "dreamer", timeout=120)

    dream, record = await dreamer.dream(INPUT, model)

    assert isinstance(dream, Dream)
    assert record.spec == ModelSpec("local", "smollm2")
    assert 0 < record.output_tokens <= dreamer.MAX_DREAM_TOKENS
    assert 1 <= len(record.output["ideas"]) <= 5, "the grammar asks for one to five"
    names = [i.name.strip().casefold() for i in dream.ideas]
    assert len(dream.ideas) <= INPUT.wanted
    assert len(set(names)) == len(names)
    assert not set(names) & {"tavi", "the drowned bell"}
    print(f"\n{record.seconds:.1f} s, {record.output_tokens} tokens: {record.output}")
