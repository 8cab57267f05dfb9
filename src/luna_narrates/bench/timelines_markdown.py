"""`luna bench timelines` as a table (for rich and for markdown) and as a docs section."""

from __future__ import annotations

from luna_narrates.bench.markdown import Table, markdown_table, markers
from luna_narrates.bench.report import machine_facts
from luna_narrates.bench.timelines import CaseResult, TimelinesBenchResult

SECTION = "timelines"
P95_TARGET_MS = 50.0


def met(case: CaseResult) -> bool:
    return case.p95 < P95_TARGET_MS


def latency_table(result: TimelinesBenchResult) -> Table:
    config = result.config
    rows: list[tuple[str, ...]] = [
        (
            case.name,
            case.detail,
            f"{case.kilobytes:.0f}",
            f"{case.p50:.1f}",
            f"{case.p95:.1f}",
            f"{case.max:.1f}",
            " · ".join(f"{r.p50:.1f} / {r.p95:.1f}" for r in case.runs),
            f"< {P95_TARGET_MS:.0f}: {'met' if met(case) else 'missed'}",
        )
        for case in result.cases
    ]
    return Table(
        "Timeline reads through the API (ms per request)",
        ("case", "size", "KiB", "p50", "p95", "max", "per run p50 / p95", "p95 target"),
        rows,
        f"{config.runs} run(s) of {config.repeats} timed requests per case, after "
        f"{config.warmup} untimed warm-up requests; p50 and p95 are the medians of the runs' "
        "values, max is the slowest request of all runs. Every answer was checked "
        f"({result.checked:,} in all).",
    )


def tables(result: TimelinesBenchResult) -> list[Table]:
    return [latency_table(result)]


def render_markdown(result: TimelinesBenchResult, command: str, date: str) -> str:
    machine = machine_facts()
    load = " / ".join(f"{v:.2f}" for v in machine.load_average)
    config = result.config
    verdict = "met" if all(met(c) for c in result.cases) else "missed"
    lines = [
        f"- Command: `{command}`",
        f"- Date: {date}",
        f"- Machine: {machine.cpus} CPUs ({machine.cpu_model}), {machine.system}, shared with "
        f"other work (noisy); load average after the run {load}",
        "- Measured: `GET /stories/{id}/turns?branch_id=&from=&limit=100` (a page of a "
        "branch's lineage, inherited turns included, each with its takes and forks), "
        "`GET /stories/{id}/branches/tree` and `GET /stories/{id}/branches` (every branch with "
        "its statistics), from request to the whole JSON answer, through the real FastAPI app "
        "in-process (routing, validation, SQL, serialisation; no network), one request at a "
        "time, on the embedded PostgreSQL.",
        f"- Data, bulk-inserted and analyzed: a story whose active branch's lineage has "
        f"{config.turns:,} turns over a chain of {config.depth} branches, each forking from "
        "the previous one's last turn; and a story with a tree of "
        f"{config.branches} branches (up to {result.tree_depth} deep, {result.tree_turns:,} "
        "turns), each forking at a random turn of a branch's own turns (seed "
        f"{config.seed}); loaded in {result.load_seconds:.0f} s.",
        f"- Target: each answers in < {P95_TARGET_MS:.0f} ms p95 — {verdict}.",
    ]
    opening, closing = markers(SECTION)
    parts = [opening, "## luna bench timelines", "", "\n".join(lines)]
    parts += ["\n" + markdown_table(table) for table in tables(result)]
    return "\n".join(parts) + "\n" + closing + "\n"
