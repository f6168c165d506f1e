"""Draw a bench/run.py result: achieved throughput and submit-to-done latency (p50, p99)
against offered load, with the stage-bound ceiling for reference.

    .venv/bin/python bench/plot.py bench/results/<date>.json [out.png]

matplotlib (Agg, no display) is imported only when a plot is drawn."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def draw(results: dict[str, Any], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweep = results["sweep"]
    paced = [row for row in sweep if not row["saturation"]]
    saturated = [row for row in sweep if row["saturation"]]
    offered = [row["offered_per_s"] for row in paced]
    # saturation drawn one step to the right of the highest offered load
    saturation_x = offered[-1] * 2 if offered else 1.0
    xs = offered + [saturation_x] * len(saturated)
    rows = paced + saturated

    throughput = results["throughput"]
    env = results["environment"]
    words = results["corpus"]["latency_article_words"]

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    left.plot(xs, [r["achieved_per_s"] for r in rows], "o-", label="achieved")
    left.plot(xs, xs[: len(offered)] + [None] * len(saturated), ":", color="grey", label="offered")
    left.axhline(
        throughput["ceiling_per_s"],
        color="tab:red",
        linestyle="--",
        label=f"stage-bound ceiling, mixed corpus ({throughput['ceiling_per_s']:.1f}/s)",
    )
    left.axhline(
        throughput["end_to_end_per_s"],
        color="tab:green",
        linestyle="-.",
        label=f"end to end, mixed corpus ({throughput['end_to_end_per_s']:.1f}/s)",
    )
    left.set_title(f"throughput ({words}-word English article)")
    left.set_ylabel("articles/s")
    left.set_yscale("log")

    right.plot(xs, [r["p50_ms"] for r in rows], "o-", label="p50")
    right.plot(xs, [r["p99_ms"] for r in rows], "s--", label="p99")
    right.axhline(100, color="grey", linestyle=":", label="100 ms")
    right.set_yscale("log")
    right.set_title("submit-to-done latency")
    right.set_ylabel("ms")

    ticks = [*offered, saturation_x] if saturated else offered
    labels = [f"{x:g}" for x in offered] + (["sat."] if saturated else [])
    for axis in (left, right):
        axis.set_xscale("log")
        axis.set_xticks(ticks, labels)
        axis.minorticks_off()
        axis.set_xlabel("offered load (articles/s)")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(
        f"newsflow {results['date'][:10]} — {env['cores']} cores, "
        f"{env['worker_processes']} worker processes, median of {results['runs']} runs, "
        f"load average at start {env['load_average_at_start'][0]}",
        fontsize=10,
    )
    figure.savefig(out, dpi=110)
    plt.close(figure)
    return out


if __name__ == "__main__":
    source = Path(sys.argv[1])
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else source.with_suffix(".png")
    print(draw(json.loads(source.read_text()), target))
