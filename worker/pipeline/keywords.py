"""Keywords (YAKE on lemmatised text) and coarse topics (a keyword table) for en/uk/ru."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yake

ENRICHER = ("keywords.yake+pymorphy3", "1")

# YAKE is quadratic-ish in distinct candidates; the opening of an article carries its topic
MAX_KEYWORD_CHARS = 20_000


@dataclass(frozen=True)
class Keyword:
    text: str
    score: float  # YAKE score: lower is more relevant


_TOKENS = re.compile(r"[^\W\d_][\w'’ʼ\-]*|\s+|[^\w\s]|\d[\d.,]*")
_BLOCK_SPLIT = re.compile(r"\n[ \t\r]*\n+")
_SENTENCE_CLOSED = re.compile(r"[.!?…:;]\W*$")


@lru_cache(maxsize=2)
def _analyzer(language: str) -> Any:
    import pymorphy3  # loaded on first use: ~0.2 s and 15-20 MB per language

    return pymorphy3.MorphAnalyzer(lang=language)


@lru_cache(maxsize=200_000)
def _lemma(word: str, language: str) -> str:
    if len(word) > 1 and word.isupper():
        return word  # acronyms: pymorphy reads НАТО as a form of "Ната"
    if language in ("uk", "ru"):
        if not re.search(r"[\u0400-\u04ff]", word):
            return word
        lemma: str = _analyzer(language).parse(word)[0].normal_form
        return lemma.capitalize() if word[:1].isupper() else lemma
    if not word[:1].islower():
        return word  # names and sentence starts keep their form: "Landsbergis", "States"
    return _english_singular(word.lower())


def _english_singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")):
        return word[:-1]
    return word


def lemmatise(text: str, language: str) -> str:
    """The text with each word replaced by its dictionary form; blocks (headline, paragraphs)
    joined with ". " so that no keyword runs across them."""
    blocks = [block.strip() for block in _BLOCK_SPLIT.split(text) if block.strip()]
    closed = [b if _SENTENCE_CLOSED.search(b) else b + "." for b in blocks]
    joined = " ".join(closed)
    return "".join(
        _lemma(token, language) if token[:1].isalpha() else token
        for token in _TOKENS.findall(joined)
    )


@lru_cache(maxsize=8)
def _extractor(language: str, top: int) -> Any:
    return yake.KeywordExtractor(lan=language, n=3, dedupLim=0.7, top=top)


def extract_keywords(text: str, language: str, top: int = 10) -> list[Keyword]:
    """The ``top`` keywords of ``text`` in dictionary form ("військовий союз", "Литва")."""
    lang = language if language in ("en", "uk", "ru") else "en"
    lemmatised = lemmatise(text[:MAX_KEYWORD_CHARS], lang)
    if not lemmatised.strip():
        return []
    found = _extractor(lang, top).extract_keywords(lemmatised)
    return [Keyword(phrase, round(float(score), 6)) for phrase, score in found]


# topic -> word beginnings (casefolded); a word counts for a topic when it starts with one
_TOPIC_STEMS: dict[str, tuple[str, ...]] = {
    "defence": (
        "militar",
        "defen",
        "army",
        "armies",
        "troop",
        "soldier",
        "weapon",
        "missile",
        "ammunition",
        "brigade",
        "nato",
        "war",
        "invasion",
        "drone",
        "tank",
        "військов",
        "оборон",
        "армі",
        "зброй",
        "зброя",
        "зброї",
        "зброє",
        "ракет",
        "боєприпас",
        "бригад",
        "нато",
        "війн",
        "вторгн",
        "дрон",
        "солдат",
        "военн",
        "оборон",
        "арми",
        "оружи",
        "ракет",
        "боеприпас",
        "бригад",
        "войн",
        "вторжен",
        "военных",
    ),
    "politics": (
        "politic",
        "minister",
        "president",
        "government",
        "parliament",
        "election",
        "vote",
        "diplomat",
        "alliance",
        "sanction",
        "party",
        "summit",
        "політи",
        "міністр",
        "президент",
        "уряд",
        "парламент",
        "вибор",
        "дипломат",
        "союз",
        "санкці",
        "саміт",
        "партнерств",
        "полити",
        "министр",
        "президент",
        "правительств",
        "парламент",
        "выбор",
        "дипломат",
        "санкци",
        "саммит",
        "партнерств",
    ),
    "economy": (
        "econom",
        "gdp",
        "budget",
        "spending",
        "inflation",
        "tax",
        "market",
        "trade",
        "investment",
        "price",
        "bank",
        "ціни",
        "ціна",
        "цінам",
        "цены",
        "цена",
        "ценам",
        "економ",
        "ввп",
        "бюджет",
        "витрат",
        "інфляц",
        "податк",
        "торгів",
        "інвест",
        "эконом",
        "бюджет",
        "расход",
        "инфляц",
        "налог",
        "торгов",
        "инвест",
    ),
    "energy": (
        "energy",
        "electricit",
        "gas",
        "oil",
        "nuclear",
        "coal",
        "grid",
        "енерг",
        "електро",
        "газ",
        "нафт",
        "атомн",
        "вугіл",
        "энерг",
        "электро",
        "газ",
        "нефт",
        "атомн",
        "уголь",
        "угля",
    ),
    "health": (
        "health",
        "hospital",
        "vaccin",
        "disease",
        "virus",
        "covid",
        "doctor",
        "medic",
        "здоров",
        "лікар",
        "вакцин",
        "хвороб",
        "вірус",
        "медич",
        "здравоохран",
        "больниц",
        "вакцин",
        "болезн",
        "вирус",
        "медицин",
        "врач",
    ),
    "technology": (
        "technolog",
        "software",
        "internet",
        "cyber",
        "digital",
        "технолог",
        "кібер",
        "цифров",
        "інтернет",
        "кибер",
        "интернет",
    ),
    "climate": (
        "climate",
        "emission",
        "environment",
        "pollution",
        "flood",
        "drought",
        "клімат",
        "довкілл",
        "викид",
        "повін",
        "климат",
        "экологи",
        "выброс",
        "наводнен",
    ),
}
_WORDS = re.compile(r"[^\W\d_][\w'’ʼ\-]*")
_STEM_TOPIC = {stem: topic for topic, stems in _TOPIC_STEMS.items() for stem in stems}
# one pass over the text: a word beginning with a table stem (longest stems tried first)
_TOPIC_WORD = re.compile(
    r"(?<![^\W\d_])(?:"
    + "|".join(re.escape(stem) for stem in sorted(_STEM_TOPIC, key=len, reverse=True))
    + ")",
    re.IGNORECASE,
)
# beginnings the table's short stems would wrongly catch: "war" in "warm", "газ" in "газета"
_FALSE_STARTS = ("ward", "warm", "warn", "warsaw", "warrant", "award", "taxi", "gazett", "газет")
MIN_TOPIC_HITS = 2
MAX_TOPICS = 4


def topics(text: str, language: str) -> list[str]:
    """Topics whose table words occur at least twice, most frequent first (at most four).
    One table serves en/uk/ru (``language`` is accepted for a uniform enricher signature)."""
    counts: Counter[str] = Counter()
    for match in _TOPIC_WORD.finditer(text):
        word = _WORDS.match(text, match.start())
        if word is None or word.group(0).casefold().startswith(_FALSE_STARTS):
            continue
        counts[_STEM_TOPIC[match.group(0).casefold()]] += 1
    ranked = sorted(
        (topic for topic, hits in counts.items() if hits >= MIN_TOPIC_HITS),
        key=lambda topic: (-counts[topic], topic),
    )
    return ranked[:MAX_TOPICS]
