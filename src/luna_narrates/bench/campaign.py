"""Long synthetic story campaigns with planted facts, to benchmark how well memory retrieval works.

Most turns are filler in which the same invented names recur constantly, so that neither a
window of recent turns nor a plain similarity search on the action finds what a probe needs.
Every few turns an event is planted: a death, a betrayal, an item changing hands, a secret, a
new name or a move, written into one sentence of the passage and into the turn's ground-truth
memory. Probes, asked at least `PROBE_DELAY` turns later while the fact is still current, are
actions that need that fact. Filler never holds a needle's words in a way that would answer a
probe: no "dead" or "betray", no secret word, no old name after a rename, and a scene never puts
a character beside the place they live or the item they hold.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from luna_narrates.agents.preprocessor.memory_schemas import (
    CharacterChange,
    EntityKind,
    EntityMention,
    FactChange,
    RelationshipChange,
    TurnMemory,
)
from luna_narrates.agents.schemas import StoryFrame
from luna_narrates.bench import campaign_words as w

PROTAGONIST = w.PROTAGONIST
KINDS = ("death", "betrayal", "handoff", "secret", "rename", "move")
PROBE_DELAY = 15
CAST_SIZE = 24
ITEM_COUNT = 10
MIN_LIVING = 12  # deaths stop below this, so scenes keep enough named people
MAX_PROBES_PER_FACT = 2
_NEVER = 1 << 62


def _max_length(field_name: str) -> int:
    """Read from the schema, which may tighten: ground truth must validate, never be cut."""
    for meta in TurnMemory.model_fields[field_name].metadata:
        if (limit := getattr(meta, "max_length", None)) is not None:
            return int(limit)
    raise LookupError(field_name)


MAX_ENTITIES = _max_length("entities")
SUMMARY_LIMIT = _max_length("summary")


@dataclass(frozen=True)
class CampaignTurn:
    turn_number: int
    user_action: str
    narrative_text: str
    memory: TurnMemory


@dataclass(frozen=True)
class Needle:
    """Words that must all occur in one briefing item; a substring test, as a reader would scan."""

    words: tuple[str, ...]

    def found_in(self, text: str) -> bool:
        lowered = text.lower()
        return all(word.lower() in lowered for word in self.words)


@dataclass(frozen=True)
class ProbeFact:
    kind: str
    planted_turn: int
    current: Needle
    stale: Needle | None


@dataclass(frozen=True)
class Probe:
    after_turn: int
    action: str
    facts: tuple[ProbeFact, ...]


@dataclass(frozen=True)
class Campaign:
    frame: StoryFrame
    protagonist: str
    turns: tuple[CampaignTurn, ...]
    probes: tuple[Probe, ...]

    def turns_up_to(self, n: int) -> tuple[CampaignTurn, ...]:
        return self.turns[: max(n, 0)]


def generate(turn_count: int, seed: int = 7) -> Campaign:
    """The same (turn_count, seed) always gives the same campaign, so benchmark runs compare."""
    if turn_count < 1:
        raise ValueError("a campaign needs at least one turn")
    story = _Story(random.Random(seed))
    turns = story.play(turn_count)
    return Campaign(w.FRAME, PROTAGONIST, turns, story.probes(turn_count))


@dataclass
class _Character:
    ident: int
    name: str
    location: str
    former: str | None = None
    betrayed: bool = False
    secret: bool = False


@dataclass
class _Item:
    name: str
    cap: int  # how many times it changes hands before it drops out of the plot
    holder: _Character | None = None
    holder_label: str = ""  # the holder's name as the last held_by fact wrote it
    passes: int = 0


@dataclass
class _Plant:
    kind: str
    turn: int
    subject: str  # the name a probe action uses
    involved: frozenset[int]  # characters whose death or rename ends this fact's window
    current: Needle
    stale: Needle | None = None
    topic: str = ""
    former: str = ""
    end: int = _NEVER  # the first turn at which the fact is no longer current
    probed: int = 0


@dataclass
class _Page:
    """One turn being written; event entities go in first, so the entity cap drops filler."""

    sentences: list[str] = field(default_factory=list)
    entities: dict[str, EntityMention] = field(default_factory=dict)
    facts: list[FactChange] = field(default_factory=list)
    relationships: list[RelationshipChange] = field(default_factory=list)
    changes: list[CharacterChange] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)

    def mention(self, name: str, kind: EntityKind, aliases: Iterable[str] = ()) -> None:
        if name not in self.entities and len(self.entities) < MAX_ENTITIES:
            self.entities[name] = EntityMention(name=name, kind=kind, aliases=list(aliases))

    def fact(self, subject: str, key: str, value: str) -> None:
        self.facts.append(FactChange(subject=subject, key=key, value=value))

    def memory(self) -> TurnMemory:
        parts = list(self.summary)
        while len(parts) > 1 and len(" ".join(parts)) > SUMMARY_LIMIT:
            parts.pop()
        return TurnMemory(
            summary=" ".join(parts),
            entities=list(self.entities.values()),
            facts=self.facts,
            relationships=self.relationships,
            character_changes=self.changes,
        )


def _sentence(template: str, slots: dict[str, str]) -> str:
    text = template.format(**slots)
    return text[0].upper() + text[1:]


class _Story:
    """The world as it stands while the campaign is written, so that every event and every
    probe is checked against the current state rather than against chance."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # "dead" and "betray" too: no invented word may carry a needle's answer by accident.
        self.used = ["dead", "betray", PROTAGONIST.lower(), *(p.lower() for p in w.PLACES)]
        self.pending: list[_Character] = []
        self.active: list[_Character] = []
        for _ in range(CAST_SIZE):
            self._add_character()
        self.item_names = [f"{m} {o}" for m in w.MATERIALS for o in w.OBJECTS]
        rng.shuffle(self.item_names)
        self.pending_items: list[_Item] = []
        self.items: list[_Item] = []
        for _ in range(ITEM_COUNT):
            self._add_item()
        self.epithets = [f"{a} {t}" for a in w.EPITHET_WORDS for t in w.TITLES]
        rng.shuffle(self.epithets)
        self.here = rng.choice(w.PLACES)
        self.plants: list[_Plant] = []
        self.latest: dict[tuple[str, str], _Plant] = {}
        self.by_character: dict[int, list[_Plant]] = {}
        self.kind_counts = dict.fromkeys(KINDS, 0)

    def _invent(self, syllables: int) -> str:
        """A fresh word that neither contains nor hides inside any other name or fixed text."""
        rng = self.rng
        while True:
            parts = [rng.choice(w.ONSETS), rng.choice(w.NUCLEI), rng.choice(w.MIDS)]
            if syllables > 2:
                parts += [rng.choice(w.NUCLEI), rng.choice(w.MIDS)]
            word = "".join([*parts, rng.choice(w.ENDINGS)])
            low = word.lower()
            clashes = low in w.CORPUS or any(low in u or u in low for u in self.used)
            if len(low) >= 5 and not clashes:
                self.used.append(low)
                return word

    def _add_character(self) -> None:
        self.pending.append(_Character(len(self.used), self._invent(2), self.rng.choice(w.PLACES)))

    def _add_item(self) -> None:
        if self.item_names:
            self.pending_items.append(_Item(self.item_names.pop(), self.rng.choice((2, 3))))

    def play(self, turn_count: int) -> tuple[CampaignTurn, ...]:
        turns: list[CampaignTurn] = []
        next_event = self.rng.randint(5, 8)
        for n in range(1, turn_count + 1):
            page = _Page()
            event = self._plant(n, page) if n >= next_event else None
            if event is not None:
                next_event = n + self.rng.randint(5, 8)
            action = self._scene(page, event)
            turns.append(CampaignTurn(n, action, " ".join(page.sentences), page.memory()))
        return tuple(turns)

    # Planted events -------------------------------------------------------------------------

    def _candidates(self, kind: str) -> Sequence[_Character | _Item]:
        active = self.active
        if kind == "death":
            return list(active) if len(active) > MIN_LIVING else []
        if kind == "betrayal":
            return [c for c in active if not c.betrayed]
        if kind == "handoff":
            return [i for i in self.items if i.passes < i.cap] if len(active) > 1 else []
        if kind == "secret":
            return [c for c in active if not c.secret]
        if kind == "rename":
            # Capped, so enough of the cast stays free to move (see below).
            fresh = [c for c in active if c.former is None]
            return fresh if self.epithets and len(fresh) > 2 * len(active) // 3 else []
        # A renamed character's earlier location fact carries the old name: no clean stale.
        return [c for c in active if c.former is None and c.location != self.here]

    def _plant(self, n: int, page: _Page) -> tuple[str, str, set[str]] | None:
        """Writes one event into the page; returns its sentence, the action and names to avoid."""
        rng = self.rng
        options = {k: c for k in KINDS if (c := self._candidates(k))}
        if not options:
            return None
        low = min(self.kind_counts[k] for k in options)
        kind = rng.choice([k for k in options if self.kind_counts[k] == low])
        self.kind_counts[kind] += 1
        target = rng.choice(options[kind])
        avoid: set[str] = set()
        if isinstance(target, _Item):
            item = target
            new = rng.choice([c for c in self.active if c is not item.holder])
            text = rng.choice(w.HANDOFF).format(item=item.name, holder=new.name)
            page.fact(item.name, "held_by", new.name)
            page.mention(item.name, "item")
            page.mention(new.name, "character")
            page.summary.append(f"The {item.name} passes to {new.name}.")
            avoid.add(item.holder_label)
            current, stale = Needle((item.name, new.name)), Needle((item.name, item.holder_label))
            plant = _Plant(kind, n, item.name, frozenset({new.ident}), current, stale)
            self._register(plant, ("item:" + item.name, "held_by"))
            item.holder, item.holder_label, item.passes = new, new.name, item.passes + 1
            if item.passes == item.cap:
                self._add_item()
            return text, rng.choice(w.EVENT_ACTIONS[kind]), avoid
        person = target
        name = person.name
        action = rng.choice(w.EVENT_ACTIONS[kind]).format(name=name)
        plant = _Plant(kind, n, name, frozenset({person.ident}), Needle((name, kind)))
        if kind != "rename":
            page.mention(name, "character")
        if kind == "death":
            killer = rng.choice(w.KILLERS).format(faction=rng.choice(w.FACTIONS))
            text = rng.choice(w.DEATH).format(name=name, killer=killer, place=self.here)
            page.fact(name, "status", f"dead, killed by {killer} at {self.here}")
            page.mention(self.here, "location")
            page.summary.append(f"{name} is killed by {killer} at {self.here}.")
            plant.current = Needle((name, "dead"))
            self.active.remove(person)
            self._add_character()  # a newcomer keeps the cast at its size
        elif kind == "betrayal":
            faction = rng.choice(w.FACTIONS)
            text = rng.choice(w.BETRAYAL).format(name=name, faction=faction)
            how = f"betrayed {PROTAGONIST} to the {faction}"
            page.relationships.append(
                RelationshipChange(source=name, target=PROTAGONIST, disposition=how, score=-4)
            )
            page.fact(name, "allegiance", f"secretly sworn to the {faction}")
            page.changes.append(CharacterChange(name=name, change="turned against Kael for gold"))
            page.mention(faction, "faction")
            page.summary.append(f"{name} betrays Kael to the {faction}.")
            plant.current = Needle((name, "betray"))
            person.betrayed = True
        elif kind == "secret":
            topic, word = rng.choice(w.SECRET_TOPICS), self._invent(3).lower()
            text = rng.choice(w.SECRET).format(name=name, topic=topic, word=word)
            page.fact(name, "secret", f"the {topic} is {word}")
            page.summary.append(f"{name} tells Kael the {topic}.")
            plant.current, plant.topic = Needle((name, word)), topic
            person.secret = True
        elif kind == "rename":
            title = self.epithets.pop()
            text = rng.choice(w.RENAME).format(old=name, new=title)
            page.mention(title, "character", aliases=[name])
            page.fact(title, "name", f"{title}, formerly {name}")
            page.changes.append(CharacterChange(name=title, change=f"took the name {title}"))
            page.summary.append(f"{name} takes the name {title}.")
            plant.subject, plant.former, plant.current = title, name, Needle((title, name))
            person.former, person.name = name, title
        else:
            place = rng.choice([p for p in w.PLACES if p != person.location])
            text = rng.choice(w.MOVE).format(name=name, place=place)
            page.fact(name, "location", place)
            page.mention(place, "location")
            page.summary.append(f"{name} moves to {place}.")
            plant.current, plant.stale = Needle((name, place)), Needle((name, person.location))
            avoid.add(person.location)
            person.location = place
        self._register(plant, (f"character:{person.ident}", kind))
        return text, action, avoid

    def _register(self, plant: _Plant, key: tuple[str, str]) -> None:
        """Ends the windows this event closes: the same fact superseded, or a person renamed or
        gone, after which an older needle would name them wrongly."""
        if (older := self.latest.get(key)) is not None and older.end == _NEVER:
            older.end = plant.turn
        if plant.kind in ("death", "rename"):
            for ident in plant.involved:
                for other in self.by_character.get(ident, []):
                    other.end = min(other.end, plant.turn)
        self.latest[key] = plant
        for ident in plant.involved:
            self.by_character.setdefault(ident, []).append(plant)
        self.plants.append(plant)

    # Filler -----------------------------------------------------------------------------------

    def _introductions(self, page: _Page) -> tuple[list[str], set[str]]:
        """Newcomers arrive with the facts a later event supersedes: alive, home, holder."""
        rng, lines, names = self.rng, [], set()
        if self.pending and (len(self.active) < 3 or rng.random() < 0.6):
            person = self.pending.pop(0)
            self.active.append(person)
            name, home = person.name, person.location
            names.add(name)
            lines.append(rng.choice(w.INTRO_CHARACTER).format(name=name, home=home))
            page.fact(name, "status", "alive")
            page.fact(name, "location", home)
            page.mention(name, "character")
            page.mention(home, "location")
            page.summary.append(f"Kael meets {name} of {home}.")
        if self.pending_items and len(self.active) > 1 and rng.random() < 0.5:
            item = self.pending_items.pop(0)
            holder = rng.choice([c for c in self.active if c.name not in names])
            item.holder, item.holder_label = holder, holder.name
            self.items.append(item)
            lines.append(rng.choice(w.INTRO_ITEM).format(item=item.name, holder=holder.name))
            page.fact(item.name, "held_by", holder.name)
            page.mention(item.name, "item")
            page.mention(holder.name, "character")
            page.summary.append(f"{holder.name} holds the {item.name}.")
            names.add(holder.name)
        return lines, names

    def _scene(self, page: _Page, event: tuple[str, str, set[str]] | None) -> str:
        """Writes the filler passage around the event, if any, and returns the player's action."""
        rng = self.rng
        kinds = list(w.SCENES) if event is None else [k for k in w.SCENES if k != "travel"]
        kind = rng.choice(kinds)
        old = self.here
        if kind == "travel":
            self.here = rng.choice([p for p in w.PLACES if p != old])
            page.fact(PROTAGONIST, "location", self.here)
            page.mention(self.here, "location")
        avoid = event[2] if event else set()
        intros, newcomers = self._introductions(page) if event is None else ([], set())
        place2 = rng.choice([p for p in w.PLACES if p not in avoid and p not in (old, self.here)])
        items = [i for i in self.items if i.name not in avoid]
        item = rng.choice(items) if items else None
        blocked = avoid | {old, self.here, place2}
        if item is not None and item.holder is not None:
            blocked.add(item.holder.name)
        pool = [
            c
            for c in self.active
            if c.name not in blocked and c.location not in blocked and c.name not in newcomers
        ]
        named = rng.sample(pool, min(3, len(pool)))
        cast = [c.name for c in named] + rng.sample(w.ROLES, 3 - len(named))
        slots = {
            "place": self.here,
            "old": old,
            "place2": place2,
            "item": item.name if item else "",
        }
        slots |= dict(zip(("char", "char2", "char3"), cast, strict=True))
        slots |= {slot: rng.choice(words) for slot, words in w.SLOT_WORDS.items()}
        general = [t for t in w.GENERAL if item is not None or "{item}" not in t]
        body_pool = rng.sample(w.SCENES[kind], len(w.SCENES[kind])) + rng.sample(general, 8)
        opening = _sentence(rng.choice(w.OPENINGS), slots)
        closing = _sentence(rng.choice(w.CLOSINGS), slots)
        fixed = [opening, *intros, closing] + ([event[0]] if event else [])
        words, target = sum(len(s.split()) for s in fixed), rng.randint(170, 260)
        body: list[str] = []
        for template in body_pool:
            if words >= target:
                break
            line = _sentence(template, slots)
            if words + len(line.split()) <= 280:
                body.append(line)
                words += len(line.split())
        action_template = rng.choice(w.ACTIONS[kind])
        action = event[1] if event else _sentence(action_template, slots)
        text = " ".join([*body, action])
        present = [c for c in named if c.name in text]
        if present and rng.random() < 0.3:
            person = rng.choice(present)
            mood = rng.choice(w.MOODS)
            body.append(_sentence(w.MOOD_LINE, {"char": person.name, "mood": mood}))
            page.fact(person.name, "mood", mood)
        if event:
            body.insert(rng.randint(min(1, len(body)), len(body)), event[0])
        page.sentences = [opening, *intros, *body, closing]
        page.summary.append(_sentence(w.SUMMARIES[kind], slots))
        for person in present:
            page.mention(person.name, "character")
        page.mention(self.here, "location")
        extras: list[tuple[str, EntityKind]] = [(place2, "location"), (slots["faction"], "faction")]
        for name, entity_kind in [*extras, (slots["item"], "item")]:
            if name and name in text:
                page.mention(name, entity_kind)
        if present:
            verb = "is" if len(present) == 1 else "are"
            page.summary.append(f"{' and '.join(c.name for c in present)} {verb} there too.")
        return action

    # Probes -----------------------------------------------------------------------------------

    def probes(self, turn_count: int) -> tuple[Probe, ...]:
        """About one probe every six turns, each kind in turn, preferring facts asked least."""
        rng = self.rng
        counts = dict.fromkeys(KINDS, 0)
        found: list[Probe] = []
        ready: list[_Plant] = []
        waiting = iter(self.plants)
        upcoming = next(waiting, None)
        t = PROBE_DELAY + rng.randint(4, 8)
        while t <= turn_count:
            while upcoming is not None and upcoming.turn + PROBE_DELAY <= t:
                ready.append(upcoming)
                upcoming = next(waiting, None)
            ready = [p for p in ready if p.end > t and p.probed < MAX_PROBES_PER_FACT]
            if ready:
                found.append(self._probe(t, ready, counts))
            t += rng.randint(4, 7)
        return tuple(found)

    def _probe(self, t: int, ready: list[_Plant], counts: dict[str, int]) -> Probe:
        rng = self.rng
        kinds = [k for k in KINDS if any(p.kind == k for p in ready)]
        low = min(counts[k] for k in kinds)
        kind = rng.choice([k for k in kinds if counts[k] == low])
        options = [p for p in ready if p.kind == kind]
        fewest = min(p.probed for p in options)
        chosen = [rng.choice([p for p in options if p.probed == fewest])]
        action, answers = self._ask(chosen[0])
        others = [p for p in ready if p.kind != kind and p.subject != chosen[0].subject]
        if others and rng.random() < 0.25:
            second = rng.choice(others)
            more, more_answers = self._ask(second)
            joined = f"{action[:-1]}, then {more}"
            if not any(a.lower() in joined.lower() for a in answers + more_answers):
                chosen.append(second)
                action = joined
        for plant in chosen:
            plant.probed += 1
            counts[plant.kind] += 1
        facts = tuple(ProbeFact(p.kind, p.turn, p.current, p.stale) for p in chosen)
        return Probe(t, action, facts)

    def _ask(self, plant: _Plant) -> tuple[str, tuple[str, ...]]:
        """The action names the entity only; the needle's other words are its answers."""
        name = plant.subject
        if plant.kind == "rename" and self.rng.random() < 0.5:
            name = plant.former
        template = self.rng.choice(w.PROBE_ACTIONS[plant.kind])
        action = template.format(name=name, topic=plant.topic)
        return action, tuple(word for word in plant.current.words if word != name)
