"""Extraction eval: our parse_html vs plain trafilatura on the shared dev corpora.

    .venv/bin/python bench/eval.py [--corpus wcxb ...] [--limit N] [--json out.json]

wcxb-train (training data, gzipped pages) is scored only when named with --corpus.

Both extractors see the same decoded documents in the same process, are scored by the kit's
own scorer (score_extract.py) and timed document by document (CPU time). `held-out` rows
score the odd-numbered documents of each corpus alone: the rules in worker/pipeline/parse/html.py
were tuned looking at the even-numbered ones. The corpora stay in
../shared/eval (or $NEWSFLOW_EVAL_DIR); nothing is copied into the repository.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import signal
import sys
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import Pool
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from worker.pipeline.article import ParseError  # noqa: E402
from worker.pipeline.parse.html import parse_html  # noqa: E402

SYSTEMS = ("ours", "trafilatura")
TIMEOUT_SECONDS = 60.0
# for training and for checking a rule on pages it was not written on; not reported by
# default (`--corpus wcxb-train` scores it; its pages are gzipped)
TRAINING_CORPORA = ("wcxb-train",)
EMPTY: dict[str, Any] = {"text": "", "title": None, "author": None, "date": None}


def eval_dir() -> Path:
    override = os.environ.get("NEWSFLOW_EVAL_DIR")
    return Path(override) if override else REPO.parent / "shared" / "eval"


def _load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def kit_modules(folder: Path) -> tuple[ModuleType, ModuleType]:
    """The kit's scorer and its trafilatura baseline script, imported from the eval folder."""
    return (
        _load_module(folder / "score_extract.py"),
        _load_module(folder / "run_trafilatura_baseline.py"),
    )


@dataclass(frozen=True)
class Job:
    corpus: str
    doc_id: str
    path: str
    url: str | None
    position: int


class _Timeout(Exception):
    pass


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Timeout()


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    if not hasattr(signal, "SIGALRM"):
        yield
        return
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


_BASELINE: ModuleType | None = None


def _init_worker(folder: str) -> None:
    global _BASELINE
    _, _BASELINE = kit_modules(Path(folder))


def ours_prediction(html: str, url: str | None) -> dict[str, Any]:
    """Our ParsedArticle in the kit's prediction shape (text = the article body)."""
    try:
        article = parse_html(html, url)
    except ParseError as exc:  # no article text: what the page said of itself still counts
        page = exc.page
        if page is None:
            return dict(EMPTY)
        return {
            **EMPTY,
            "title": page.title,
            "author": "; ".join(page.authors) or None,
            "date": page.published_at.date().isoformat() if page.published_at else None,
        }
    return {
        "text": unicodedata.normalize("NFC", article.body).strip(),
        "title": article.title,
        "author": "; ".join(article.authors) or None,
        "date": article.published_at.date().isoformat() if article.published_at else None,
    }


def run_job(job: Job) -> dict[str, Any]:
    """Both systems on one document: predictions, seconds and failures."""
    assert _BASELINE is not None
    import trafilatura

    opener = gzip.open if job.path.endswith(".gz") else open
    with opener(job.path, "rb") as handle:
        html = _BASELINE.decode_html(handle.read())
    result: dict[str, Any] = {"id": job.doc_id, "corpus": job.corpus}
    # The second run on a page profits from parser caches, so the order alternates. Time is
    # this thread's CPU time: on a shared machine, waiting for a core is not parsing.
    order = SYSTEMS if job.position % 2 == 0 else SYSTEMS[::-1]
    for system in order:
        started = time.thread_time()
        try:
            with _deadline(TIMEOUT_SECONDS):
                if system == "ours":
                    prediction = ours_prediction(html, job.url)
                else:
                    prediction = _BASELINE.extract_one(trafilatura, html, job.url)
            failed = False
        except Exception:  # a crash or timeout scores as an empty prediction, and is counted
            prediction, failed = dict(EMPTY), True
        result[system] = {"id": job.doc_id, **prediction}
        result[f"{system}_seconds"] = time.thread_time() - started
        result[f"{system}_failed"] = failed
    return result


def load_jobs(
    folder: Path, corpora: list[str] | None, limit: int | None
) -> dict[str, tuple[list[dict[str, Any]], list[Job]]]:
    """{corpus: (gold rows, jobs)}, the first `limit` documents of each corpus in gold order."""
    extract = folder / "extract"
    names = corpora or sorted(
        p.name
        for p in extract.iterdir()
        if (p / "gold.jsonl").is_file() and p.name not in TRAINING_CORPORA
    )
    out = {}
    for name in names:
        with open(extract / name / "gold.jsonl", encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        rows = rows[:limit] if limit else rows
        jobs = [
            Job(name, r["id"], str(extract / name / r["file"]), r.get("url"), position)
            for position, r in enumerate(rows)
        ]
        out[name] = (rows, jobs)
    return out


def run_eval(
    folder: Path,
    corpora: list[str] | None = None,
    limit: int | None = None,
    workers: int = 2,
    predictions_dir: Path | None = None,
) -> dict[str, Any]:
    """Scores of both systems per corpus, with timing; the JSON written by --json."""
    scorer, _ = kit_modules(folder)
    plan = load_jobs(folder, corpora, limit)
    jobs = [job for _, corpus_jobs in plan.values() for job in corpus_jobs]
    started = time.perf_counter()
    if workers > 1:
        with Pool(workers, initializer=_init_worker, initargs=(str(folder),)) as pool:
            results = list(pool.imap(run_job, jobs, chunksize=2))
    else:
        _init_worker(str(folder))
        results = [run_job(job) for job in jobs]
    wall = time.perf_counter() - started
    if predictions_dir:
        _write_predictions(predictions_dir, results)
    report: dict[str, Any] = {"corpora": {}, "wall_seconds": wall}
    for name, (rows, _) in plan.items():
        mine = [r for r in results if r["corpus"] == name]
        entry: dict[str, Any] = {"n": len(rows)}
        for system in SYSTEMS:
            predictions = {r["id"]: r[system] for r in mine}
            entry[system] = scorer.score_corpus(rows, predictions)
            held_out = scorer.score_corpus(rows[1::2], predictions)
            entry[system]["held_out_shingle_f1"] = held_out["shingle_f1"]
            entry[system]["held_out_word_f1"] = held_out["word_f1"]
            entry[system]["seconds"] = sum(r[f"{system}_seconds"] for r in mine)
            entry[system]["failed"] = sum(r[f"{system}_failed"] for r in mine)
        report["corpora"][name] = entry
    for system in SYSTEMS:
        report[f"{system}_seconds"] = sum(r[f"{system}_seconds"] for r in results)
    report["overhead_ratio"] = report["ours_seconds"] / report["trafilatura_seconds"] - 1
    return report


def _write_predictions(folder: Path, results: list[dict[str, Any]]) -> None:
    """One PRED.jsonl per system, readable by the kit's score_extract.py."""
    folder.mkdir(parents=True, exist_ok=True)
    for system in SYSTEMS:
        with open(folder / f"{system}.pred.jsonl", "w", encoding="utf-8") as handle:
            for result in results:
                row = {**result[system], "corpus": result["corpus"]}
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")


_ROWS = (
    ("shingle_p", "shingle P"),
    ("shingle_r", "shingle R"),
    ("shingle_f1", "shingle F1"),
    ("word_p", "word P"),
    ("word_r", "word R"),
    ("word_f1", "word F1"),
    ("held_out_shingle_f1", "held-out sh F1"),
    ("held_out_word_f1", "held-out wd F1"),
    ("title_exact", "title exact"),
    ("title_tokf1", "title tok F1"),
    ("author_tokf1", "author tok F1"),
    ("date_exact", "date exact"),
    ("seconds", "seconds"),
    ("failed", "failed"),
)


def print_report(report: dict[str, Any]) -> None:
    for name, entry in report["corpora"].items():
        ours, base = entry["ours"], entry["trafilatura"]
        print(f"\n{name} ({entry['n']} docs)")
        print(f"  {'metric':<16}{'ours':>8}{'trafilatura':>13}{'delta':>9}")
        for key, label in _ROWS:
            if key not in ours:
                continue
            a, b = ours[key], base[key]
            print(f"  {label:<16}{_fmt(a):>8}{_fmt(b):>13}{_fmt(a - b, signed=True):>9}")
    ours_s, base_s = report["ours_seconds"], report["trafilatura_seconds"]
    print(
        f"\nCPU time on the same documents: ours {ours_s:.1f} s, trafilatura {base_s:.1f} s, "
        f"ratio {ours_s / base_s:.3f} (our layer costs {report['overhead_ratio']:+.1%}); "
        f"wall {report['wall_seconds']:.1f} s"
    )


def _fmt(value: float | int, signed: bool = False) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:+d}" if signed else str(value)
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", nargs="+", help="default: every corpus with a gold.jsonl")
    parser.add_argument("--limit", type=int, help="only the first N documents of each corpus")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--predictions", type=Path, help="also write ours/trafilatura .pred.jsonl to this folder"
    )
    args = parser.parse_args()
    folder = eval_dir()
    if not (folder / "score_extract.py").is_file() or not (folder / "extract").is_dir():
        print(f"eval kit not found at {folder} (set NEWSFLOW_EVAL_DIR): nothing to evaluate")
        return 0
    report = run_eval(folder, args.corpus, args.limit, args.workers, args.predictions)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
