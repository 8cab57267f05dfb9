"""The story templates shipped with LUNA (templates.json beside this file), read once."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from luna_narrates.worlds.errors import TemplateNotFound
from luna_narrates.worlds.schemas import StoryTemplate

FILE = Path(__file__).with_name("templates.json")


@cache
def templates() -> tuple[StoryTemplate, ...]:
    found = json.loads(FILE.read_text(encoding="utf-8"))
    return tuple(StoryTemplate.model_validate(t) for t in found)


def template(template_id: str) -> StoryTemplate:
    for found in templates():
        if found.id == template_id:
            return found
    raise TemplateNotFound(template_id, [t.id for t in templates()])
