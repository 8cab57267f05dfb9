"""Which lorebook entries a turn activates, the way SillyTavern's World Info decides it.

Pure: entries and the recent text in, activated entries (with why) out. What it follows:
primary keys (plain text, or `/regex/flags`), case and whole-word options per entry or global,
selective logic over secondary keys (AND ANY, NOT ALL, NOT ANY, AND ALL), the scan depth in
messages (per entry, per book, or global), constant entries, probability, inclusion groups
(one entry per group: `groupOverride` first, then by weight), timed effects (`delay` in
turns, `sticky` and `cooldown` from when the entry last fired), recursion (activated content
is scanned again, up to a limit, honouring `excludeRecursion`, `preventRecursion` and
`delayUntilRecursion`), and the V3 decorators that decide activation.

Randomness (probability, group weights) is seeded by the story and turn, so a preview of the
briefing shows what the turn will get.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import regex

from luna_narrates.formats import lore_decorators
from luna_narrates.formats.world_info import AND_ALL, AND_ANY, NOT_ALL, NOT_ANY

REGEX_KEY = re.compile(r"^/(.+)/([a-z]*)$", re.DOTALL)
MAX_RECURSION_STEPS = 5
# A key's regex gets this long per match (the `regex` module stops it); a pattern written to
# backtrack forever then simply does not match, instead of stalling every turn.
REGEX_SECONDS = 0.05
# Reasons an entry stays active without matching again: not a new firing, so no new
# probability roll, no group contest, and no restart of its sticky or cooldown timers.
CARRIED = ("sticky", "kept active after its first match")


@dataclass(frozen=True)
class ScanOptions:
    """The global World Info settings; an entry's or a book's own value wins where set."""

    scan_depth: int = 2  # messages, newest first; the action being played is the first
    case_sensitive: bool = False
    match_whole_words: bool = False
    recursive: bool = True
    max_recursion_steps: int = MAX_RECURSION_STEPS


@dataclass(frozen=True)
class LoreEntry:
    """An entry as activation sees it: its World Info fields and where it lives."""

    key: str  # unique across books: "{lorebook_id}:{uid}"
    fields: dict[str, Any]
    book_scan_depth: int | None = None
    book_recursive: bool | None = None


@dataclass(frozen=True)
class Activated:
    entry: LoreEntry
    reason: str  # "constant", "key 'forest'", "sticky", "recursion: key 'glade'"…
    content: str  # without decorator lines


@dataclass
class Scan:
    messages: Sequence[str]  # newest first: the action, then the turns before it
    turn_number: int  # the turn being played
    seed: str = ""
    # entry key → turn numbers it fired on (for sticky and cooldown)
    history: dict[str, list[int]] = field(default_factory=dict)
    options: ScanOptions = field(default_factory=ScanOptions)
    # The scanned text per depth, as written and lower-cased: built once, not per entry.
    _texts: dict[int, tuple[str, str]] = field(default_factory=dict, init=False, repr=False)

    def text(self, depth: int) -> tuple[str, str]:
        depth = max(depth, 0)
        if depth not in self._texts:
            joined = "\n".join(self.messages[:depth])
            self._texts[depth] = (joined, joined.lower())
        return self._texts[depth]


def activate(entries: Iterable[LoreEntry], scan: Scan) -> list[Activated]:
    """Activated entries, in the order they would be inserted (lowest `order` first)."""
    pending = [e for e in entries if not e.fields.get("disable")]
    chosen: dict[str, Activated] = {}
    groups_won: set[str] = set()
    recursion_text = ""
    for step in range(scan.options.max_recursion_steps + 1):
        recursing = step > 0
        found: list[Activated] = []
        contested: list[Activated] = []
        for entry in pending:
            if entry.key in chosen:
                continue
            reason = _why(entry, scan, recursing, recursion_text)
            if reason is None:
                continue
            activated = Activated(entry, reason, _decorated(entry).text)
            if reason in CARRIED:
                found.append(activated)
            elif _passes_probability(entry, scan):
                contested.append(activated)
        found += _one_per_group(contested, scan, groups_won)
        for activated in found:
            chosen[activated.entry.key] = activated
        recursive = [a for a in found if _may_recurse(a.entry, scan.options)]
        if not recursive:
            break
        recursion_text += "\n" + "\n".join(a.content for a in recursive)
    return sorted(
        chosen.values(), key=lambda a: (number(a.entry.fields.get("order"), 100), a.entry.key)
    )


def _why(entry: LoreEntry, scan: Scan, recursing: bool, recursion_text: str) -> str | None:
    fields = entry.fields
    decorated = _decorated(entry)
    if decorated.has("dont_activate") and not decorated.has("activate"):
        return None
    if not _decorator_conditions(decorated, scan):
        return None
    fired = scan.history.get(entry.key, [])
    last = max(fired, default=None)
    sticky = fields.get("sticky") or 0
    if last is not None and sticky and scan.turn_number - last <= sticky:
        return "sticky"
    cooldown = fields.get("cooldown") or 0
    if last is not None and cooldown and scan.turn_number - last <= sticky + cooldown:
        return None
    if decorated.has("dont_activate_after_match") and fired:
        return None
    if decorated.has("keep_activate_after_match") and fired:
        return "kept active after its first match"
    if (fields.get("delay") or 0) > scan.turn_number:
        return None
    if recursing and fields.get("excludeRecursion"):
        return None
    if not recursing and fields.get("delayUntilRecursion"):
        return None
    if decorated.has("activate") or fields.get("constant"):
        return "constant"
    haystack = _haystack(entry, scan, decorated)
    if recursing:  # SillyTavern scans the chat and the activated entries' content together
        written = f"{haystack[0]}\n{recursion_text}"
        haystack = (written, written.lower())
    key = _first_match(fields.get("key") or [], haystack, entry, scan.options)
    if key is None:
        return None
    extra = decorated.words("additional_keys")
    if extra and _first_match(extra, haystack, entry, scan.options) is None:
        return None
    if any(_matches(k, haystack, entry, scan.options) for k in decorated.words("exclude_keys")):
        return None
    if not _secondary_ok(entry, haystack, scan.options):
        return None
    return f"{'recursion: ' if recursing else ''}key {key!r}"


def _decorator_conditions(decorated: lore_decorators.Decorated, scan: Scan) -> bool:
    played = scan.turn_number - 1  # turns the story has behind it
    after = decorated.number("activate_only_after")
    if after is not None and played < after:
        return False
    every = decorated.number("activate_only_every")
    return not (every and played % every != 0)


def _haystack(
    entry: LoreEntry, scan: Scan, decorated: lore_decorators.Decorated
) -> tuple[str, str]:
    """The text the entry's keys are looked for in, as written and lower-cased."""
    depth = decorated.number("scan_depth")
    if depth is None:
        depth = entry.fields.get("scanDepth")
    if depth is None:
        depth = entry.book_scan_depth
    if depth is None:
        depth = scan.options.scan_depth
    return scan.text(depth)


def _secondary_ok(entry: LoreEntry, haystack: tuple[str, str], options: ScanOptions) -> bool:
    secondary = entry.fields.get("keysecondary") or []
    if not entry.fields.get("selective") or not secondary:
        return True
    hits = [_matches(key, haystack, entry, options) for key in secondary]
    logic = entry.fields.get("selectiveLogic", AND_ANY)
    if logic == AND_ALL:
        return all(hits)
    if logic == NOT_ANY:
        return not any(hits)
    if logic == NOT_ALL:
        return not all(hits)
    return any(hits)


def _first_match(
    keys: Sequence[str], haystack: tuple[str, str], entry: LoreEntry, options: ScanOptions
) -> str | None:
    return next((key for key in keys if _matches(key, haystack, entry, options)), None)


def _matches(key: str, text: tuple[str, str], entry: LoreEntry, options: ScanOptions) -> bool:
    """`text` is the scanned text as written and lower-cased."""
    key = key.strip()
    haystack = text[0]
    if not key or not haystack:
        return False
    written = REGEX_KEY.match(key)
    if written is not None:
        pattern = _compiled(written.group(1), written.group(2))
        if pattern is None:
            return False
        try:
            return pattern.search(haystack, timeout=REGEX_SECONDS) is not None
        except TimeoutError:
            return False
    case = entry.fields.get("caseSensitive")
    if case is None:
        case = options.case_sensitive
    if not case:
        key, haystack = key.lower(), text[1]
    whole = entry.fields.get("matchWholeWords")
    if whole is None:
        whole = options.match_whole_words
    if whole and len(key.split()) == 1:
        return re.search(rf"(?:^|\W){re.escape(key)}(?:$|\W)", haystack) is not None
    return key in haystack


@lru_cache(maxsize=1024)
def _compiled(pattern: str, flags: str) -> regex.Pattern[str] | None:
    """JavaScript-style flags; an invalid pattern matches nothing (the V3 spec)."""
    value = 0
    for flag in flags:
        value |= {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL}.get(flag, 0)
    try:
        return regex.compile(pattern, value)
    except (regex.error, ValueError, OverflowError, RecursionError):
        return None


def _passes_probability(entry: LoreEntry, scan: Scan) -> bool:
    fields = entry.fields
    probability = number(fields.get("probability"), 100)
    if not fields.get("useProbability", True) or probability >= 100:
        return True
    return bool(_rng(scan, entry.key, "probability").random() * 100 < probability)


def _one_per_group(found: list[Activated], scan: Scan, groups_won: set[str]) -> list[Activated]:
    """Entries sharing an inclusion group: one wins, and a group won in an earlier step
    (recursion) takes no other. An override wins by highest `order`; otherwise the winner is
    drawn by `groupWeight`."""
    groups: dict[str, list[Activated]] = {}
    kept: list[Activated] = []
    for activated in found:
        named = _groups(activated.entry)
        if not named:
            kept.append(activated)
        elif not named & groups_won:
            for name in named:
                groups.setdefault(name, []).append(activated)
    winners: set[str] = set()
    losers: set[str] = set()
    for name, members in sorted(groups.items()):
        members = [m for m in members if m.entry.key not in losers]
        if not members:
            continue
        overrides = [m for m in members if m.entry.fields.get("groupOverride")]
        if overrides:
            winner = max(
                overrides, key=lambda m: (number(m.entry.fields.get("order"), 100), m.entry.key)
            )
        else:
            weights = [max(number(m.entry.fields.get("groupWeight"), 100), 0.0) for m in members]
            rng = _rng(scan, name, "group")
            winner = rng.choices(members, weights)[0] if sum(weights) > 0 else rng.choice(members)
        winners.add(winner.entry.key)
        losers.update(m.entry.key for m in members if m is not winner)
    for activated in found:
        if activated.entry.key in winners - losers:
            kept.append(activated)
            groups_won.update(_groups(activated.entry))
    return list({a.entry.key: a for a in kept}.values())


def _groups(entry: LoreEntry) -> set[str]:
    return {g.strip() for g in str(entry.fields.get("group") or "").split(",") if g.strip()}


def number(value: Any, default: float) -> float:
    """A number from a field as files write it; anything unusable (text, NaN, a 400-digit
    integer) counts as the default rather than stopping the turn."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return number if math.isfinite(number) else default


def _may_recurse(entry: LoreEntry, options: ScanOptions) -> bool:
    recursive = entry.book_recursive
    if recursive is None:
        recursive = options.recursive
    return bool(recursive) and not entry.fields.get("preventRecursion")


def _rng(scan: Scan, *parts: str) -> random.Random:
    return random.Random(":".join((scan.seed, str(scan.turn_number), *parts)))


def _decorated(entry: LoreEntry) -> lore_decorators.Decorated:
    return _parse(entry.fields.get("content") or "")


@lru_cache(maxsize=4096)
def _parse(content: str) -> lore_decorators.Decorated:
    return lore_decorators.parse(content)
