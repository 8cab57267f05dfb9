"""`luna bench …`: benchmark commands; they print rich tables and update docs/benchmarks.md."""

from __future__ import annotations

import atexit
import shlex
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

if TYPE_CHECKING:
    from luna_narrates.bench.markdown import Table

bench_app = typer.Typer(
    help="Benchmarks: numbers for docs/benchmarks.md (never timed tests).", no_args_is_help=True
)
console = Console()

WriteOption = Annotated[bool, typer.Option("--write/--no-write", help="Update docs/benchmarks.md.")]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        help="Data directory for the embedded database (default: a fresh /tmp/luna-bench-*)."
    ),
]


def fresh_data_dir() -> Path:
    """Short on purpose (pgserver's Unix socket path is limited to 107 bytes); removed at exit.

    Registered before the embedded PostgreSQL starts, so (atexit runs last-in, first-out) the
    directory goes only after pgserver's own exit handler has stopped the server.
    """
    path = Path(tempfile.mkdtemp(prefix="luna-bench-", dir="/tmp"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def rich_table(table: Table) -> RichTable:
    out = RichTable(title=table.title, caption=table.note or None, title_justify="left")
    for index, header in enumerate(table.headers):
        out.add_column(header, justify="left" if index == 0 else "right")
    for cells in table.rows:
        out.add_row(*cells)
    return out


def progress(line: str) -> None:
    console.print(f"  {line}", style="dim")


def announce(data_dir: Path | None) -> str:
    """The command line as typed, printed with where its data goes (None: it keeps none)."""
    command = shlex.join(["luna", *sys.argv[1:]])
    where = f"data in {data_dir}" if data_dir else "simulated on a virtual clock, nothing stored"
    console.print(f"[bold]{command}[/] ({where})")
    return command


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


@contextmanager
def reported_failure() -> Iterator[None]:
    """A benchmark that could not measure ends with its reason, not a traceback."""
    from luna_narrates.bench.turn import BenchError

    try:
        yield
    except BenchError as error:
        console.print(f"[red]The benchmark failed:[/] {error}")
        raise typer.Exit(1) from error


def publish(tables: Sequence[Table], section: str | None, name: str) -> None:
    """Prints the tables and, given a section (`--write`), puts it in docs/benchmarks.md."""
    from luna_narrates.bench.markdown import default_document, write_section

    for table in tables:
        console.print(rich_table(table))
    if section is not None:
        path = default_document()
        write_section(path, section, name)
        console.print(f"Wrote the section to {path}.")


@bench_app.command("turn")
def turn(
    turns: Annotated[int, typer.Option(min=2, help="Turns per run on the embedded model.")] = 20,
    runs: Annotated[
        int, typer.Option(min=1, help="Repeat the whole measurement; report medians.")
    ] = 3,
    overhead_turns: Annotated[
        int, typer.Option(min=1, help="Turns per run on the instant `test` model.")
    ] = 20,
    write: WriteOption = True,
    data_dir: DataDirOption = None,
) -> None:
    """Time turns over the real API (SSE) on the embedded model.

    Reports time per agent, Writer tokens/s through the API against raw llama.cpp, time to
    first token at turn 2 and turn 20, and the orchestration overhead on the `test` model.
    """
    from luna_narrates.bench.markdown import render_markdown, tables
    from luna_narrates.bench.report import run_bench
    from luna_narrates.bench.turn import BenchConfig

    config = BenchConfig(
        turns=turns, runs=runs, overhead_turns=overhead_turns, data_dir=data_dir or fresh_data_dir()
    )
    command = announce(config.data_dir)
    with reported_failure():
        report = run_bench(config, command, progress)
    publish(tables(report), render_markdown(report) if write else None, "turn")


@bench_app.command("memory")
def memory(
    turns: Annotated[int, typer.Option(min=20, help="Turns in the recall campaign.")] = 300,
    seed: Annotated[int, typer.Option(help="Campaign generator seed.")] = 7,
    latency_sizes: Annotated[
        str, typer.Option(help="Comma-separated story sizes (turns) for the latency test.")
    ] = "100,1000,10000",
    latency_queries: Annotated[int, typer.Option(min=5, help="Queries per size.")] = 40,
    write: WriteOption = True,
    data_dir: DataDirOption = None,
) -> None:
    """Measure memory: fact recall at 400, 1,500 and 4,000 tokens, superseded facts shown as
    current, compression, and retrieval latency, against a recency window and vector top-k."""
    from luna_narrates.bench.memory import MemoryBenchConfig, run_memory_bench
    from luna_narrates.bench.memory_markdown import SECTION, render_markdown, tables

    sizes = tuple(int(size) for size in latency_sizes.split(",") if size.strip())
    config = MemoryBenchConfig(
        turns=turns,
        seed=seed,
        latency_sizes=sizes,
        latency_queries=latency_queries,
        compression_at=tuple(at for at in (100, 300) if at <= turns),
        data_dir=data_dir or fresh_data_dir(),
    )
    command = announce(config.data_dir)
    result = run_memory_bench(config, progress)
    section = render_markdown(result, command, utc_now()) if write else None
    publish(tables(result), section, SECTION)


@bench_app.command("timelines")
def timelines(
    turns: Annotated[int, typer.Option(min=1, help="Turns in the long lineage.")] = 10_000,
    branches: Annotated[int, typer.Option(min=1, help="Branches in the wide tree.")] = 200,
    depth: Annotated[
        int, typer.Option(min=1, help="Branches the long lineage runs through (Main included).")
    ] = 5,
    repeats: Annotated[int, typer.Option(min=1, help="Timed requests per case and run.")] = 50,
    runs: Annotated[
        int, typer.Option(min=1, help="Repeat the whole measurement; report medians.")
    ] = 3,
    write: WriteOption = True,
    data_dir: DataDirOption = None,
) -> None:
    """Time the timeline reads over the API: pages of a long lineage, and the tree and list
    of a story with many branches, on the embedded database."""
    from luna_narrates.bench.timelines import TimelinesBenchConfig, run_timelines_bench
    from luna_narrates.bench.timelines_markdown import SECTION, render_markdown, tables

    if depth > turns:
        raise typer.BadParameter(f"a lineage of {turns} turns cannot run through {depth} branches")
    config = TimelinesBenchConfig(
        turns=turns,
        branches=branches,
        depth=depth,
        repeats=repeats,
        runs=runs,
        data_dir=data_dir or fresh_data_dir(),
    )
    command = announce(config.data_dir)
    with reported_failure():
        result = run_timelines_bench(config, progress)
    section = render_markdown(result, command, utc_now()) if write else None
    publish(tables(result), section, SECTION)


@bench_app.command("lore")
def lore(
    entries: Annotated[int, typer.Option(min=20, help="Entries in the generated book.")] = 10_000,
    repeats: Annotated[int, typer.Option(min=1, help="Timed requests per case and run.")] = 30,
    runs: Annotated[
        int, typer.Option(min=1, help="Repeat the whole measurement; report medians.")
    ] = 3,
    write: WriteOption = True,
    data_dir: DataDirOption = None,
) -> None:
    """Storage of each lorebook tier (plain JSON, warm JSONB, cold zstd with a dictionary),
    and the briefing's time with a large book in each tier."""
    from luna_narrates.bench.lore import LoreBenchConfig, run_lore_bench
    from luna_narrates.bench.lore_markdown import SECTION, render_markdown, tables

    config = LoreBenchConfig(
        entries=entries,
        repeats=repeats,
        runs=runs,
        fixtures=shared_fixtures(),
        data_dir=data_dir or fresh_data_dir(),
    )
    command = announce(config.data_dir)
    with reported_failure():
        result = run_lore_bench(config, progress)
    section = render_markdown(result, command, utc_now()) if write else None
    publish(tables(result), section, SECTION)


def shared_fixtures() -> Path | None:
    """../shared/fixtures beside the checkout, when it is there (real SillyTavern files)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "fixtures"
        if (parent / "pyproject.toml").is_file() and candidate.is_dir():
            return candidate
    return None


def numbers(text: str, name: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise typer.BadParameter(f"{name}: numbers separated by commas, not {text!r}") from None


@bench_app.command("dreamer")
def dreamer(
    turns: Annotated[int, typer.Option(min=2, help="Turns in the simulated session.")] = 100,
    runs: Annotated[int, typer.Option(min=1, help="Sessions (seeds) to simulate.")] = 5,
    seed: Annotated[int, typer.Option(help="The first run's seed; run k uses seed + k.")] = 7,
    hit_rates: Annotated[
        str, typer.Option(help="Comma-separated shares of new things the Dreamer foresaw.")
    ] = "0.25,0.5,0.75",
    workers: Annotated[int, typer.Option(min=1, help="GPU workers.")] = 1,
    max_concurrent: Annotated[int, typer.Option(min=1, help="Renders at once per worker.")] = 1,
    gpu_seconds: Annotated[
        str, typer.Option(help="GPU seconds per image, drawn uniformly between: LOW,HIGH.")
    ] = "8,20",
    turn_seconds: Annotated[
        float, typer.Option(min=0, help="A turn's text (default: luna bench turn's median).")
    ] = 20.75,
    setting: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=VALUE: a product setting the session uses, instead of its default "
            "(e.g. image_action_every_n_turns=5); repeatable."
        ),
    ] = None,
    write: WriteOption = True,
) -> None:
    """Simulate a session with and without the Dreamer's speculative renders (virtual clock,
    fake GPU workers): the player-visible image wait, the realization rate and the GPU cost."""
    from pydantic import ValidationError

    from luna_narrates.bench.dreamer import DreamerBenchConfig, product_settings, run_dreamer_bench
    from luna_narrates.bench.dreamer_markdown import SECTION, render_markdown, tables
    from luna_narrates.errors import problems

    rates = numbers(hit_rates, "--hit-rates")
    if not rates or not all(0 <= rate <= 1 for rate in rates):
        raise typer.BadParameter(f"--hit-rates: shares between 0 and 1, not {hit_rates!r}")
    gpu = numbers(gpu_seconds, "--gpu-seconds")
    if len(gpu) != 2 or not 0 < gpu[0] <= gpu[1]:
        raise typer.BadParameter(
            f"--gpu-seconds: LOW,HIGH with 0 < LOW ≤ HIGH, not {gpu_seconds!r}"
        )
    overrides = dict(item.partition("=")[::2] for item in setting or [])
    try:
        settings = product_settings(**overrides)
    except ValidationError as error:
        raise typer.BadParameter("; ".join(problems(error.errors()))) from None
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    config = DreamerBenchConfig(
        turns=turns,
        runs=runs,
        seed=seed,
        hit_rates=rates,
        workers=workers,
        max_concurrent=max_concurrent,
        gpu_seconds=(gpu[0], gpu[1]),
        turn_seconds=turn_seconds,
        settings=settings,
    )
    command = announce(None)
    result = run_dreamer_bench(config, progress)
    section = render_markdown(result, command, utc_now()) if write else None
    publish(tables(result), section, SECTION)
