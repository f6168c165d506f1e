"""A check that work grows linearly with input, for guards against catastrophic
backtracking and quadratic loops. It compares two sizes in the same test, so it holds on
a loaded machine where a wall-clock bound would not; speed itself is `make bench`'s job."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _seconds(function: Callable[[T], object], argument: T) -> float:
    start = time.perf_counter()
    function(argument)
    return time.perf_counter() - start


def assert_linear(
    function: Callable[[T], object],
    make_input: Callable[[int], T],
    small: int,
    factor: int = 16,
    slack: float = 4.0,
) -> None:
    """``function(make_input(factor * small))`` takes at most ``slack * factor`` times as
    long as ``function(make_input(small))``: linear work passes with room for noise,
    quadratic work (``factor ** 2`` times as long) fails."""
    small_input, large_input = make_input(small), make_input(factor * small)
    function(small_input)  # warm caches and compiled patterns
    small_seconds = min(_seconds(function, small_input) for _ in range(3))
    large_seconds = _seconds(function, large_input)
    ratio = large_seconds / max(small_seconds, 1e-4)
    assert ratio <= slack * factor, (
        f"{factor}x the input took {ratio:.0f}x the time ({small_seconds:.4f} s -> "
        f"{large_seconds:.3f} s): worse than linear"
    )
