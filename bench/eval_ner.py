"""NER quality: our entities vs the bare model, on the shared dev sets.

For every ner/*.jsonl file of the shared eval kit, runs worker.pipeline.enrich.entities on each
document as the pipeline sees an article (its first line, when a line break follows, is the
title; the rest the body; the language is detected, not declared) and the bare model the
kit's baseline uses for that language (spaCy for en, natasha for ru and uk) on the whole
text, and scores both with the kit's own score_ner.py: on the whole file and on its two
halves, the even-numbered documents (``tune``: rules are tuned on these) and the odd-numbered
ones (``held-out``: reported, never looked at while tuning).

    python bench/eval_ner.py [--limit N] [--json PATH] [--lang xx]

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
from worker.pipeline.enrich.language import detect_language  # noqa: E402

NER_TYPES = ("PER", "ORG", "LOC")
# The kit's baseline label mapping for spaCy.
SPACY_BASELINE_TYPES = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}
HALVES = ("tune", "held-out")
# a first line longer than this is a paragraph, not a headline
MAX_TITLE = 200

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


def split_title(text: str) -> tuple[str | None, str, int]:
    """(title, body, offset of the body in text): the kit's documents open with the
    headline on a line of its own (a blank line after it in factRuEval, the dateline in
    CoNLL); a long first line is the body's first paragraph."""
    first, newline, rest = text.partition("\n")
    if not newline or len(first) > MAX_TITLE or not first.strip() or not rest.strip():
        return None, text, 0
    offset = len(first) + 1
    while offset < len(text) and text[offset] == "\n":
        offset += 1
    return first, text[offset:], offset


def ours(declared: str | None = None) -> Tagger:
    """Our entities of a document given as title and body, the language detected from them
    (unless declared), mapped back to offsets in the kit's text."""

    def tag(text: str) -> list[dict[str, Any]]:
        title, body, offset = split_title(text)
        language = declared or detect_language(" ".join(filter(None, [title, body])))[0]
        found = []
        for entity in entities.extract_entities(body, language, title=title):
            for m in entity.mentions:
                shift = 0 if m.field == "title" else offset
                found.append({"start": m.start + shift, "end": m.end + shift, "type": entity.type})
        return found

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


def _scores(scorer: ModuleType, docs: list[dict[str, Any]], preds: list[dict[str, Any]]) -> Any:
    scores = scorer.score(docs, preds)
    return {"span": scores["span"], "doc": scores["doc"], "doc_stem5": scores["doc_stem5"]}


def run_file(path: Path, scorer: ModuleType, limit: int | None = None) -> dict[str, Any]:
    docs = scorer.read_jsonl(str(path))
    if limit:
        docs = docs[:limit]
    language = docs[0]["lang"] if docs else "en"
    result: dict[str, Any] = {"file": path.name, "lang": language, "n_docs": len(docs)}
    halves = {HALVES[0]: docs[0::2], HALVES[1]: docs[1::2]}
    for name, tagger in (("ours", ours()), ("baseline", baseline(language))):
        tagger(docs[0]["text"] if docs else "")  # load the models outside the timing
        started = time.perf_counter()
        preds = [{"id": d["id"], "entities": tagger(d["text"])} for d in docs]
        elapsed = time.perf_counter() - started
        result[name] = {
            "seconds": round(elapsed, 2),
            "ms_per_doc": round(1000 * elapsed / max(1, len(docs)), 1),
            **_scores(scorer, docs, preds),
        }
        for half, half_docs in halves.items():
            ids = {d["id"] for d in half_docs}
            result[name][half] = _scores(scorer, half_docs, [p for p in preds if p["id"] in ids])
    detected = [detect_language(d["text"])[0] for d in docs]
    result["language_misses"] = sum(1 for lang in detected if lang != language)
    return result


def _cell(metric: dict[str, Any] | None) -> str:
    if metric is None:
        return "   n/a            "
    row = metric["ALL"]
    return f"{100 * row['p']:5.1f} {100 * row['r']:5.1f} {100 * row['f1']:5.1f}"


def _by_type(metric: dict[str, Any]) -> str:
    return " ".join(f"{100 * metric[t]['f1']:5.1f}" for t in NER_TYPES)


def print_table(results: list[dict[str, Any]]) -> None:
    print(
        f"{'set':<24} {'part':<9} {'system':<9} {'span P     R    F1':<18}  "
        f"{'doc P      R    F1':<18}  {'doc F1 PER   ORG   LOC':<17}  {'stem5':>5}  {'ms/doc':>6}"
    )
    for res in results:
        for part in ("all", *HALVES):
            for name in ("ours", "baseline"):
                sys_res = res[name] if part == "all" else res[name][part]
                cost = f"{res[name]['ms_per_doc']:6.1f}" if part == "all" else ""
                print(
                    f"{res['file'][:24]:<24} {part:<9} {name:<9} {_cell(sys_res['span'])}  "
                    f"{_cell(sys_res['doc'])}  {_by_type(sys_res['doc']):<17}  "
                    f"{100 * sys_res['doc_stem5']['ALL']['f1']:5.1f}  {cost:>6}"
                )
            ours_res = res["ours"] if part == "all" else res["ours"][part]
            base_res = res["baseline"] if part == "all" else res["baseline"][part]
            gain = 100 * (ours_res["doc"]["ALL"]["f1"] - base_res["doc"]["ALL"]["f1"])
            print(f"{'':<24} {part:<9} {'gain':<9} doc F1 {gain:+.1f}")
        print(
            f"{'':<24} language detected other than {res['lang']!r} for "
            f"{res['language_misses']} of {res['n_docs']} documents"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
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
