"""`luna bench memory` as tables (for rich and for markdown) and as a docs section."""

from __future__ import annotations

from collections.abc import Callable

from luna_narrates.agents.preprocessor.agent import memory_budget
from luna_narrates.bench.markdown import Table, markdown_table, markers
from luna_narrates.bench.memory import SYSTEMS, MemoryBenchResult, Score
from luna_narrates.bench.report import machine_facts

SECTION = "memory"
RECALL_TARGET = 0.9
RECENCY_CEILING = 0.3
COMPRESSION_TARGET = 0.96
P95_TARGET_MS = 100.0
TARGET_SIZE = 10_000


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def budget_rows(result: MemoryBenchResult, cell: Callable[[Score], str]) -> list[tuple[str, ...]]:
    return [
        (system, *(cell(result.scores[(system, b)]) for b in result.config.budgets))
        for system in SYSTEMS
    ]


def recall_table(result: MemoryBenchResult) -> Table:
    budgets = result.config.budgets
    rows = budget_rows(result, lambda s: f"{s.recall:.2f} ({s.found}/{s.needed})")
    first = budgets[0]
    luna = result.scores[("LUNA memory", first)].recall
    recency = result.scores[("recency window", first)].recall
    note = (
        f"Target at {first} tokens: LUNA ≥ {RECALL_TARGET} {mark(luna >= RECALL_TARGET)}, "
        f"recency window < {RECENCY_CEILING} {mark(recency < RECENCY_CEILING)}. LUNA's memory "
        f"items get what the Preprocessor's scene reading leaves of the budget "
        f"({', '.join(f'{b} → {memory_budget(b)}' for b in budgets)} tokens); the baselines get "
        "the whole budget."
    )
    return Table(
        "Fact recall of the briefing (share of needed facts found in one briefing item)",
        ("system", *(f"{b} tokens" for b in budgets)),
        rows,
        note,
    )


def stale_table(result: MemoryBenchResult) -> Table:
    budgets = result.config.budgets
    rows = budget_rows(result, lambda s: f"{s.stale_shown}/{s.stale_probes}")
    zero = all(result.scores[("LUNA memory", b)].stale_shown == 0 for b in budgets)
    return Table(
        "Superseded facts presented as current (probes with a superseded value)",
        ("system", *(f"{b} tokens" for b in budgets)),
        rows,
        f"Target for LUNA: 0 {mark(zero)}. A structured fact or relationship counts when its "
        "current value is the old one; raw text counts when it shows the old state and nothing "
        "in the briefing shows the new one.",
    )


def kinds_table(result: MemoryBenchResult) -> Table:
    budget = result.config.budgets[0]
    kinds = sorted(result.probe_kinds)
    rows = []
    for system in SYSTEMS:
        by_kind = result.scores[(system, budget)].by_kind
        rows.append(
            (system, *(f"{by_kind.get(k, [0, 0])[0]}/{by_kind.get(k, [0, 0])[1]}" for k in kinds))
        )
    return Table(f"Recall by planted fact at {budget} tokens", ("system", *kinds), rows)


def compression_table(result: MemoryBenchResult) -> Table:
    rows: list[tuple[str, ...]] = []
    for at, (briefing, history) in sorted(result.compression.items()):
        ratio = briefing / history if history else 0.0
        rows.append((f"turn {at}", str(briefing), str(history), f"{1 - ratio:.2%}"))
    first = min(result.compression, default=0)
    ok = first and 1 - result.compression[first][0] / result.compression[first][1]
    return Table(
        "Compression: briefing tokens against the full history",
        ("at", "briefing tokens", "history tokens", "compression"),
        rows,
        f"Target at turn 100: ≥ {COMPRESSION_TARGET:.0%} "
        f"{mark(bool(ok) and float(ok) >= COMPRESSION_TARGET)}. Briefing = the median memory "
        "items over the probe actions plus the scene reading's whole reserve.",
    )


def latency_table(result: MemoryBenchResult) -> Table:
    rows: list[tuple[str, ...]] = []
    for size, latency in sorted(result.latency.items()):
        for system in SYSTEMS:
            rows.append(
                (
                    f"{size:,} turns",
                    system,
                    f"{latency.p(system, 0.5):.1f}",
                    f"{latency.p(system, 0.95):.1f}",
                    str(len(latency.samples_ms[system])),
                )
            )
    target = result.latency.get(TARGET_SIZE)
    verdict = (
        mark(target.p("LUNA memory", 0.95) < P95_TARGET_MS) if target is not None else "not run"
    )
    return Table(
        "Retrieval latency (ms): from the action's vector to the packed briefing",
        ("story", "system", "p50", "p95", "queries"),
        rows,
        f"Target: LUNA p95 < {P95_TARGET_MS:.0f} ms at {TARGET_SIZE:,} turns {verdict}. "
        "Synthetic stories with precomputed random unit vectors, all in one database (analyzed "
        "after loading, as autovacuum would have), queried "
        "one after another, each with its own session (the Python garbage collector is kept off "
        "the benchmark's own in-memory campaign); embedding "
        f"the action itself (MiniLM, CPU) adds a median {result.embed_ms:.1f} ms.",
    )


def tables(result: MemoryBenchResult) -> list[Table]:
    return [
        recall_table(result),
        stale_table(result),
        kinds_table(result),
        compression_table(result),
        latency_table(result),
    ]


def render_markdown(result: MemoryBenchResult, command: str, date: str) -> str:
    machine = machine_facts()
    load = " / ".join(f"{v:.2f}" for v in machine.load_average)
    config = result.config
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(result.probe_kinds.items()))
    lines = [
        f"- Command: `{command}`",
        f"- Date: {date}",
        f"- Machine: {machine.cpus} CPUs ({machine.cpu_model}), {machine.system}; "
        f"load average after the run {load}",
        f"- Campaign: {config.turns} generated turns (seed {config.seed}), "
        f"{result.probes} probe actions needing {sum(result.probe_kinds.values())} planted "
        f"facts ({kinds}); each probe is asked against memory as it stood after its turn, "
        "at least 15 turns after the fact was planted.",
        "- Memory was built through the product's write path (passage index job, ledger "
        "writer, real MiniLM embeddings) in "
        f"{result.build_seconds:.0f} s; the extraction model is replaced by the campaign's "
        "ground truth, so these numbers measure retrieval and packing, not extraction.",
        "- Tokens are counted with the embedded model's tokenizer (SmolLM2), the default "
        "Strategist's.",
    ]
    opening, closing = markers(SECTION)
    parts = [opening, "## luna bench memory", "", "\n".join(lines)]
    parts += ["\n" + markdown_table(table) for table in tables(result)]
    return "\n".join(parts) + "\n" + closing + "\n"
