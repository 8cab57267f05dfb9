"""Renders the stable story frame that opens every agent's system prompt."""

from __future__ import annotations

from luna_narrates.agents.schemas import PastTurn, StoryFrame


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
        f"Turn {t.turn_number}. Player: {t.user_action}\nStory: {t.narrative_text}" for t in turns
    )
