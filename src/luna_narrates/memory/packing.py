"""Packs ranked memory items into a token budget: best first, each at most once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from luna_narrates.agents.preprocessor.schemas import BriefingItem

# No tokenizer we count with packs more characters than this into one token of story text.
MAX_CHARS_PER_TOKEN = 12


@dataclass(frozen=True)
class Candidate:
    score: float
    key: str  # one row, one item: the same fact found twice is shown once
    item: BriefingItem
    reason: str


@dataclass(frozen=True)
class Packed:
    items: list[Candidate]
    tokens: int
    considered: int


def rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    """Best score first; for equal scores the newer source first; duplicates keep their best."""
    best: dict[str, Candidate] = {}
    for candidate in candidates:
        kept = best.get(candidate.key)
        if kept is None or candidate.score > kept.score:
            best[candidate.key] = candidate
    return sorted(best.values(), key=lambda c: (-c.score, -c.item.source.turn, c.key))


def pack(
    candidates: Iterable[Candidate], budget: int, count_tokens: Callable[[str], int]
) -> Packed:
    """Greedy by rank: an item that does not fit is skipped and smaller ones may still fit.
    Each item costs its line plus the newline that joins it to the next. Lines far longer than
    what is left are skipped without asking the tokenizer, which is the costly part."""
    ranked = rank(candidates)
    chosen: list[Candidate] = []
    used = 0
    for candidate in ranked:
        line = candidate.item.line() + "\n"
        if len(line) > (budget - used) * MAX_CHARS_PER_TOKEN:
            continue
        cost = count_tokens(line)
        if used + cost <= budget:
            chosen.append(candidate)
            used += cost
    return Packed(chosen, used, len(ranked))
