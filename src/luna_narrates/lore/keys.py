"""Keys as the database indexes them, so warm and cold books find their keyword hits through
an index instead of reading every entry: a key is stored as its lower-cased words, and the
scanned text offers every run of one to four of its words, and each word without up to three
of its last letters (so "Shadowfangs" still offers "shadowfang", as SillyTavern's substring
match would find it). The hits are then checked exactly, as for a hot book."""

from __future__ import annotations

import re
from collections.abc import Iterable

from luna_narrates.lore.activation import REGEX_KEY

ALWAYS = "/any/"  # a key the index cannot judge (a regex, a long phrase): always a candidate
MAX_WORDS = 4
MAX_TRIMMED = 3
MIN_STEM = 3
WORD = re.compile(r"\w+")


def match_keys(keys: Iterable[str]) -> list[str]:
    found: list[str] = []
    for key in keys:
        words = WORD.findall(key.lower())
        if REGEX_KEY.match(key.strip()) or not words or len(words) > MAX_WORDS:
            found.append(ALWAYS)
        else:
            found.append(" ".join(words))
    return sorted(set(found))


def text_keys(text: str) -> list[str]:
    words = WORD.findall(text.lower())
    runs = {
        " ".join(words[start : start + size])
        for size in range(1, MAX_WORDS + 1)
        for start in range(len(words) - size + 1)
    }
    stems = {
        word[:-cut]
        for word in set(words)
        for cut in range(1, MAX_TRIMMED + 1)
        if len(word) - cut >= MIN_STEM
    }
    return sorted(runs | stems | {ALWAYS})
