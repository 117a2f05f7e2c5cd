"""Summaries of timings: median and 95th percentile, in milliseconds."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    samples: int
    median_ms: float
    p95_ms: float


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def timing(seconds: Sequence[float]) -> Timing:
    return Timing(
        samples=len(seconds),
        median_ms=round(percentile(seconds, 50) * 1000, 3),
        p95_ms=round(percentile(seconds, 95) * 1000, 3),
    )
