"""Train the block model (worker/pipeline/parse/blockmodel.py) on the WCXB training pages.

    .venv/bin/python bench/train_block_model.py [--out PATH] [--check]

Data recipe: every page of ../shared/eval/extract/wcxb-train (1,122 WCXB dev pages, none of
them in the wcxb, l3s-gn1 or cleanportaleval dev sets; $NEWSFLOW_EVAL_DIR overrides the
folder). Each page goes through parse_html's own candidate step (trafilatura in recall
mode, our blocks, the page's link texts), and each block is labelled article text when at
least half of its 4-word shingles (its words, for a block of fewer than 4) occur in the
page's gold text. A gradient-boosted tree model (scikit-learn, fixed seed) learns the label
from blockmodel.block_features; the keep threshold is the one that maximises the macro
shingle F1 of the training pages on out-of-fold scores (5 folds by page). The dev corpora
are never read here: bench/eval.py reports on them.

--check retrains and fails unless the result equals the shipped model file.
Needs scikit-learn (the dev extra); the service itself reads the JSON with numpy only.
"""

from __future__ import annotations

import argparse
import gzip
import json
import pickle
import sys
from collections import Counter
from multiprocessing import Pool
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.eval import eval_dir, kit_modules  # noqa: E402
from worker.pipeline.parse import blockmodel  # noqa: E402
from worker.pipeline.parse.html import candidate_blocks  # noqa: E402

TRAIN_CORPUS = "wcxb-train"
SEED = 17
PARAMS = {"n_estimators": 100, "max_depth": 4, "learning_rate": 0.1, "subsample": 0.8}
SCORER: Any = None
BASELINE: Any = None


def _shingles(text: str) -> list[tuple[str, ...]]:
    return [tuple(s) for s in SCORER.shingles(text)]


def page_candidates(args: tuple[str, str, str | None]) -> dict[str, Any] | None:
    """One page's candidate blocks and link texts (None when the page has none)."""
    doc_id, path, url = args
    data = Path(path).read_bytes()
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    global BASELINE
    if BASELINE is None:
        _, BASELINE = kit_modules(eval_dir())
    try:
        blocks, link_texts = candidate_blocks(BASELINE.decode_html(data), url)
    except Exception:  # noqa: BLE001 - a page that cannot be parsed has no blocks to learn
        return None
    return {"id": doc_id, "blocks": blocks, "link_texts": link_texts}


def labels(blocks: list[Any], gold: str) -> list[int]:
    """1 for a block that is article text: half its shingles in the gold text, or, for a
    block of fewer than 4 words (a subheading, a dateline), its words in a row there."""
    gold_shingles = set(_shingles(gold))
    gold_words = f" {' '.join(SCORER.tokens(gold))} "
    out = []
    for block in blocks:
        words = SCORER.tokens(block.text)
        if len(words) < 4:
            out.append(int(bool(words) and f" {' '.join(words)} " in gold_words))
            continue
        mine = _shingles(block.text)
        out.append(int(sum(s in gold_shingles for s in mine) >= 0.5 * len(mine)))
    return out


def word_weights(blocks: list[Any]) -> np.ndarray:
    """Each page weighs the same in training (the metric is a mean over pages), and within
    a page each block weighs as its words."""
    words = np.array([len(SCORER.tokens(block.text)) + 1 for block in blocks], dtype=float)
    return words / words.sum()


def load_pages(folder: Path, cache: Path | None) -> list[dict[str, Any]]:
    if cache and cache.is_file():
        with open(cache, "rb") as handle:
            pages: list[dict[str, Any]] = pickle.load(handle)
        return pages
    base = folder / "extract" / TRAIN_CORPUS
    rows = [json.loads(line) for line in open(base / "gold.jsonl", encoding="utf-8")]
    jobs = [(r["id"], str(base / r["file"]), r.get("url")) for r in rows]
    with Pool(2) as pool:
        found = pool.map(page_candidates, jobs, chunksize=4)
    gold = {r["id"]: r for r in rows}
    pages = []
    for page in found:
        if page is None or not page["blocks"]:
            continue
        page["gold"] = gold[page["id"]]["text"] or ""
        page["article"] = gold[page["id"]]["page_type"] == "article"
        pages.append(page)
    if cache:
        with open(cache, "wb") as handle:
            pickle.dump(pages, handle)
    return pages


def macro_f1(pages: list[dict[str, Any]], keeps: list[list[bool]]) -> float:
    pairs = []
    for page, keep in zip(pages, keeps, strict=True):
        text = "\n".join(b.text for b, k in zip(page["blocks"], keep, strict=True) if k)
        pairs.append((page["gold"], text))
    return float(SCORER.shingle_scores(pairs)["shingle_f1"])


def export(model: Any, threshold: float) -> dict[str, Any]:
    """sklearn's GradientBoostingClassifier -> the JSON blockmodel.BlockModel reads."""
    init = float(model.init_.class_prior_[1])
    trees = []
    for (estimator,) in model.estimators_:
        tree = estimator.tree_
        trees.append(
            {
                "feature": [int(f) for f in tree.feature],
                "threshold": [round(float(t), 6) for t in tree.threshold],
                "left": [int(c) for c in tree.children_left],
                "right": [int(c) for c in tree.children_right],
                "value": [round(float(v), 6) for v in tree.value[:, 0, 0]],
            }
        )
    return {
        "about": "bench/train_block_model.py; trained on wcxb-train",
        "features": list(blockmodel.FEATURE_NAMES),
        "threshold": round(threshold, 3),
        "init": round(float(np.log(init / (1 - init))), 6),
        "learning_rate": model.learning_rate,
        "trees": trees,
    }


def train(pages: list[dict[str, Any]]) -> dict[str, Any]:
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.model_selection import GroupKFold

    for page in pages:
        page["labels"] = labels(page["blocks"], page["gold"])
    rows = [blockmodel.block_features(p["blocks"], p["link_texts"]) for p in pages]
    features = np.vstack(rows)
    target = np.concatenate([p["labels"] for p in pages])
    weights = np.concatenate([word_weights(p["blocks"]) for p in pages])
    groups = np.concatenate([[i] * len(p["blocks"]) for i, p in enumerate(pages)])
    out_of_fold = np.zeros(len(target))
    for fit, held in GroupKFold(n_splits=3).split(features, target, groups):
        model = GradientBoostingClassifier(random_state=SEED, **PARAMS)
        model.fit(features[fit], target[fit], sample_weight=weights[fit])
        out_of_fold[held] = model.predict_proba(features[held])[:, 1]
    # the threshold is chosen on the article pages: newsflow reads news articles
    articles = [i for i, page in enumerate(pages) if page["article"]]
    starts = np.cumsum([0] + [len(page["blocks"]) for page in pages])
    best, best_f1 = 0.5, -1.0
    for threshold in np.arange(0.3, 0.71, 0.05):
        keeps = [list(out_of_fold[starts[i] : starts[i + 1]] >= threshold) for i in articles]
        f1 = macro_f1([pages[i] for i in articles], keeps)
        print(f"  threshold {threshold:.2f}: out-of-fold macro shingle F1 {f1:.4f} (articles)")
        if f1 > best_f1:
            best, best_f1 = float(threshold), f1
    model = GradientBoostingClassifier(random_state=SEED, **PARAMS)
    model.fit(features, target, sample_weight=weights)
    print(f"{len(pages)} pages, {len(target)} blocks ({target.mean():.2f} article text)")
    chosen = [pages[i] for i in articles]
    every = macro_f1(chosen, [[True] * len(p["blocks"]) for p in chosen])
    oracle = macro_f1(chosen, [[bool(x) for x in p["labels"]] for p in chosen])
    print(f"articles: every block kept {every:.4f}, the gold labels kept {oracle:.4f}")
    print(f"threshold {best:.2f}, out-of-fold {best_f1:.4f}")
    return export(model, best)


def main() -> int:
    global SCORER
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=blockmodel.MODEL_PATH)
    parser.add_argument("--cache", type=Path, help="keep the candidate blocks here (pickle)")
    parser.add_argument("--check", action="store_true", help="compare with the shipped model")
    args = parser.parse_args()
    folder = eval_dir()
    if not (folder / "extract" / TRAIN_CORPUS / "gold.jsonl").is_file():
        print(f"training data not found at {folder}/extract/{TRAIN_CORPUS}")
        return 1
    SCORER, _ = kit_modules(folder)
    data = train(load_pages(folder, args.cache))
    text = json.dumps(data, separators=(",", ":")) + "\n"
    if args.check:
        same = blockmodel.MODEL_PATH.read_text(encoding="utf-8") == text
        print("the shipped model is what this script trains" if same else "MODEL DIFFERS")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
