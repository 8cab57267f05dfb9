"""From one run's raw timings to the numbers the report shows; medians over runs."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from luna_narrates.bench.turn import RunResult, TurnTiming
from luna_narrates.config import AGENTS

NAN = float("nan")


def median(values: Iterable[float | None]) -> float:
    present = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(present) if present else NAN


def p95(values: Iterable[float | None]) -> float:
    present = sorted(v for v in values if v is not None and not math.isnan(v))
    if len(present) < 2:
        return present[0] if present else NAN
    return statistics.quantiles(present, n=20, method="inclusive")[18]


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else NAN


@dataclass(frozen=True)
class RunSummary:
    """One run's numbers (medians over its turns), or the medians of several runs' numbers."""

    agent_seconds: dict[str, float]
    turn_client_seconds: float
    turn_server_seconds: float
    api_tokens_per_second: float
    raw_tokens_per_second: float
    tokens_per_second_ratio: float
    ttft_early_seconds: float
    ttft_late_seconds: float
    ttft_ratio: float
    overhead_client_median: float
    overhead_client_p95: float
    overhead_server_median: float
    overhead_server_p95: float


def client_overhead(turn: TurnTiming) -> float:
    return turn.client_seconds - turn.model_seconds


def server_overhead(turn: TurnTiming) -> float:
    return turn.server_seconds - turn.model_seconds


def ttft(turns: Sequence[TurnTiming], turn_number: int) -> float:
    return median(t.first_token_seconds for t in turns if t.turn_number == turn_number)


def summarise(result: RunResult, ttft_turns: tuple[int, int]) -> RunSummary:
    turns = result.turns
    later = [t for t in turns if t.turn_number > 1]
    api = median(t.writer_tokens_per_second for t in later)
    raw = median(r.tokens_per_second for r in result.raw)
    early, late = (ttft(turns, n) for n in ttft_turns)
    overhead = result.overhead
    return RunSummary(
        agent_seconds={a: median(t.agent_seconds.get(a) for t in turns) for a in AGENTS},
        turn_client_seconds=median(t.client_seconds for t in turns),
        turn_server_seconds=median(t.server_seconds for t in turns),
        api_tokens_per_second=api,
        raw_tokens_per_second=raw,
        tokens_per_second_ratio=ratio(api, raw),
        ttft_early_seconds=early,
        ttft_late_seconds=late,
        ttft_ratio=ratio(late, early),
        overhead_client_median=median(client_overhead(t) for t in overhead),
        overhead_client_p95=p95(client_overhead(t) for t in overhead),
        overhead_server_median=median(server_overhead(t) for t in overhead),
        overhead_server_p95=p95(server_overhead(t) for t in overhead),
    )


def median_summary(summaries: Sequence[RunSummary]) -> RunSummary:
    """Field by field (agent by agent for the per-agent times), the median over runs."""
    values: dict[str, object] = {}
    for item in fields(RunSummary):
        if item.name == "agent_seconds":
            values[item.name] = {
                a: median(s.agent_seconds.get(a) for s in summaries) for a in AGENTS
            }
        else:
            values[item.name] = median(getattr(s, item.name) for s in summaries)
    return RunSummary(**values)  # type: ignore[arg-type]
