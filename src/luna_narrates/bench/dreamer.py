"""`luna bench dreamer`: the player-visible image wait over a simulated session, with and without
the Dreamer's speculative renders, on a virtual clock (simpy).

Nothing here runs a model or a GPU: a worker slot is a simpy resource that a render holds for the
image's drawn GPU time, so a 100-turn session takes milliseconds and a seed gives the same
numbers every time. Both arms of a run play the identical story (the same turns, think times and
GPU times, each from its own random stream); only the Dreamer differs. How often the Dreamer
foresees what a turn introduces (`hit_rate`) is its model's accuracy, which no simulation can
know: it is an input, swept.
"""

from __future__ import annotations

import itertools
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import simpy
from simpy.events import ProcessGenerator

from luna_narrates.bench.summary import median, p95, ratio
from luna_narrates.config import Settings
from luna_narrates.images.planning import ImageType, TurnFacts, wanted_images

Progress = Callable[[str], None]
ThingKind = Literal["character", "location", "item"]
# The Dreamer's ideas by kind (an assumption: the agent is told to mix them).
IDEA_KINDS = {"character": 0.3, "location": 0.25, "item": 0.2, "scene": 0.15, "plot_twist": 0.1}
UNPICTURED = "plot_twist"  # speculative_images draws every other kind
TURN_FIRST, SPECULATIVE = 0, 1  # request priorities: the lower goes first, never preempting
TURN_SECONDS = 20.75  # the whole turn's median in docs/benchmarks.md (`luna bench turn`)
DREAM_SECONDS = 10.0  # about the Writer's 10.6 s there: a dream writes three described ideas
CURVE = tuple(step / 10 for step in range(11))  # hit rates for the reduction curve
SETTINGS = (  # what of `Settings` shapes a session
    "image_action_every_n_turns",
    "image_action_variants",
    "image_cache_duration_turns",
    "dreamer_ideas_per_dream",
    "dreamer_confidence_threshold",
    "dreamer_variants_per_concept",
    "dreamer_speculative_pool_size",
    "dreamer_idle_interval_seconds",
)


def product_settings(**overrides: object) -> Settings:
    """`Settings` with the defaults of what shapes a session (not the environment's values: a
    seed gives the same numbers anywhere), and `overrides` validated as `Settings` does."""
    if unknown := set(overrides) - set(SETTINGS):
        raise ValueError(f"not a setting the session uses: {', '.join(sorted(unknown))}")
    defaults = {name: Settings.model_fields[name].default for name in SETTINGS}
    return Settings.model_validate({**defaults, **overrides})


@dataclass(frozen=True)
class StoryModel:
    """What a simulated turn brings: assumptions, not measurements."""

    opening_characters: int = 2  # the first turn's new characters (its location is new too)
    location_change: float = 0.3  # chance a turn moves elsewhere
    known_location_return: float = 0.4  # chance such a move goes back to a known place
    new_character: float = 0.3  # chance a turn introduces a character
    new_item: float = 0.15  # chance a turn introduces a notable item
    think_seconds: tuple[float, float] = (60.0, 600.0)  # the "1–10 minutes a turn"
    confidence: tuple[float, float] = (0.3, 0.9)  # an idea's confidence, drawn uniformly


@dataclass(frozen=True)
class DreamerBenchConfig:
    turns: int = 100
    runs: int = 5
    seed: int = 7
    hit_rates: tuple[float, ...] = (0.25, 0.5, 0.75)
    workers: int = 1
    max_concurrent: int = 1
    gpu_seconds: tuple[float, float] = (8.0, 20.0)  # per image, drawn uniformly
    turn_seconds: float = TURN_SECONDS
    dream_seconds: float = DREAM_SECONDS
    story: StoryModel = field(default_factory=StoryModel)
    settings: Settings = field(default_factory=product_settings)

    @property
    def slots(self) -> int:
        return self.workers * self.max_concurrent


# The kinds of idea whose picture a turn shows instead of drawing its own (`images.service`:
# a place's background, a character's first portrait).
REUSED = frozenset({"character", "location"})


@dataclass(frozen=True)
class Image:
    kind: ImageType
    subject: str
    seconds: float
    new: bool  # the picture of a thing the turn introduces: one the Dreamer could foresee


@dataclass(frozen=True)
class Thing:
    kind: ThingKind
    name: str
    foresight: float  # foreseen at any hit rate above it: one draw serves the whole sweep


@dataclass(frozen=True)
class StoryTurn:
    number: int
    things: tuple[Thing, ...]
    images: tuple[Image, ...]  # what the turn has rendered (not a background the cache holds)
    think_seconds: float


class Plot:
    """Draws where each turn is set and what it introduces."""

    def __init__(self, model: StoryModel, seed: int) -> None:
        self.model = model
        self.draw = random.Random(f"{seed}:plot")
        self.foresight = random.Random(f"{seed}:foresight")
        self.places: list[str] = []
        self.counts = {"character": 0, "item": 0}
        self.here = ""

    def turn(self, number: int) -> list[Thing]:
        model, draw = self.model, self.draw
        things = self.move() if number == 1 or draw.random() < model.location_change else []
        met = model.opening_characters if number == 1 else draw.random() < model.new_character
        things += [self.new("character") for _ in range(met)]
        if number > 1 and draw.random() < model.new_item:
            things.append(self.new("item"))
        return things

    def move(self) -> list[Thing]:
        elsewhere = [place for place in self.places if place != self.here]
        if elsewhere and self.draw.random() < self.model.known_location_return:
            self.here = self.draw.choice(elsewhere)
            return []
        self.here = f"location {len(self.places) + 1}"
        self.places.append(self.here)
        return [Thing("location", self.here, self.foresight.random())]

    def new(self, kind: Literal["character", "item"]) -> Thing:
        self.counts[kind] += 1
        return Thing(kind, f"{kind} {self.counts[kind]}", self.foresight.random())


def draw_story(config: DreamerBenchConfig, seed: int) -> list[StoryTurn]:
    """The session both arms play: each turn's images as `images.planning` asks for them, less
    a background drawn within the cache's duration (`images.service` reuses it)."""
    settings, plot = config.settings, Plot(config.story, seed)
    gpu, think = (random.Random(f"{seed}:{name}") for name in ("gpu", "think"))
    drawn: dict[str, int] = {}  # location → turn of its last render
    story: list[StoryTurn] = []
    for number in range(1, config.turns + 1):
        things = plot.turn(number)
        # Only newcomers are present: the others have their portraits.
        present = [t.name for t in things if t.kind == "character"]
        plan = {"scene_location": plot.here, "characters_present": present}
        images = []
        for wanted in wanted_images(
            TurnFacts(str(number), number, "story", "", "", plan), settings, portraits_drawn=set()
        ):
            if wanted.image_type == "background":
                last = drawn.get(wanted.subject)
                if last is not None and number - last <= settings.image_cache_duration_turns:
                    continue
                drawn[wanted.subject] = number
            new = any(t.name == wanted.subject for t in things)
            seconds = gpu.uniform(*config.gpu_seconds)
            images.append(Image(wanted.image_type, wanted.subject, seconds, new))
        seconds = think.uniform(*config.story.think_seconds)
        story.append(StoryTurn(number, tuple(things), tuple(images), seconds))
    return story


Part = Literal["wait", "foreseeable", "other"]


@dataclass(frozen=True)
class TurnWait:
    """Seconds from the passage's end until the turn's last image was ready (0: all were)."""

    number: int
    foreseeable: float  # the pictures of what the turn introduced
    other: float  # action images, and backgrounds drawn again once their cache ran out
    things: int  # what the turn introduced
    foreseen: int  # of which the Dreamer had foreseen (each realizes one idea)

    @property
    def wait(self) -> float:
        return max(self.foreseeable, self.other)


@dataclass(frozen=True)
class ArmResult:
    """One session, with the Dreamer at a hit rate or without it (`hit_rate` None)."""

    hit_rate: float | None
    turns: tuple[TurnWait, ...]
    gpu_busy: float  # share of the slots' time spent rendering, over the session
    dreams: int = 0
    ideas: int = 0
    realized: int = 0
    speculative_renders: int = 0  # begun: GPU time spent ahead of need
    unused_renders: int = 0  # begun for an idea no turn used

    def waits(self, part: Part = "wait") -> list[float]:
        return [getattr(turn, part) for turn in self.turns]

    def total(self, part: Part = "wait") -> float:
        return sum(self.waits(part))

    def mean(self, part: Part = "wait") -> float:
        return statistics.fmean(self.waits(part))

    def p95(self, part: Part = "wait") -> float:
        return p95(self.waits(part))

    @property
    def realization_rate(self) -> float:
        """Realized ideas over every idea dreamed."""
        return ratio(self.realized, self.ideas)


@dataclass(eq=False)
class Render:
    seconds: float
    started: float | None = None
    finished: float | None = None
    process: simpy.Process = field(init=False)


@dataclass(eq=False)
class Idea:
    kind: str
    confidence: float
    order: int
    seconds: tuple[float, ...]  # each variant's GPU time, drawn whether it is rendered or not
    renders: list[Render] = field(default_factory=list)
    realized: bool = False
    evicted: bool = False

    @property
    def in_pool(self) -> bool:
        return not (self.realized or self.evicted)


class Session:
    """One arm of one run: the story played on the virtual clock."""

    def __init__(
        self,
        config: DreamerBenchConfig,
        story: Sequence[StoryTurn],
        seed: int,
        hit_rate: float | None,
    ) -> None:
        self.config, self.settings, self.story = config, config.settings, story
        self.hit_rate = hit_rate
        self.env = simpy.Environment()
        self.gpu = simpy.PriorityResource(self.env, capacity=config.slots)
        self.dreamer = simpy.Resource(self.env, capacity=1)  # its queue runs one job at a time
        self.dreamt, self.picks = random.Random(f"{seed}:ideas"), random.Random(f"{seed}:picks")
        self.renders: list[Render] = []
        self.ideas: list[Idea] = []
        self.watchers: list[simpy.Process] = []
        self.waits: dict[tuple[int, bool], float] = {}  # (turn, foreseeable part) → seconds
        self.foreseen: dict[int, int] = {}
        self.dreams = 0
        self.idle_pending = self.ended = False

    def run(self) -> ArmResult:
        self.env.run(until=self.env.process(self.play()))
        self.ended, end = True, self.env.now
        self.env.run(until=self.env.all_of(self.watchers))
        busy = sum(
            (end if r.finished is None else min(r.finished, end)) - r.started
            for r in self.renders
            if r.started is not None and r.started < end
        )
        begun = [(idea, r) for idea in self.ideas for r in idea.renders if r.started is not None]
        return ArmResult(
            hit_rate=self.hit_rate,
            turns=tuple(
                TurnWait(
                    turn.number,
                    self.waits[(turn.number, True)],
                    self.waits[(turn.number, False)],
                    len(turn.things),
                    self.foreseen[turn.number],
                )
                for turn in self.story
            ),
            gpu_busy=busy / (end * self.config.slots),
            dreams=self.dreams,
            ideas=len(self.ideas),
            realized=sum(idea.realized for idea in self.ideas),
            speculative_renders=len(begun),
            unused_renders=sum(not idea.realized for idea, _ in begun),
        )

    def play(self) -> ProcessGenerator:
        for turn in self.story:
            yield self.env.timeout(self.config.turn_seconds)
            self.ask(turn)
            if self.hit_rate is not None:
                self.env.process(self.dream(idle=False))
            yield self.env.timeout(turn.think_seconds)

    def ask(self, turn: StoryTurn) -> None:
        """The turn's images, asked for at the passage's end; a foreseen thing's picture is its
        idea's, where the product reuses that kind."""
        ideas = {t.name: idea for t in turn.things if (idea := self.foresee(t)) is not None}
        ready: dict[bool, list[simpy.Event]] = {True: [], False: []}
        for image in turn.images:
            idea = ideas.get(image.subject)
            if idea is not None and idea.kind in REUSED:
                ready[image.new].append(self.reuse(idea, image))
            else:
                ready[image.new].append(self.render(image.seconds, TURN_FIRST).process)
        self.foreseen[turn.number] = len(ideas)
        for new, events in ready.items():
            self.watchers.append(self.env.process(self.watch(events, (turn.number, new))))

    def watch(self, events: list[simpy.Event], key: tuple[int, bool]) -> ProcessGenerator:
        end = self.env.now
        yield self.env.all_of(events)
        self.waits[key] = self.env.now - end

    def foresee(self, thing: Thing) -> Idea | None:
        """The pool's idea that a foreseen thing is, picked by confidence (an idea the Dreamer
        rates likelier is likelier to be the one); none when the Dreamer did not foresee it or
        holds no idea of its kind."""
        if self.hit_rate is None or thing.foresight >= self.hit_rate:
            return None
        pool = [idea for idea in self.ideas if idea.kind == thing.kind and idea.in_pool]
        if not pool:
            return None
        [idea] = self.picks.choices(pool, weights=[idea.confidence for idea in pool])
        idea.realized = True
        return idea

    def reuse(self, idea: Idea, image: Image) -> simpy.Event:
        """A realized idea's picture: there already, being drawn (the player waits the rest),
        or not begun, when it is drawn at the turn's priority (`jobs.queue` defers its render
        again as the turn's); an idea under the threshold has no picture, and the turn draws
        one."""
        begun = [r.process for r in idea.renders if r.started is not None]
        if begun:
            return self.env.any_of(begun)
        self.withdraw(idea)
        return self.render(image.seconds, TURN_FIRST).process

    def render(self, seconds: float, priority: int) -> Render:
        render = Render(seconds)
        render.process = self.env.process(self.draw(render, priority))
        self.renders.append(render)
        return render

    def draw(self, render: Render, priority: int) -> ProcessGenerator:
        """A fake worker: holds a slot for the image's GPU time."""
        with self.gpu.request(priority=priority) as slot:
            try:
                yield slot
            except simpy.Interrupt:
                return  # withdrawn before it began
            render.started = self.env.now
            yield self.env.timeout(render.seconds)
            render.finished = self.env.now

    def withdraw(self, idea: Idea) -> None:
        for render in idea.renders:
            if render.started is None and render.process.is_alive:
                render.process.interrupt()

    def dream(self, *, idle: bool) -> ProcessGenerator:
        """One dream job; at its end the idle dream is scheduled when none is waiting, as
        `jobs.queue` does with its queueing lock."""
        with self.dreamer.request() as job:
            yield job
            self.idle_pending = self.idle_pending and not idle
            yield self.env.timeout(self.config.dream_seconds)
            if self.ended:
                return
            self.store()
        if not self.idle_pending:
            self.idle_pending = True
            self.env.process(self.idle_dream())

    def idle_dream(self) -> ProcessGenerator:
        yield self.env.timeout(self.settings.dreamer_idle_interval_seconds)
        if not self.ended:
            yield from self.dream(idle=True)

    def store(self) -> None:
        """A dream's ideas, as `dreamer.service` stores them: the pool kept to its size (the
        least likely unrealized ideas go, their waiting renders with them), then the likely
        new ones drawn ahead of need."""
        settings, stream = self.settings, self.dreamt
        self.dreams += 1
        added: list[Idea] = []
        for _ in range(settings.dreamer_ideas_per_dream):
            [kind] = stream.choices(list(IDEA_KINDS), weights=list(IDEA_KINDS.values()))
            confidence = stream.uniform(*self.config.story.confidence)
            variants = range(settings.dreamer_variants_per_concept)
            seconds = tuple(stream.uniform(*self.config.gpu_seconds) for _ in variants)
            added.append(Idea(kind, confidence, len(self.ideas) + len(added), seconds))
        self.ideas += added
        pool = sorted(
            (idea for idea in self.ideas if idea.in_pool), key=lambda i: (-i.confidence, -i.order)
        )
        for idea in pool[settings.dreamer_speculative_pool_size :]:
            idea.evicted = True
            self.withdraw(idea)
        for idea in added:
            likely = idea.confidence >= settings.dreamer_confidence_threshold
            if idea.in_pool and likely and idea.kind != UNPICTURED:
                idea.renders = [self.render(s, SPECULATIVE) for s in idea.seconds]


def simulate(
    config: DreamerBenchConfig,
    story: Sequence[StoryTurn],
    seed: int,
    hit_rate: float | None,
) -> ArmResult:
    return Session(config, story, seed, hit_rate).run()


def reduction(without: ArmResult, with_dreamer: ArmResult, part: Part = "wait") -> float:
    """The share of the waiting the Dreamer saved (negative: it added some)."""
    return 1 - ratio(with_dreamer.total(part), without.total(part))


@dataclass(frozen=True)
class RunResult:
    seed: int
    without: ArmResult
    dreaming: dict[float, ArmResult]  # by hit rate: the sweep's and the curve's


@dataclass(frozen=True)
class DreamerBenchResult:
    config: DreamerBenchConfig
    runs: list[RunResult]

    def curve(self, part: Part = "wait") -> dict[float, float]:
        """The median over runs of the reduction at each hit rate of `CURVE`."""
        return {
            rate: median(reduction(run.without, run.dreaming[rate], part) for run in self.runs)
            for rate in CURVE
        }

    def hit_rate_for(self, target: float, part: Part = "wait") -> float | None:
        """The hit rate at which the median reduction reaches `target`, interpolated between
        the curve's points; None when even a Dreamer that foresees everything falls short."""
        points = list(self.curve(part).items())
        for (low, below), (high, above) in itertools.pairwise(points):
            if above >= target > below:
                return low + (high - low) * (target - below) / (above - below)
        return 0.0 if points[0][1] >= target else None


def run_dreamer_bench(config: DreamerBenchConfig, progress: Progress) -> DreamerBenchResult:
    runs = []
    for index in range(config.runs):
        seed = config.seed + index
        story = draw_story(config, seed)
        without = simulate(config, story, seed, None)
        rates = sorted({*CURVE, *config.hit_rates})
        dreaming = {rate: simulate(config, story, seed, rate) for rate in rates}
        runs.append(RunResult(seed, without, dreaming))
        saved = ", ".join(
            f"{rate:g}: {reduction(without, dreaming[rate]):.0%}" for rate in config.hit_rates
        )
        progress(f"run {index + 1}/{config.runs} (seed {seed}): less waiting at hit rate {saved}")
    return DreamerBenchResult(config, runs)
