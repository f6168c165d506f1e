"""Run every stage once on a small article, so lazy imports and models load at start-up
instead of on the first submission."""

import gc

from newsflow.contract import Submission
from worker.pipeline.enrich import enrich
from worker.pipeline.enrich.entities import load_models
from worker.pipeline.parse import parse

_SAMPLE_TEXT = "Warm-up title\n\nThe pipeline reads this paragraph once at start-up."
_SAMPLE_HTML = (
    "<html><head><title>Warm-up</title></head><body><article>"
    "<p>The pipeline reads this paragraph once at start-up, to load the HTML parser.</p>"
    "</article></body></html>"
)


def warm_up() -> None:
    load_models()  # spaCy, natasha, pymorphy3: seconds to load, so once, before the fork
    for submission in (
        Submission(source="warm-up", text=_SAMPLE_TEXT),
        Submission(source="warm-up", html=_SAMPLE_HTML),
    ):
        try:
            enrich(parse(submission))
        except ValueError:
            pass  # a parser that finds nothing in the sample has still loaded
    # The models are ~150,000 long-lived objects: a full collection walks them all (~0.1 s,
    # paid by whichever task triggers it). Frozen, the collector skips them, and forked
    # workers do not touch (copy) their pages when it runs.
    gc.collect()
    gc.freeze()
