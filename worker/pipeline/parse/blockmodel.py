"""A learned keep/drop choice for the text blocks of trafilatura's recall-mode extraction.

trafilatura run with favor_recall keeps more of a page than its default mode (bodies split
over several containers, lists of links that are the article), and also more furniture.
A small gradient-boosted tree model, trained on the WCXB training pages
(bench/train_block_model.py, data recipe there), scores each block from cheap features of
its text and of its neighbours; blocks scored below the threshold are dropped. It replaces
hand rules (lines of link text, a cut at an end marker), which are features here instead.

The model is plain JSON (trees as arrays), read with numpy: no learning library at run time.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from worker.pipeline.article import TextBlock

MODEL_PATH = Path(__file__).with_name("block_model.json")

_WORD = re.compile(r"\w+")
# A short line that opens page furniture: related links, sharing, newsletters, copyright.
_FURNITURE = re.compile(
    r"(?:related(?: articles| stories| posts| news| content| coverage| links| topics)?"
    r"|(?:you|that) (?:may|might) (?:also )?(?:like|enjoy|be interested)"
    r"|more (?:news|stories|articles|from|in|on this)|latest (?:news|stories|articles)"
    r"|most (?:read|viewed|popular|shared)|share (?:this|on|the)|follow us|subscribe|sign up"
    r"|newsletter|copyright|all rights reserved|about the author|leave a (?:comment|reply)"
    r"|comments?|tags|e-?mail (?:this|to a friend)|back to top|print(?:able)? (?:this|version)"
    r"|advertisement|sponsored|read more|click here|log ?in|sign in|cookies?"
    r"|читайте (?:також|также)|схожі|похожие|новини по темі|новости по теме|теги|мітки"
    r"|коментарі|комментарии|поділитися|поделиться|підписуйтеся|подписывайтесь|реклама)\b",
    re.IGNORECASE,
)
_KINDS = ("paragraph", "subheading", "quote", "list")

FEATURE_NAMES = (
    "kind_paragraph",
    "kind_subheading",
    "kind_quote",
    "kind_list",
    "table_row",
    "log_words",
    "log_chars",
    "lines",
    "link_line_share",
    "link_word_share",
    "ends_sentence",
    "commas_per_word",
    "periods_per_word",
    "digit_share",
    "upper_start_share",
    "mean_word_length",
    "furniture_start",
    "furniture_seen_before",
    "position",
    "chars_before_share",
    "doc_log_words",
    "doc_blocks",
    "doc_link_word_share",
    "prev_log_words",
    "next_log_words",
    "prev_link_share",
    "next_link_share",
    "long_paragraphs_before_share",
    "long_paragraphs_after_share",
    "words_vs_doc_median",
    "has_symbol",
)


def _squash(text: str) -> str:
    return " ".join(text.split()).casefold()


def _bare(text: str) -> str:
    return " ".join(text.replace("|", " ").split()).strip("-*•:.!?()[]«»\"' ")


def _link_shares(text: str, link_texts: set[str]) -> tuple[float, float]:
    """(share of lines that are a link's whole text, share of words in such lines)."""
    lines = [line for line in text.split("\n") if line.strip()]
    if not lines:
        return 0.0, 0.0
    linked_lines = linked_words = words = 0
    for line in lines:
        count = len(_WORD.findall(line))
        words += count
        if _squash(line.lstrip("-*• ")) in link_texts:
            linked_lines += 1
            linked_words += count
    return linked_lines / len(lines), (linked_words / words if words else 0.0)


def block_features(blocks: Sequence[TextBlock], link_texts: set[str]) -> np.ndarray:
    """One row of FEATURE_NAMES per block."""
    count = len(blocks)
    texts = [block.text for block in blocks]
    words = [len(_WORD.findall(text)) for text in texts]
    chars = [len(text) for text in texts]
    links = [_link_shares(text, link_texts) for text in texts]
    total_words = sum(words) or 1
    total_chars = sum(chars) or 1
    doc_link = sum(w * share for w, (_, share) in zip(words, links, strict=True)) / total_words
    long_flags = [
        block.kind == "paragraph" and w >= 25 and share < 0.5
        for block, w, (_, share) in zip(blocks, words, links, strict=True)
    ]
    total_long = sum(long_flags) or 1
    median_words = float(np.median(words)) if words else 1.0
    rows = np.zeros((count, len(FEATURE_NAMES)), dtype=np.float64)
    chars_before = long_before = 0
    furniture_seen = False
    for index, block in enumerate(blocks):
        text = texts[index]
        tokens = _WORD.findall(text)
        bare = _bare(text)
        stripped = text.rstrip()
        furniture = bool(_FURNITURE.match(bare)) and words[index] <= 12
        n = max(len(tokens), 1)
        row = rows[index]
        for position, kind in enumerate(_KINDS):
            row[position] = float(block.kind == kind)
        row[4] = float(text.lstrip().startswith("|"))
        row[5] = math.log1p(words[index])
        row[6] = math.log1p(chars[index])
        row[7] = text.count("\n") + 1
        row[8], row[9] = links[index]
        row[10] = float(stripped.endswith((".", "!", "?", '"', "”", "»", ":", ";")))
        row[11] = text.count(",") / n
        row[12] = text.count(".") / n
        row[13] = sum(t.isdigit() for t in tokens) / n
        row[14] = sum(t[0].isupper() for t in tokens) / n
        row[15] = sum(len(t) for t in tokens) / n
        row[16] = float(furniture)
        row[17] = float(furniture_seen)
        row[18] = index / count
        row[19] = chars_before / total_chars
        row[20] = math.log1p(total_words)
        row[21] = math.log1p(count)
        row[22] = doc_link
        row[23] = math.log1p(words[index - 1]) if index else -1.0
        row[24] = math.log1p(words[index + 1]) if index + 1 < count else -1.0
        row[25] = links[index - 1][1] if index else -1.0
        row[26] = links[index + 1][1] if index + 1 < count else -1.0
        row[27] = long_before / total_long
        row[28] = (sum(long_flags) - long_before - long_flags[index]) / total_long
        row[29] = words[index] / (median_words or 1.0)
        row[30] = float(any(s in text for s in ("©", "@", "http", "»", "›", "|")))
        chars_before += chars[index]
        long_before += long_flags[index]
        furniture_seen = furniture_seen or furniture
    return rows


class BlockModel:
    """Gradient-boosted trees read from JSON: score = sigmoid(init + rate * sum of leaves)."""

    def __init__(self, data: dict[str, Any]) -> None:
        if tuple(data["features"]) != FEATURE_NAMES:
            raise ValueError("the block model was trained on other features")
        self.threshold = float(data["threshold"])
        self.init = float(data["init"])
        self.rate = float(data["learning_rate"])
        self.trees = [
            (
                np.asarray(tree["feature"], dtype=np.int64),
                np.asarray(tree["threshold"], dtype=np.float64),
                np.asarray(tree["left"], dtype=np.int64),
                np.asarray(tree["right"], dtype=np.int64),
                np.asarray(tree["value"], dtype=np.float64),
            )
            for tree in data["trees"]
        ]

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """The probability that each row's block is article text."""
        total = np.full(len(rows), self.init)
        every = np.arange(len(rows))
        for feature, threshold, left, right, value in self.trees:
            node = np.zeros(len(rows), dtype=np.int64)
            while True:
                inner = left[node] >= 0
                if not inner.any():
                    break
                at = node[inner]
                goes_left = rows[every[inner], feature[at]] <= threshold[at]
                node[inner] = np.where(goes_left, left[at], right[at])
            total += self.rate * value[node]
        return 1.0 / (1.0 + np.exp(-total))

    def keep(self, blocks: Sequence[TextBlock], link_texts: set[str]) -> list[bool]:
        if not blocks:
            return []
        scores = self.scores(block_features(blocks, link_texts))
        return [bool(score >= self.threshold) for score in scores]


@cache
def shipped_model() -> BlockModel:
    return BlockModel(json.loads(MODEL_PATH.read_text(encoding="utf-8")))
