"""Personal names: the particles inside them and the tests of whether words are one."""

from __future__ import annotations

from typing import Final

from worker.pipeline.lang.morphology import has_name_tag
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


def is_person_name(surface: str, language: str) -> bool:
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
