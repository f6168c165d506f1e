"""In-process stage costs, models loaded: parse and enrich per language (bench/stages.py)
and HTML parse rate next to bare trafilatura on the same pages.

    .venv/bin/python bench/stages.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# as `newsflow worker` runs the pipeline: one BLAS/OpenMP thread per process, so the costs
# are what a worker process pays (set before numpy loads)
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newsflow.contract import Submission  # noqa: E402

SEED_TEXT = (ROOT / "seeds" / "000_9315569b376cac04.txt").read_text()


def median_of(runs: list[float]) -> float:
    return round(statistics.median(runs), 4)


SEEDS_BY_LANGUAGE = {
    "en": SEED_TEXT,
    "uk": (ROOT / "tests" / "fixtures" / "enrich" / "seed_uk.txt").read_text(),
    "ru": (ROOT / "tests" / "fixtures" / "enrich" / "seed_ru.txt").read_text(),
}
LONG_ARTICLE_WORDS = 800


def long_article(language: str, words: int = LONG_ARTICLE_WORDS) -> str:
    """The seed followed by paragraphs of a second story in the same language
    (tests/fixtures/enrich/grid_<language>.txt) until it has ``words`` words."""
    text = SEEDS_BY_LANGUAGE[language].rstrip()
    extra = (ROOT / "tests" / "fixtures" / "enrich" / f"grid_{language}.txt").read_text()
    for paragraph in extra.split("\n\n")[1:]:  # its headline would be a second title
        if len(text.split()) >= words:
            break
        text += "\n\n" + paragraph.strip()
    return text


def stage_costs() -> dict[str, float]:
    """Median milliseconds of parse and of enrich (every enricher), in this process, models
    loaded: on the seed of each language, and on an article of about 800 words (wall
    clock, and CPU time of this process, which other processes on the machine disturb
    less)."""
    from worker.pipeline.enrich import enrich
    from worker.pipeline.enrich.entities import load_models
    from worker.pipeline.parse import parse

    load_models()
    costs: dict[str, float] = {}
    for language, text in SEEDS_BY_LANGUAGE.items():
        submission = Submission(source="bench", text=text)
        enrich(parse(submission))  # warm
        parse_ms, enrich_ms = [], []
        for _ in range(30):
            start = time.perf_counter()
            parsed = parse(submission)
            middle = time.perf_counter()
            enrich(parsed)
            parse_ms.append((middle - start) * 1000)
            enrich_ms.append((time.perf_counter() - middle) * 1000)
        costs[f"parse_ms_{language}"] = median_of(parse_ms)
        costs[f"enrich_ms_{language}"] = median_of(enrich_ms)
    for language in SEEDS_BY_LANGUAGE:
        parsed = parse(Submission(source="bench", text=long_article(language)))
        costs[f"words_{language}_long"] = len(parsed.body.split())
        enrich(parsed)  # warm
        wall_ms, cpu_ms = [], []
        for _ in range(30):
            wall, cpu = time.perf_counter(), time.process_time()
            enrich(parsed)
            cpu_ms.append((time.process_time() - cpu) * 1000)
            wall_ms.append((time.perf_counter() - wall) * 1000)
        costs[f"enrich_ms_{language}_{LONG_ARTICLE_WORDS}w"] = median_of(wall_ms)
        costs[f"enrich_cpu_ms_{language}_{LONG_ARTICLE_WORDS}w"] = median_of(cpu_ms)
    return costs


def parse_rates() -> dict[str, float]:
    """Articles parsed per second on one core: our plain-text parser on the seed, and our
    HTML parser next to bare trafilatura on the same pages (the wcxb dev pages when
    ../shared/eval is there, else our HTML fixtures), per second of CPU time."""
    import trafilatura

    from worker.pipeline.parse.html import parse_html
    from worker.pipeline.parse.text import parse_text

    corpus = ROOT.parent / "shared" / "eval" / "extract" / "wcxb" / "html"
    paths = sorted(corpus.glob("*.html"))[:40] or sorted(
        (ROOT / "tests" / "fixtures" / "html").glob("*_article.html")
    )
    pages = [path.read_text(errors="replace") for path in paths]

    def rate(function: Callable[[], object], count: int) -> float:
        start = time.perf_counter()
        function()
        return count / (time.perf_counter() - start)

    def parse_ours(page: str) -> None:
        try:
            parse_html(page)
        except ValueError:
            pass  # a page without an article still costs its parse

    def parse_bare(page: str) -> None:
        # as the eval kit's baseline runs it: text and metadata (title, author, date)
        trafilatura.bare_extraction(
            page, with_metadata=True, include_comments=False, include_tables=True
        )

    # page by page, alternating which goes first: whichever parses a page second finds
    # lxml's and trafilatura's caches warm. CPU time of this thread, not wall time: on a
    # machine shared with other work, time spent waiting for a core is not parsing.
    functions = {"ours": parse_ours, "bare": parse_bare}
    for function in functions.values():  # one-time set-up (justext stoplists, ...) untimed
        function(pages[0])
    seconds = {"ours": 0.0, "bare": 0.0}
    for page in pages:
        for order in (("ours", "bare"), ("bare", "ours")):
            for name in order:
                start = time.thread_time()
                functions[name](page)
                seconds[name] += time.thread_time() - start
    ours_rate = 2 * len(pages) / seconds["ours"]
    bare_rate = 2 * len(pages) / seconds["bare"]
    text_rate = rate(lambda: [parse_text(SEED_TEXT) for _ in range(500)], 500)
    return {
        "text_per_s": text_rate,
        "html_ours_per_s": ours_rate,
        "html_trafilatura_per_s": bare_rate,
        "html_ours_cost_ratio": bare_rate / ours_rate,
    }


if __name__ == "__main__":
    for name, value in {**stage_costs(), **parse_rates()}.items():
        print(f"{name:<32} {value:>10.2f}")
