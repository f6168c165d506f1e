"""Personal names: the particles inside them and the tests of whether words are one."""

from __future__ import annotations

from typing import Final

from worker.pipeline.lang.months import MONTH_NUMBERS, WEEKDAYS
from worker.pipeline.lang.morphology import has_name_tag
from worker.pipeline.lang.roles import TITLE_WORDS
from worker.pipeline.lang.words import WORD

# Lower-case particles inside a person's name: "Ursula von der Leyen", "Ludwig van
# Beethoven", "Leonardo da Vinci", "Mohammed bin Salman", "Bashar al-Assad"; and their
# Ukrainian/Russian spellings ("Урсула фон дер Ляєн"), which stay as written in the nominative.
NAME_PARTICLES: Final = frozenset(
    "von van der den de da di du del della dos das le la bin ibn ben al el ter ten zu".split()
)


CYRILLIC_NAME_PARTICLES: Final = frozenset(
    "фон ван дер ден де да ді ди дю дель делла дос ла ле бін бин ібн ибн бен аль ель эль "
    "тер тен цу".split()
)


def is_dictionary_name(surface: str, language: str) -> bool:
    """True when every word can be a first name, surname or patronymic (pymorphy3 tags)."""
    words = WORD.findall(surface)
    if not words:
        return False
    for word in words:
        if (len(word) <= 2 and word.endswith(".")) or is_name_particle(word):
            continue
        if not has_name_tag(word, language):
            return False
    return True


def is_name_particle(word: str) -> bool:
    """A name particle, also capitalised at a sentence start ("Von der Leyen said")."""
    folded = word.casefold()
    return folded in NAME_PARTICLES or folded in CYRILLIC_NAME_PARTICLES


_NOT_NAMES = {
    "the", "a", "an", "this", "that", "in", "on", "at", "photo", "фото", "new", "united",
    "north", "south", "east", "west", "saint", "san", "los", "las", "great", "european",
    "national", "state", "white", "red", "black", "ministry", "міністерство", "министерство",
    "armed", "reuters", "getty", "images", "слава", "glory", "україна", "україни", "україні",
    "ukraine", "росія", "россия", "russia", "київ", "києві", "kyiv", "москва", "moscow",
} | set(MONTH_NUMBERS) | WEEKDAYS  # fmt: skip


def looks_like_person_name(text: str, allow_capitals: bool = False) -> bool:
    tokens = text.split()
    if not 2 <= len(tokens) <= 4 or tokens[0].casefold() in _NOT_NAMES:
        return False
    if tokens[0].casefold() in TITLE_WORDS or tokens[-1].casefold() in NAME_PARTICLES:
        return False
    full_words = 0
    for token in tokens:
        if token.casefold() in NAME_PARTICLES:
            continue
        if len(token) == 2 and token[0].isupper() and token[1] == ".":
            continue  # an initial
        letters = token.replace("-", "").replace("'", "").replace("’", "").replace("ʼ", "")
        if not letters.isalpha() or not token[0].isupper():
            return False
        if not allow_capitals and letters.isupper():
            return False
        if token.casefold() in _NOT_NAMES:
            return False
        full_words += 1
    return full_words >= 1 and sum(len(t) > 2 for t in tokens) >= 1


def is_bare_name(line: str) -> bool:
    return looks_like_person_name(line.rstrip("."))
