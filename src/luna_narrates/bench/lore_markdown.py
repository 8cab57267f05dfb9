"""`luna bench lore` as tables (for rich and for markdown) and as a docs section."""

from __future__ import annotations

from luna_narrates.bench.lore import LoreBenchResult
from luna_narrates.bench.markdown import Table, markdown_table, markers
from luna_narrates.bench.report import machine_facts

SECTION = "lore"


def kib(size: int) -> str:
    return f"{size / 1024:,.1f}"


def storage_table(result: LoreBenchResult) -> Table:
    rows: list[tuple[str, ...]] = [
        (
            s.book,
            f"{s.entries:,}",
            kib(s.plain),
            kib(s.jsonb),
            kib(s.zstd_alone),
            kib(s.cold),
            kib(s.dictionary),
            f"{s.saving:.1%}",
        )
        for s in result.storage
    ]
    return Table(
        "Lorebook storage by tier (KiB)",
        (
            "book",
            "entries",
            "plain JSON",
            "warm (JSONB)",
            "zstd, each entry alone",
            "cold (zstd + dictionary)",
            "of which dictionary",
            "cold saves vs plain",
        ),
        rows,
        "Plain: the World Info file as compact JSON. Warm: the sum of pg_column_size of the "
        "entries' JSONB (what PostgreSQL stores, after its own compression). Cold: the packed "
        "entries plus the dictionary trained on the book (zstd level 19); books under 16 "
        "entries get no dictionary. Hot stores what warm stores.",
    )


def latency_table(result: LoreBenchResult) -> Table:
    config = result.config
    rows: list[tuple[str, ...]] = [
        (
            t.name,
            f"{t.lore_items}",
            f"{t.p50:.0f}",
            f"{t.p95:.0f}",
            " · ".join(f"{r.p50:.0f} / {r.p95:.0f}" for r in t.runs),
        )
        for t in result.timings
    ]
    return Table(
        f"Briefing with a {config.entries:,}-entry lorebook (ms per request)",
        ("story uses", "lore items", "p50", "p95", "per run p50 / p95"),
        rows,
        f"{config.runs} run(s) of {config.repeats} timed `GET /stories/{{id}}/briefing` "
        f"requests per case after {config.warmup} warm-ups; each answer was checked to hold "
        f"the three entries the action names ({result.checked:,} checked). Embedding the warm "
        f"book's {config.entries:,} entries took {result.embed_seconds:.0f} s (a background "
        "job; not part of any request).",
    )


def tables(result: LoreBenchResult) -> list[Table]:
    return [storage_table(result), latency_table(result)]


def render_markdown(result: LoreBenchResult, command: str, date: str) -> str:
    machine = machine_facts()
    load = " / ".join(f"{v:.2f}" for v in machine.load_average)
    lines = [
        f"- Command: `{command}`",
        f"- Date: {date}",
        f"- Machine: {machine.cpus} CPUs ({machine.cpu_model}), {machine.system}, shared with "
        f"other work (noisy); load average after the run {load}",
        "- Measured: the storage of each tier, and the briefing preview (retrieval, keyword "
        "activation, semantic activation, packing) through the real FastAPI app in-process "
        "on the embedded PostgreSQL, with the story's memory empty so that the difference is "
        "the lorebook's.",
        "- Hot reads every entry of the book for every turn (SillyTavern's behaviour); warm "
        "and cold find keyword candidates through the GIN index on the entries' keys and "
        "unpack only those; warm adds semantic activation (pgvector HNSW).",
    ]
    opening, closing = markers(SECTION)
    parts = [opening, "## luna bench lore", "", "\n".join(lines)]
    parts += ["\n" + markdown_table(table) for table in tables(result)]
    return "\n".join(parts) + "\n" + closing + "\n"
