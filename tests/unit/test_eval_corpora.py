"""The extraction eval on a fixed slice of the shared dev corpora: ours must not lose to plain
trafilatura. Skipped when ../shared/eval (or $NEWSFLOW_EVAL_DIR) is not there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_bench

REPO = Path(__file__).resolve().parents[2]
DOCS_PER_CORPUS = 15


bench_eval = load_bench("eval")
EVAL_DIR: Path = bench_eval.eval_dir()
pytestmark = pytest.mark.skipif(
    not (EVAL_DIR / "score_extract.py").is_file(),
    reason=f"eval kit not found at {EVAL_DIR} (set NEWSFLOW_EVAL_DIR to run this test)",
)


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    result: dict[str, Any] = bench_eval.run_eval(EVAL_DIR, limit=DOCS_PER_CORPUS, workers=2)
    return result


@pytest.mark.parametrize("corpus", ["wcxb", "l3s-gn1", "cleanportaleval"])
def test_shingle_f1_not_below_trafilatura(report: dict[str, Any], corpus: str) -> None:
    scores = report["corpora"][corpus]
    assert scores["ours"]["failed"] == 0
    assert scores["ours"]["shingle_f1"] >= scores["trafilatura"]["shingle_f1"] - 1e-9


def test_wcxb_title_and_date_not_below_trafilatura(report: dict[str, Any]) -> None:
    ours, base = report["corpora"]["wcxb"]["ours"], report["corpora"]["wcxb"]["trafilatura"]
    assert ours["title_exact"] >= base["title_exact"]
    assert ours["date_exact"] >= base["date_exact"]
