"""Outlets an article cites: "reports TVP World", "according to Reuters", "передає Укрінформ",
"сообщает «Интерфакс»"."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from newsflow.contract import CitedSourceRecord
from worker.pipeline.article import EnrichedArticle, overlaps
from worker.pipeline.enrich.enricher import Enricher

# cue before the name: "according to Reuters"; cue after the name: "Reuters reported"
_CUES_BEFORE = {
    "en": r"according\s+to|(?:as\s+)?reported\s+by|reports|reported|writes|wrote|citing"
    r"|quoted\s+by|cited\s+by|told",
    "uk": r"(?:як\s+)?(?:передає|передають|повідомляє|повідомляють|повідомило|повідомила"
    r"|повідомив|пише|пишуть|інформує|зазначає)"
    r"|за\s+(?:даними|інформацією|повідомленням|словами)|з\s+посиланням\s+на"
    r"|(?:як\s+)?(?:повідомили|написало|написала|написав)\s+(?:у|в)",
    "ru": r"(?:как\s+)?(?:передает|передаёт|передают|сообщает|сообщают|сообщило|сообщила"
    r"|сообщил|пишет|пишут|информирует)"
    r"|по\s+(?:данным|информации|сообщению|словам)|со\s+ссылкой\s+на"
    r"|(?:как\s+)?(?:сообщили|написало|написала|написал)\s+(?:в|во)",
}
_CUES_AFTER = {
    "en": r"reported|reports|said\s+in\s+a\s+report|wrote|writes",
    "uk": r"повідомляє|повідомляють|повідомило|повідомила|пише|передає|інформує",
    "ru": r"сообщает|сообщают|сообщило|сообщила|пишет|передает|передаёт|информирует",
}

# a name: a phrase in «» or "" (up to 60 characters), or capitalised or all-caps words
# ("TVP World", "The New York Times", "BBC", "Укрінформ"), joined by single spaces
# a dot only inside a token ("N.Y.") so "Укрінформ. Як" stays two sentences
_CAPITALISED = r"(?:[^\W\d_a-zа-яёіїєґ][\w'’ʼ&\-]*(?:\.(?=\w)[\w'’ʼ&\-]*)*|\d+[A-ZА-Я]\w*)"
_NAME = (
    rf"(?:«(?P<{{g}}q1>[^«»\n]{{{{1,60}}}})»|\"(?P<{{g}}q2>[^\"\n]{{{{1,60}}}})\""
    rf"|“(?P<{{g}}q3>[^“”\n]{{{{1,60}}}})”"
    rf"|(?P<{{g}}plain>(?:[Tt]he\s+)?{_CAPITALISED}(?:[ \u00a0]{_CAPITALISED}){{{{0,5}}}}))"
)
# "Українська правда", "Новая газета": a capitalised adjective then a lowercase noun
_ADJECTIVE_END = re.compile(r"(?:ська|цька|зька|на|ва|ая|яя|кая|ная)$")
_LOWER_WORD = re.compile(r"[ \u00a0]([a-zа-яёіїєґ][\w'’ʼ\-]*)")

# capitalised words that are not outlets: sentence-starting function words, pronouns
_NOT_NAMES = frozenset(
    """
    the a an he she it they we i this that there his her their its on in at and but
    він вона воно вони ми я це цей ця там його її їх у в на і та але
    он она оно они мы я это этот эта там его ее её их у в на и но
    """.split()
)
_TRAILING_PUNCTUATION = ".,;:!?)]}»\"”’'"


def _name_pattern(group_prefix: str) -> str:
    return _NAME.format(g=group_prefix)


@lru_cache(maxsize=8)
def _pattern(language: str) -> re.Pattern[str]:
    # only the cues ignore case: names must keep their capital letter
    before = (
        rf"(?<![\w\-])(?P<cue_before>(?i:{_CUES_BEFORE[language]}))[ \u00a0]+"
        rf"{_name_pattern('b')}"
    )
    after = (
        # no comma here: "«найгірші сценарії», передає TVP World" quotes, then cites
        rf"{_name_pattern('a')}[ \u00a0]+"
        rf"(?P<cue_after>(?i:{_CUES_AFTER[language]}))(?![\w\-])"
    )
    return re.compile(rf"{before}|(?<![\w\-]){after}")


def _clean(name: str, start: int) -> tuple[str, int, int]:
    """Drop a lowercase leading "the" and trailing punctuation; keep "The" in "The New York
    Times"."""
    if name.startswith("the ") or name.startswith("the\u00a0"):
        name, start = name[4:], start + 4
    stripped = name.rstrip(_TRAILING_PUNCTUATION + " ")
    return stripped, start, start + len(stripped)


def _names_a_person_found(name: str, person_words: frozenset[str]) -> bool:
    """Every word of ``name`` is a word of a known person's name, allowing for case
    endings ("Терехова" ~ "Терехов")."""
    words = [w.casefold() for w in name.split()]
    return bool(person_words) and all(
        any(w[: max(4, len(w) - 2)] == p[: max(4, len(w) - 2)] for p in person_words) for w in words
    )


def extract_cited_sources(
    text: str,
    language: str,
    persons: Sequence[tuple[int, int]] = (),
    person_names: Iterable[str] = (),
) -> list[CitedSourceRecord]:
    """Outlets named next to a reporting cue, in order of appearance. ``persons``: (start,
    end) of person mentions and ``person_names`` their canonical names (from the entity
    enricher): a name overlapping a person mention, or made of a known person's name words
    ("Terekhov wrote" after "Ihor Terekhov"), is a person speaking, not an outlet."""
    lang = language if language in _CUES_BEFORE else "en"
    person_starts = sorted(persons)
    person_words = frozenset(
        word.casefold() for name in person_names for word in name.split() if len(word) > 2
    )
    found: list[CitedSourceRecord] = []
    for match in _pattern(lang).finditer(text):
        side = "b" if match.group("cue_before") else "a"
        cue = match.group("cue_before") or match.group("cue_after")
        group = next(
            (g for g in (f"{side}q1", f"{side}q2", f"{side}q3", f"{side}plain") if match.group(g)),
            None,
        )
        if group is None:
            continue
        name, start, end = _clean(match.group(group), match.start(group))
        if group.endswith("plain"):
            # the case-insensitive match lets "the" through; the name itself must be capitalised
            if not name or not (name[0].isupper() or name[0].isdigit()):
                continue
            words = name.split()
            if words[0].casefold() in _NOT_NAMES and (len(words) == 1 or words[0] != "The"):
                continue
            last_word = name.split()[-1]
            follower = _LOWER_WORD.match(text, end)
            if (
                lang != "en"
                and len(name.split()) == 1
                and follower
                and _ADJECTIVE_END.search(last_word.casefold())
            ):
                end = follower.end()
                name = text[start:end]
        if not name or overlaps(person_starts, start, end):
            continue
        if group.endswith("plain") and _names_a_person_found(name, person_words):
            continue
        found.append(CitedSourceRecord(name=name, start=start, end=end, cue=" ".join(cue.split())))
    return found


def _apply(article: EnrichedArticle) -> None:
    people = article.mentions("PER")
    person_spans = [(start, end) for start, end, _ in people]
    person_names = {name for _, _, name in people}
    article.cited_sources = extract_cited_sources(
        article.text, str(article.language), person_spans, person_names
    )


ENRICHER = Enricher("sources.rules", "3", _apply, results="cited_sources")
