"""Ukrainian and Russian morphology (pymorphy3): parses, name tags, agreement. The
analyzers load once per process on first use."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

# pymorphy3's tags for a first name, surname, patronymic
NAME_TAGS: Final = frozenset({"Name", "Surn", "Patr"})


NAME_OR_PLACE_TAGS: Final = NAME_TAGS | {"Geox"}


@lru_cache(maxsize=2)
def analyzer(language: str) -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=language)


@lru_cache(maxsize=50_000)
def _parses_cached(word: str, language: str) -> tuple[Any, ...]:
    return tuple(analyzer(language).parse(word))


def morph_parses(word: str, language: str) -> tuple[Any, ...]:
    return _parses_cached(word, language)


def has_name_tag(word: str, language: str = "uk") -> bool:
    """Whether pymorphy3 can read the word as a first name, surname or patronymic."""
    return any(NAME_TAGS & p.tag.grammemes for p in morph_parses(word, language))


def is_common_word(word: str, language: str = "uk") -> bool:
    """A Ukrainian (Russian) dictionary word that cannot be a name ("Нагадаємо",
    "Міністерство")."""
    morph = analyzer(language)
    if not morph.word_is_known(word.casefold()):
        return False
    return not any(NAME_OR_PLACE_TAGS & p.tag.grammemes for p in morph_parses(word, language))


CASES: Final = ("nomn", "gent", "datv", "accs", "ablt", "loct", "voct")


GENDERS: Final = frozenset({"masc", "femn", "neut"})


def agrees(adjectives: tuple[Any, ...], noun: Any) -> bool:
    """Whether one of the adjective readings agrees with the noun reading: case and
    number, and gender in the singular."""
    grammemes = noun.tag.grammemes
    case = next((c for c in CASES if c in grammemes), None)
    plural = "plur" in grammemes
    gender = GENDERS & grammemes
    for adjective in adjectives:
        other = adjective.tag.grammemes
        if case not in other or plural != ("plur" in other):
            continue
        if plural or not gender or not (GENDERS & other) or gender & other:
            return True
    return False
