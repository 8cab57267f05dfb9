"""Renders the stable story frame that opens every agent's system prompt."""

from __future__ import annotations

from luna_narrates.agents.schemas import PastTurn, StoryFrame
from luna_narrates.kit.templates import tail_words

# Each recent passage is cut to its end: a bounded window keeps every prompt's size, and so
# the time to the first token, the same at turn 20 as at turn 2. The Preprocessor reads them
# only for the scene; what matters from further back reaches the briefing through memory.
RECENT_PASSAGE_WORDS = 60


def render_frame(story: StoryFrame) -> str:
    lines = [f"Title: {story.title}"]
    if story.genre:
        lines.append(f"Genre: {story.genre}")
    if story.setting:
        lines.append(f"Setting: {story.setting}")
    lines.append(f"Premise: {story.premise}")
    if story.protagonist:
        lines.append(f"Protagonist: {story.protagonist}")
    return "\n".join(lines)


def render_turns(turns: list[PastTurn]) -> str:
    if not turns:
        return "(The story has not begun yet: this is the opening turn.)"
    return "\n\n".join(
        f"Turn {t.turn_number}. Player: {t.user_action}\n"
        f"Story: {tail_words(t.narrative_text, RECENT_PASSAGE_WORDS)}"
        for t in turns
    )
