"""Canonical forms: a name in the nominative, as the article's language writes it."""

from __future__ import annotations

import itertools
import re
from typing import Any, Final

from worker.pipeline.enrich.entities.keys import person_key, transliterate
from worker.pipeline.enrich.entities.spans import Span
from worker.pipeline.lang.morphology import CASES, GENDERS, NAME_TAGS, agrees, morph_parses
from worker.pipeline.lang.names import is_name_particle
from worker.pipeline.lang.words import WORD

_SPACES: Final = re.compile(r"(\s+)")


def _match_case(original: str, word: str) -> str:
    if original.isupper() and len(original) > 1:
        return original
    if original[:1].isupper():
        return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))
    return word


def _nominative_person(surface: str, language: str) -> list[str]:
    """A person's name in the nominative. Its words agree in case and gender, so they are
    read together ("Олександра Усика" is Олександр Усик, "Урсула фон дер Ляєн" is already
    nominative: not the genitive of a man's name "Урсул"); particles, initials and words
    already in the nominative stay as written ("Біроль", not a plural "Біролі")."""
    words = WORD.findall(surface)
    if language not in ("uk", "ru"):
        return words
    options = [
        () if is_name_particle(word) or word.isupper() else _person_word_parses(word, language)
        for word in words
    ]
    result = []
    for word, choice in zip(words, _agreeing_parses(options), strict=True):
        if choice is None or "nomn" in choice.tag.grammemes:
            result.append(word)
            continue
        inflected = choice.inflect({"nomn"})
        result.append(_match_case(word, inflected.word if inflected else choice.normal_form))
    return result


def _person_word_parses(word: str, language: str) -> tuple[Any, ...]:
    """Singular readings of one word of a name: as a name, surname or patronymic if the
    dictionary has one, else as a noun."""
    parses = morph_parses(word, language)
    named = [p for p in parses if NAME_TAGS & p.tag.grammemes]
    options = named or [p for p in parses if p.tag.POS == "NOUN"]
    return tuple(p for p in options if "plur" not in p.tag.grammemes)


def _agreeing_parses(options: list[tuple[Any, ...]]) -> list[Any]:
    """One reading per word, all in the same case and gender, the nominative first; None
    for a word without readings. Without agreement, each word's first reading."""
    for case, gender in itertools.product(CASES, ("masc", "femn", "neut")):
        picks = [_reading_in(readings, case, gender) for readings in options]
        if all(pick is not None for pick, readings in zip(picks, options, strict=True) if readings):
            return picks
    return [readings[0] if readings else None for readings in options]


def _reading_in(readings: tuple[Any, ...], case: str, gender: str) -> Any:
    """The first reading in the case and gender (or of no gender), or None."""
    return next(
        (
            p
            for p in readings
            if case in p.tag.grammemes
            and (gender in p.tag.grammemes or not GENDERS & p.tag.grammemes)
        ),
        None,
    )


def _nominative_phrase(surface: str, language: str) -> str:
    """Leading adjectives and the first noun in the nominative; the rest as written. The
    noun is read in agreement with its adjectives ("Світового банку" is Світовий банк, not
    the jar "банка"), and the adjectives take the noun's gender ("Всемирный банк")."""
    if language not in ("uk", "ru") or "«" in surface or '"' in surface:
        return surface
    parts = _SPACES.split(surface)
    adjectives: list[tuple[int, tuple[Any, ...]]] = []
    head: tuple[int, tuple[Any, ...]] | None = None
    for index, part in enumerate(parts):
        if not part.strip() or part.isupper() or not WORD.fullmatch(part):
            continue
        parses = morph_parses(part, language)
        adjective = [p for p in parses if p.tag.POS in ("ADJF", "PRTF")]
        noun = [p for p in parses if p.tag.POS == "NOUN"]
        if adjective and parses[0].tag.POS != "NOUN":
            adjectives.append((index, tuple(adjective)))
            continue
        if noun:
            head = (index, tuple(noun))
        break
    choices: dict[int, Any] = {}
    if head is not None:
        index, nouns = head
        agreeing = [n for n in nouns if not adjectives or agrees(adjectives[-1][1], n)]
        choices[index] = (agreeing or nouns)[0]
    for index, readings in adjectives:
        noun_choice = choices.get(head[0]) if head is not None else None
        agreeing = [a for a in readings if noun_choice is None or agrees((a,), noun_choice)]
        choices[index] = (agreeing or readings)[0]
    out = []
    for index, part in enumerate(parts):
        choice = choices.get(index)
        if choice is None:
            out.append(part)
            continue
        inflected = choice.inflect({"nomn"})
        out.append(_match_case(part, inflected.word if inflected else part))
    return "".join(out)


def canonical_form(span: Span, text: str, language: str) -> tuple[str, str, str | None]:
    surface = text[span.start : span.end]
    if span.known is not None:
        return span.known
    if span.type == "PER":
        tokens = _nominative_person(surface, language)
        return " ".join(tokens), person_key(tokens), None
    canonical = _nominative_phrase(surface, language) if span.type in ("LOC", "ORG") else surface
    canonical = " ".join(canonical.split())
    key = f"{span.type.lower()}:{transliterate(canonical)}"
    return canonical, key, None
