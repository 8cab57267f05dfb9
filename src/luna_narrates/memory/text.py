"""How memory turns story text into searchable documents and names into lookup keys."""

from __future__ import annotations

import re
from collections.abc import Iterable

from luna_narrates.kit.templates import tail_words

CHUNK_WORDS = 80
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_NOT_WORD = re.compile(r"[^\w]+")


def normalize(name: str) -> str:
    """Lower case, punctuation gone, one space between words: "Brother  Cole!" → "brother cole"."""
    return " ".join(_NOT_WORD.sub(" ", name.lower()).split())


def padded(text: str) -> str:
    """Normalized text with spaces around it, so a name matches only as whole words."""
    return f" {normalize(text)} "


def chunk_passage(text: str, max_words: int = CHUNK_WORDS) -> list[str]:
    """Whole sentences, packed up to about `max_words` words a chunk."""
    chunks: list[str] = []
    current: list[str] = []
    words = 0
    for sentence in _SENTENCE_END.split(text.strip()):
        size = len(sentence.split())
        if current and words + size > max_words:
            chunks.append(" ".join(current))
            current, words = [], 0
        current.append(sentence)
        words += size
    if current:
        chunks.append(" ".join(current))
    return chunks


def actor(protagonist: str | None) -> str:
    """Who acts in the player's turns: the protagonist's name, or "The player"."""
    return protagonist.split(",")[0].strip() if protagonist else "The player"


def passage_documents(turn_number: int, actor: str, action: str, narrative: str) -> list[str]:
    """A passage as it is indexed, in chunks each headed by who acted and when, so a search
    for "what did I do at the mill" can find it and its citation reads on its own."""
    return [f"Turn {turn_number}. {actor}: {action}\n{chunk}" for chunk in chunk_passage(narrative)]


def recent_context(turns: Iterable[tuple[str, str]]) -> str:
    """The recent turns (action, passage) as one text: who they name is likely on stage."""
    return "\n".join(f"{action}\n{passage}" for action, passage in turns)


def fact_text(subject: str, key: str, value: str) -> str:
    return f"{subject} · {key.replace('_', ' ')}: {value}"


def relationship_text(source: str, target: str, disposition: str, score: int) -> str:
    return f"{source} → {target}: {disposition} ({score:+d})"


def entity_text(name: str, kind: str, aliases: list[str], description: str) -> str:
    also = f", also called {', '.join(aliases)}" if aliases else ""
    about = f": {description}" if description else ""
    return f"{name} ({kind}{also}){about}"


def raw_turn_text(action: str, narrative: str, max_words: int = 60) -> str:
    """A turn whose memory is not built yet, as the briefing shows it: never invisible."""
    return f"Player: {action} Story: {tail_words(narrative, max_words)}"


def search_terms(text: str) -> str:
    """Any of the words, for websearch_to_tsquery: a player's action rarely repeats a passage's
    exact wording, so all-words matching would find almost nothing."""
    words = [w for w in _NOT_WORD.sub(" ", text).split() if len(w) > 1]
    return " or ".join(words)
