"""bench/eval_ner.py on the first documents of each shared NER dev set: ours must not be
worse than the bare model it builds on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import load_bench

ROOT = Path(__file__).resolve().parents[2]
DOCS_PER_SET = 20


eval_ner = load_bench("eval_ner")
EVAL_DIR = eval_ner.eval_dir()
NER_FILES = sorted((EVAL_DIR / "ner").glob("*.jsonl")) if (EVAL_DIR / "ner").is_dir() else []

pytestmark = pytest.mark.skipif(
    not (EVAL_DIR / "score_ner.py").is_file() or not NER_FILES,
    reason=f"no shared NER eval kit at {EVAL_DIR}",
)


@pytest.mark.parametrize("path", NER_FILES, ids=lambda p: p.name.split("_")[0])
def test_ours_at_least_as_good_as_the_bare_model(path: Path) -> None:
    scorer = eval_ner.load_scorer(EVAL_DIR)
    result = eval_ner.run_file(path, scorer, limit=DOCS_PER_SET)
    ours, baseline = result["ours"]["doc"]["ALL"]["f1"], result["baseline"]["doc"]["ALL"]["f1"]
    assert ours >= baseline, f"{path.name}: doc F1 {ours:.3f} < baseline {baseline:.3f}"
    assert result["ours"]["span"]["ALL"]["f1"] >= result["baseline"]["span"]["ALL"]["f1"]


def test_missing_kit_is_skipped_with_a_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSFLOW_EVAL_DIR", str(tmp_path / "absent"))
    assert eval_ner.main([]) == 0
    assert "skipped" in capsys.readouterr().out
