"""Which images a turn asks for, decided from its plan and passage (pure: no I/O).

- **background**: the scene's location; a background of the same subject and prompt drawn
  within `image_cache_duration_turns` turns is reused (the cache key is the SHA-256 of type,
  subject and prompt), so a new one is drawn when the location changes or the cache is stale;
- **action**: every `image_action_every_n_turns` turns, `image_action_variants` of them, each
  with its own seed;
- **portrait**: a character present for the first time, or again when a passage naming them
  says their appearance changed (`image_portrait_change_keywords`).
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from luna_narrates.config import Settings
from luna_narrates.images.schemas import SEED_LIMIT

ImageType = Literal["background", "action", "portrait", "item", "scene"]
MAX_SUBJECT = 200


@dataclass(frozen=True)
class TurnFacts:
    """What planning reads of a turn."""

    turn_id: str
    turn_number: int
    genre: str
    user_action: str
    narrative_text: str
    plan: Mapping[str, Any]


@dataclass(frozen=True)
class Wanted:
    image_type: ImageType
    subject: str
    prompt: str
    seed: int
    variant: int = 0

    @property
    def cache_key(self) -> str:
        return cache_key(self.image_type, self.subject, self.prompt)


def cache_key(image_type: str, subject: str, prompt: str) -> str:
    return hashlib.sha256(f"{image_type}\x1f{subject}\x1f{prompt}".encode()).hexdigest()


def seed_for(*parts: object) -> int:
    """A seed that is the same for the same turn and variant, so a retried job draws alike."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_LIMIT


def fill(template: str, **values: str) -> str:
    """The template with `{subject}`, `{description}`, `{genre}` filled; other braces stay."""

    class Keep(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    return string.Formatter().vformat(template, (), Keep(values)).strip()


def wanted_images(
    turn: TurnFacts,
    settings: Settings,
    *,
    portraits_drawn: set[str],
) -> list[Wanted]:
    """The images this turn asks for; `portraits_drawn` are the characters who have one."""
    plan = turn.plan
    wanted: list[Wanted] = []
    location = str(plan.get("scene_location") or "").strip()[:MAX_SUBJECT]
    if location:
        prompt = fill(
            settings.image_background_prompt,
            subject=location,
            description=f"a {turn.genre} setting",
            genre=turn.genre,
        )
        wanted.append(Wanted("background", location, prompt, seed_for(location, prompt)))
    every = settings.image_action_every_n_turns
    if every and turn.turn_number % every == 0:
        beats = [str(b) for b in plan.get("beats") or []]
        subject = (beats[0] if beats else turn.user_action).strip()[:MAX_SUBJECT]
        description = " ".join(beats)[:1000] or turn.user_action
        prompt = fill(
            settings.image_action_prompt, subject=subject, description=description, genre=turn.genre
        )
        for variant in range(settings.image_action_variants):
            seed = seed_for(turn.turn_id, variant)
            wanted.append(Wanted("action", subject, prompt, seed, variant))
    text = turn.narrative_text.lower()
    changed = any(keyword.lower() in text for keyword in settings.image_portrait_change_keywords)
    for name in dict.fromkeys(str(n).strip() for n in plan.get("characters_present") or []):
        if not name:
            continue
        first = name.lower() not in portraits_drawn
        if first or (changed and name.lower() in text):
            subject = name[:MAX_SUBJECT]
            prompt = fill(
                settings.image_portrait_prompt,
                subject=subject,
                description=f"a character of a {turn.genre} story",
                genre=turn.genre,
            )
            wanted.append(Wanted("portrait", subject, prompt, seed_for(turn.turn_id, subject)))
    return wanted
