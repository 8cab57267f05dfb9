"""`luna bench lore`: what each lorebook tier costs in storage and in briefing time.

Storage: the same books stored plain (World Info JSON, as a file), warm (JSONB rows, as
PostgreSQL stores them) and cold (zstd with a dictionary trained on the book), on SillyTavern's
Eldoria book when ../shared/fixtures is here and on a generated 10,000-entry book.
Time: the briefing preview (`GET /stories/{id}/briefing`) of a story using the generated
book in each tier, against the same story without it; every answer is checked for the entries
the action names.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import zstandard
from sqlalchemy import func, select

from luna_narrates.app import create_app
from luna_narrates.bench.campaign_words import ENDINGS, MIDS, NUCLEI, ONSETS, PLACES
from luna_narrates.bench.timelines import RunStats, offline_settings
from luna_narrates.bench.turn import BenchError
from luna_narrates.config import Settings
from luna_narrates.db.tables import LOCAL_OWNER_ID, Lorebook, LorebookEntry
from luna_narrates.errors import ConfigurationError
from luna_narrates.formats.lorebooks import read_lorebook
from luna_narrates.formats.world_info import world_info_json
from luna_narrates.lore import service as lore
from luna_narrates.lore import tasks as lore_tasks
from luna_narrates.lore.tiers import LEVEL, encode
from luna_narrates.services import open_services

TIERS = ("hot", "warm", "cold")
SUBJECTS = ("guild", "tower", "relic", "oath", "river", "market", "shrine", "blade", "crown")
TRAITS = ("old", "cursed", "hidden", "sunken", "gilded", "broken", "sacred", "forgotten")
DEEDS = (
    "guards the northern road",
    "was sold twice to the same buyer",
    "keeps a ledger of every debt in the city",
    "sings when the tide turns",
    "was forged from a fallen star",
    "answers only to the eldest daughter",
    "burned in the winter of the long siege",
    "hides a second door behind the altar",
)


@dataclass(frozen=True)
class LoreBenchConfig:
    entries: int = 10_000
    repeats: int = 30
    runs: int = 3
    warmup: int = 3
    seed: int = 7
    fixtures: Path | None = None
    data_dir: Path = Path("/tmp/luna-bench")

    def settings(self) -> Settings:
        return offline_settings(self.data_dir)


@dataclass(frozen=True)
class Storage:
    book: str
    entries: int
    plain: int  # the World Info file, compact JSON
    jsonb: int  # the warm rows' `fields`, as PostgreSQL stores them (pg_column_size)
    zstd_alone: int  # each entry compressed on its own, no dictionary
    cold: int  # packed entries plus the book's dictionary
    dictionary: int

    @property
    def saving(self) -> float:
        return 1 - self.cold / self.plain


@dataclass
class Timing:
    name: str
    runs: list[RunStats] = field(default_factory=list)
    lore_items: int = 0

    @property
    def p50(self) -> float:
        return _median([r.p50 for r in self.runs])

    @property
    def p95(self) -> float:
        return _median([r.p95 for r in self.runs])


@dataclass(frozen=True)
class LoreBenchResult:
    config: LoreBenchConfig
    storage: list[Storage]
    timings: list[Timing]
    embed_seconds: float
    checked: int


def synthetic_book(entries: int, seed: int) -> dict[str, Any]:
    """A World Info file of `entries` distinct entries: a unique name each, two or three
    sentences, a few secondary keys, some constants and groups, like a large fan wiki."""
    rng = random.Random(seed)
    found: dict[str, Any] = {}
    for uid in range(entries):
        given = rng.choice(ONSETS) + rng.choice(NUCLEI) + rng.choice(MIDS) + rng.choice(ENDINGS)
        name = f"{given} of {rng.choice(PLACES)} {uid}"
        subject = rng.choice(SUBJECTS)
        content = " ".join(
            f"The {rng.choice(TRAITS)} {subject} of {name} {rng.choice(DEEDS)}."
            for _ in range(rng.randint(2, 3))
        )
        found[str(uid)] = {
            "uid": uid,
            "key": [name, f"{subject} {uid}"],
            "keysecondary": rng.sample(SUBJECTS, 2) if uid % 7 == 0 else [],
            "comment": name,
            "content": content,
            "constant": uid % 1000 == 0,
            "selective": True,
            "order": rng.randint(0, 200),
            "position": rng.choice((0, 1, 4)),
            "group": f"g{uid % 50}" if uid % 11 == 0 else "",
            "probability": 100,
        }
    return {"entries": found}


async def storage_of(session: Any, book_id: uuid.UUID, name: str, plain: bytes) -> Storage:
    rows = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(func.pg_column_size(LorebookEntry.fields)), 0),
                func.coalesce(func.sum(func.octet_length(LorebookEntry.packed)), 0),
            ).where(LorebookEntry.lorebook_id == book_id)
        )
    ).one()
    dictionary = await session.scalar(
        select(func.coalesce(func.octet_length(Lorebook.dictionary), 0)).where(
            Lorebook.id == book_id
        )
    )
    book = await lore.whole(session, book_id)
    alone = zstandard.ZstdCompressor(level=LEVEL)
    return Storage(
        book=name,
        entries=int(rows[0]),
        plain=len(plain),
        jsonb=0,
        zstd_alone=sum(len(alone.compress(encode(e))) for e in book.entries),
        cold=int(rows[2]) + int(dictionary or 0),
        dictionary=int(dictionary or 0),
    )


async def jsonb_size(session: Any, book_id: uuid.UUID) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(func.pg_column_size(LorebookEntry.fields)), 0)).where(
            LorebookEntry.lorebook_id == book_id
        )
    )
    return int(total or 0)


async def measure_storage(services: Any, books: list[tuple[str, bytes]]) -> list[Storage]:
    found: list[Storage] = []
    for name, payload in books:
        parsed = read_lorebook(payload)
        plain = json.dumps(world_info_json(parsed), separators=(",", ":")).encode()
        async with services.db.transaction() as session:
            warm = await lore.store(session, parsed, LOCAL_OWNER_ID, name=name, tier="warm")
            cold = await lore.store(session, parsed, LOCAL_OWNER_ID, name=name, tier="cold")
            await session.flush()
            measured = await storage_of(session, cold.id, name, plain)
            jsonb = await jsonb_size(session, warm.id)
            await lore.delete(session, warm.id)
            await lore.delete(session, cold.id)
        found.append(
            Storage(
                measured.book,
                measured.entries,
                measured.plain,
                jsonb,
                measured.zstd_alone,
                measured.cold,
                measured.dictionary,
            )
        )
    return found


def plain_entry(at: float, count: int) -> int:
    """An index near `at` (a fraction of the book, or an index) of an entry that a plain
    keyword activates: no secondary keys, no group, not constant (see synthetic_book)."""
    index = int(at * count) if at < 1 else int(at)
    while index % 7 == 0 or index % 11 == 0 or index % 1000 == 0:
        index += 1
    return index % count


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


async def timed(
    client: httpx.AsyncClient,
    story_id: str,
    action: str,
    expected: set[str],
    config: LoreBenchConfig,
    timing: Timing,
) -> int:
    samples: list[float] = []
    for index in range(config.warmup + config.repeats):
        started = time.perf_counter()
        response = await client.get(
            f"/stories/{story_id}/briefing", params={"action": action, "budget": 2000}
        )
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise BenchError(f"{timing.name}: HTTP {response.status_code} {response.text[:200]}")
        titles = {i["source"]["title"] for i in response.json()["items"] if i["kind"] == "lore"}
        if not expected <= titles:
            raise BenchError(f"{timing.name}: expected {sorted(expected)}, got {sorted(titles)}")
        timing.lore_items = len(titles)
        if index >= config.warmup:
            samples.append(elapsed)
    timing.runs.append(RunStats.of(samples))
    return config.warmup + config.repeats


async def run_lore_bench_async(config: LoreBenchConfig, progress: Any) -> LoreBenchResult:
    settings = config.settings()
    synthetic = synthetic_book(config.entries, config.seed)
    payload = json.dumps(synthetic).encode()
    books: list[tuple[str, bytes]] = []
    if config.fixtures is not None:
        eldoria = config.fixtures / "sillytavern" / "staging-2024-10-18" / "Eldoria.json"
        if eldoria.is_file():
            books.append(("Eldoria (SillyTavern)", eldoria.read_bytes()))
    books.append((f"generated, {config.entries:,} entries", payload))
    async with open_services(settings, run_worker=False) as services:
        with contextlib.suppress(ConfigurationError):
            await asyncio.to_thread(services.embedder.warm)
        storage = await measure_storage(services, books)
        progress("storage measured: " + ", ".join(f"{s.book} {s.saving:.0%}" for s in storage))
        app = create_app(settings, run_worker=False)
        app.state.services = services
        transport = httpx.ASGITransport(app=app)
        entries = list(synthetic["entries"].values())
        targets = [entries[plain_entry(i, len(entries))] for i in (17, 0.42, 0.97)]
        action = "I ask about " + " and ".join(t["key"][0] for t in targets) + "."
        expected = {t["comment"] for t in targets}
        async with httpx.AsyncClient(transport=transport, base_url="http://luna.bench") as client:
            story = (
                await client.post(
                    "/stories", json={"title": "Bench", "premise": "A city of a thousand tales."}
                )
            ).json()
            ids: dict[str, str] = {}
            embed_seconds = 0.0
            for tier in TIERS:
                upload = await client.post(
                    "/lorebooks/upload",
                    files={"file": ("book.json", payload)},
                    data={"storage_tier": tier, "name": f"bench {tier}"},
                )
                if upload.status_code != 201:
                    raise BenchError(f"upload {tier}: {upload.text[:200]}")
                ids[tier] = upload.json()["id"]
                if tier == "warm":
                    started = time.perf_counter()
                    await lore_tasks.embed_entries(
                        services.db, services.embedder, uuid.UUID(ids[tier])
                    )
                    embed_seconds = time.perf_counter() - started
                    progress(f"embedded {config.entries:,} warm entries in {embed_seconds:.0f} s")
            cases = [Timing("no lorebook"), *(Timing(f"{tier} book") for tier in TIERS)]
            checked = 0
            gc.collect()
            gc.freeze()
            try:
                for run in range(1, config.runs + 1):
                    for case in cases:
                        tier = case.name.split()[0]
                        link = f"/stories/{story['id']}/lorebooks"
                        if tier in ids:
                            await client.post(link, json={"lorebook_id": ids[tier]})
                        want = expected if tier in ids else set()
                        checked += await timed(client, story["id"], action, want, config, case)
                        if tier in ids:
                            await client.delete(f"{link}/{ids[tier]}")
                    progress(
                        f"run {run}/{config.runs}: p95 ms "
                        + ", ".join(f"{c.name} {c.runs[-1].p95:.0f}" for c in cases)
                    )
            finally:
                gc.unfreeze()
    return LoreBenchResult(config, storage, cases, embed_seconds, checked)


def run_lore_bench(config: LoreBenchConfig, progress: Any) -> LoreBenchResult:
    return asyncio.run(run_lore_bench_async(config, progress))
