"""The report as tables (for rich and for markdown) and as a replaceable docs section."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from luna_narrates.bench.report import BenchReport
from luna_narrates.bench.summary import RunSummary
from luna_narrates.config import AGENTS

SECTION_START, SECTION_END = "<!-- bench:turn:start -->", "<!-- bench:turn:end -->"
SECTION_TITLE = "## luna bench turn"
TOKENS_RATIO_TARGET = 0.95
TTFT_RATIO_TARGET = 1.5

DOCUMENT_HEADER = """# Benchmarks

Every number in this file comes from a command (`luna bench …`), never from a test. Each command
rewrites only its own section, between its `<!-- bench:NAME:start -->` and
`<!-- bench:NAME:end -->` markers, so sections can be added and re-run independently.

The reference machine has 2 CPU cores and is shared with other work, so it is noisy: compare
numbers taken on the same machine in the same session, and read the per-run columns for spread.
"""


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str = ""


Pick = Callable[[RunSummary], float]


def number(value: float, digits: int = 2) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


def per_run(report: BenchReport, pick: Pick, digits: int = 2) -> str:
    return " / ".join(number(pick(s), digits) for s in report.summaries)


def verdict(value: float, target: float, *, at_least: bool) -> str:
    if math.isnan(value):
        return "n/a"
    met = value >= target if at_least else value <= target
    return "met" if met else "missed"


def row(
    report: BenchReport, label: str, pick: Pick, digits: int = 2, target: str | None = None
) -> tuple[str, ...]:
    cells = label, number(pick(report.summary), digits), per_run(report, pick, digits)
    return cells if target is None else (*cells, target)


def target(value: float, goal: float, *, at_least: bool) -> str:
    sign = "≥" if at_least else "≤"
    return f"{sign} {goal}: {verdict(value, goal, at_least=at_least)}"


def agent_seconds(agent: str) -> Pick:
    return lambda s: s.agent_seconds.get(agent, math.nan)


def agent_table(report: BenchReport) -> Table:
    rows = [row(report, agent, agent_seconds(agent)) for agent in AGENTS]
    rows.append(row(report, "whole turn (client: request → done)", lambda s: s.turn_client_seconds))
    rows.append(
        row(report, "whole turn (server total_execution_time)", lambda s: s.turn_server_seconds)
    )
    return Table(
        f"Time per agent, {report.settings['model']} (s, median over turns)",
        ("", "median of runs", "per run"),
        rows,
        f"{report.config.turns} turns per run; an agent's time is its agent_complete `seconds`.",
    )


def tokens_table(report: BenchReport) -> Table:
    ratio = report.summary.tokens_per_second_ratio
    return Table(
        "Writer tokens/s: through the API vs raw llama.cpp (turns 2…N)",
        ("", "median of runs", "per run", "target"),
        [
            row(
                report,
                "through the API (SSE, as the client sees it)",
                lambda s: s.api_tokens_per_second,
                1,
                "",
            ),
            row(
                report,
                "raw llama.cpp, same prompt and limits",
                lambda s: s.raw_tokens_per_second,
                1,
                "",
            ),
            row(
                report,
                "ratio API / raw",
                lambda s: s.tokens_per_second_ratio,
                3,
                target(ratio, TOKENS_RATIO_TARGET, at_least=True),
            ),
        ],
        "tokens/s = Writer output tokens ÷ (last token − first token); the API side times "
        "`token` events at the HTTP client, the raw side times llama.cpp's own pieces, "
        "run after the server has stopped.",
    )


def ttft_table(report: BenchReport) -> Table:
    early, late = report.config.ttft_turns
    ratio = report.summary.ttft_ratio
    note = "From sending the request to the first `token` event (all three agents run first)."
    if late < 20:
        note += f" Fewer than 20 turns were played: turn {late}, the last, stands in for turn 20."
    return Table(
        "Time to first token over SSE (s)",
        ("", "median of runs", "per run", "target"),
        [
            row(report, f"turn {early}", lambda s: s.ttft_early_seconds, target=""),
            row(report, f"turn {late}", lambda s: s.ttft_late_seconds, target=""),
            row(
                report,
                f"ratio turn {late} / turn {early}",
                lambda s: s.ttft_ratio,
                3,
                target(ratio, TTFT_RATIO_TARGET, at_least=False),
            ),
        ],
        note,
    )


def ms(pick: Pick) -> Pick:
    return lambda s: pick(s) * 1000


def overhead_table(report: BenchReport) -> Table:
    return Table(
        f"Orchestration overhead, every agent on `test` (ms, {report.config.overhead_turns} turns)",
        ("", "median", "p95", "per run (median)"),
        [
            overhead_row(
                report,
                "client turn time − agent seconds",
                lambda s: s.overhead_client_median,
                lambda s: s.overhead_client_p95,
            ),
            overhead_row(
                report,
                "total_execution_time − agent seconds",
                lambda s: s.overhead_server_median,
                lambda s: s.overhead_server_p95,
            ),
        ],
        "What a turn costs besides its model calls: database, lock, events, SSE, HTTP.",
    )


def overhead_row(report: BenchReport, label: str, mid: Pick, high: Pick) -> tuple[str, ...]:
    summary = report.summary
    return (
        label,
        number(ms(mid)(summary), 1),
        number(ms(high)(summary), 1),
        per_run(report, ms(mid), 1),
    )


def tables(report: BenchReport) -> list[Table]:
    return [agent_table(report), tokens_table(report), ttft_table(report), overhead_table(report)]


def markdown_table(table: Table) -> str:
    lines = [f"### {table.title}", "", "| " + " | ".join(table.headers) + " |"]
    lines.append("|" + "|".join("---" for _ in table.headers) + "|")
    lines += ["| " + " | ".join(cells) + " |" for cells in table.rows]
    if table.note:
        lines += ["", table.note]
    return "\n".join(lines)


def context_lines(report: BenchReport) -> list[str]:
    machine = report.machine
    load = " / ".join(f"{v:.2f}" for v in machine.load_average)
    settings = ", ".join(f"{k}={v}" for k, v in report.settings.items())
    return [
        f"- Command: `{report.command}`",
        f"- Date: {report.date}",
        f"- Machine: {machine.cpus} CPUs ({machine.cpu_model}), {machine.system}; "
        f"load average before the run {load}",
        f"- Python {machine.python}, llama-cpp-python {machine.llama_cpp_python}",
        f"- Settings: {settings}",
        f"- {report.config.runs} run(s); each starts a fresh server (fresh llama.cpp contexts) "
        "on a fresh story in an embedded database, with the job worker off; the tables show "
        "the median over runs and each run's value.",
    ]


def render_markdown(report: BenchReport) -> str:
    """The whole section, markers included."""
    parts = [SECTION_START, SECTION_TITLE, "", "\n".join(context_lines(report))]
    parts += ["\n" + markdown_table(table) for table in tables(report)]
    return "\n".join(parts) + "\n" + SECTION_END + "\n"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def replace_section(document: str, section: str, name: str = "turn") -> str:
    """Replaces the text between the markers, or appends the section when there is none."""
    opening, closing = markers(name)
    start, end = document.find(opening), document.find(closing)
    if start != -1 and end > start:
        tail = document[end + len(closing) :].removeprefix("\n")
        return document[:start] + section + tail
    return document.rstrip("\n") + "\n\n" + section


def write_section(path: Path, section: str, name: str = "turn") -> None:
    document = path.read_text() if path.exists() else DOCUMENT_HEADER
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(replace_section(document, section, name))


def default_document() -> Path:
    """docs/benchmarks.md of this checkout, else of the current directory."""
    root = Path(__file__).resolve().parents[3]
    if not (root / "pyproject.toml").is_file():
        root = Path.cwd()
    return root / "docs" / "benchmarks.md"
