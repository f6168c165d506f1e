"""NER quality: our extract_entities vs the bare model, on the shared dev sets.

For every ner/*.jsonl file of the shared eval kit, runs worker.pipeline.enrich.entities on each
document and the bare model the kit's baseline uses for that language (spaCy for en,
natasha for ru and uk), and scores both with the kit's own score_ner.py.

    python bench/eval_ner.py [--limit N] [--json PATH]

The kit is looked for at ../shared/eval next to the checkout (NEWSFLOW_EVAL_DIR overrides).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker.pipeline.enrich import entities  # noqa: E402
from worker.pipeline.enrich.entities import models  # noqa: E402

NER_TYPES = ("PER", "ORG", "LOC")
# The kit's baseline label mapping for spaCy.
SPACY_BASELINE_TYPES = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}

Tagger = Callable[[str], list[dict[str, Any]]]


def eval_dir() -> Path:
    override = os.environ.get("NEWSFLOW_EVAL_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1].parent / "shared" / "eval"


def load_scorer(folder: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("score_ner", folder / "score_ner.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {folder / 'score_ner.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ours(language: str) -> Tagger:
    def tag(text: str) -> list[dict[str, Any]]:
        return [
            {"start": m.start, "end": m.end, "type": e.type, "text": m.text}
            for e in entities.extract_entities(text, language)
            for m in e.mentions
        ]

    return tag


def baseline(language: str) -> Tagger:
    """The bare model, exactly as the kit's run_ner_baseline.py runs it."""
    if language == "en":
        nlp = models.spacy_pipeline()

        def tag_en(text: str) -> list[dict[str, Any]]:
            return [
                {"start": e.start_char, "end": e.end_char, "type": SPACY_BASELINE_TYPES[e.label_]}
                for e in nlp(text).ents
                if e.label_ in SPACY_BASELINE_TYPES
            ]

        return tag_en

    from natasha import Doc, Segmenter

    segmenter, tagger = Segmenter(), models.natasha_tagger()

    def tag_natasha(text: str) -> list[dict[str, Any]]:
        doc = Doc(text)
        doc.segment(segmenter)
        doc.tag_ner(tagger)
        return [{"start": s.start, "end": s.stop, "type": s.type} for s in doc.spans]

    return tag_natasha


def run_file(path: Path, scorer: ModuleType, limit: int | None = None) -> dict[str, Any]:
    docs = scorer.read_jsonl(str(path))
    if limit:
        docs = docs[:limit]
    language = docs[0]["lang"] if docs else "en"
    result: dict[str, Any] = {"file": path.name, "lang": language, "n_docs": len(docs)}
    for name, tagger in (("ours", ours(language)), ("baseline", baseline(language))):
        tagger(docs[0]["text"] if docs else "")  # load the models outside the timing
        started = time.perf_counter()
        preds = [{"id": d["id"], "entities": tagger(d["text"])} for d in docs]
        elapsed = time.perf_counter() - started
        scores = scorer.score(docs, preds)
        result[name] = {
            "seconds": round(elapsed, 2),
            "span": scores["span"],
            "doc": scores["doc"],
            "doc_stem5": scores["doc_stem5"],
        }
    return result


def _cell(metric: dict[str, Any] | None) -> str:
    if metric is None:
        return "   n/a            "
    row = metric["ALL"]
    return f"{100 * row['p']:5.1f} {100 * row['r']:5.1f} {100 * row['f1']:5.1f}"


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        f"{'set':<30} {'system':<9} {'span P     R    F1':<18}  {'doc P      R    F1':<18}"
        f"  {'stem5 F1':>8}  {'s':>5}"
    )
    for res in results:
        for name in ("ours", "baseline"):
            sys_res = res[name]
            print(
                f"{res['file']:<30} {name:<9} {_cell(sys_res['span'])}  {_cell(sys_res['doc'])}"
                f"  {100 * sys_res['doc_stem5']['ALL']['f1']:8.1f}  {sys_res['seconds']:5.1f}"
            )
        gain_span = 100 * (res["ours"]["span"]["ALL"]["f1"] - res["baseline"]["span"]["ALL"]["f1"])
        gain_doc = 100 * (res["ours"]["doc"]["ALL"]["f1"] - res["baseline"]["doc"]["ALL"]["f1"])
        print(f"{'':<30} {'gain':<9} span F1 {gain_span:+.1f}, doc F1 {gain_doc:+.1f}")
        ours_span, base_span = res["ours"]["span"], res["baseline"]["span"]
        per_type = "  ".join(
            f"{t} {100 * ours_span[t]['f1']:.1f}/{100 * base_span[t]['f1']:.1f}" for t in NER_TYPES
        )
        print(f"{'':<30} {'by type':<9} span F1 ours/baseline: {per_type}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="first N documents per file")
    parser.add_argument("--json", type=Path, default=None, help="write the scores here")
    parser.add_argument("--lang", action="append", help="only these languages (repeatable)")
    args = parser.parse_args(argv)
    folder = eval_dir()
    ner_folder = folder / "ner"
    if not (folder / "score_ner.py").is_file() or not ner_folder.is_dir():
        print(f"eval_ner: skipped, no NER eval kit at {folder} (set NEWSFLOW_EVAL_DIR)")
        return 0
    scorer = load_scorer(folder)
    results = []
    for path in sorted(ner_folder.glob("*.jsonl")):
        if args.lang and path.name.split("_")[0] not in args.lang:
            continue
        results.append(run_file(path, scorer, args.limit))
    print_table(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
