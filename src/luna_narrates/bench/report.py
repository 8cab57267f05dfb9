"""A whole `luna bench turn`: R runs, their summaries, the median summary, and the context."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from luna_narrates.bench.summary import RunSummary, median_summary, summarise
from luna_narrates.bench.turn import BenchConfig, Progress, RunResult, measure_run


@dataclass(frozen=True)
class MachineFacts:
    cpus: int
    cpu_model: str
    system: str
    python: str
    llama_cpp_python: str
    load_average: tuple[float, float, float]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_facts() -> MachineFacts:
    load = os.getloadavg()
    return MachineFacts(
        cpus=len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count() or 0,
        cpu_model=cpu_model(),
        system=f"{platform.system()} {platform.release()} {platform.machine()}",
        python=platform.python_version(),
        llama_cpp_python=package_version("llama_cpp_python"),
        load_average=(load[0], load[1], load[2]),
    )


@dataclass(frozen=True)
class BenchReport:
    command: str
    date: str
    machine: MachineFacts
    config: BenchConfig
    settings: dict[str, str]  # the settings that shape the numbers
    results: list[RunResult]
    summaries: list[RunSummary]
    summary: RunSummary  # medians over the runs


def settings_facts(config: BenchConfig) -> dict[str, str]:
    settings = config.settings(config.model)
    threads = settings.local_threads
    return {
        "model": config.model,
        "writer_target_tokens": str(settings.writer_target_tokens),
        "briefing_token_budget": str(settings.briefing_token_budget),
        "recent_turns_window": str(settings.recent_turns_window),
        "local_context_tokens": str(settings.local_context_tokens),
        "local_threads": str(threads) if threads else "llama.cpp default",
    }


def run_bench(config: BenchConfig, command: str, progress: Progress) -> BenchReport:
    machine = machine_facts()  # the load average before the bench adds its own
    results = []
    for index in range(config.runs):
        label = f"run {index + 1}/{config.runs}, " if config.runs > 1 else ""
        results.append(measure_run(config, progress, label=label))
    summaries = [summarise(result, config.ttft_turns) for result in results]
    return BenchReport(
        command=command,
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine,
        config=config,
        settings=settings_facts(config),
        results=results,
        summaries=summaries,
        summary=median_summary(summaries),
    )
