"""Language-switcher labels that sites leave in the text ("ua en ru", "UA | RU | EN")."""

from __future__ import annotations

import re
from typing import Final

# Language-switcher labels that sites leave in the text ("UA | RU | EN"): neither entities
# nor keywords. A run of two or more language codes with one of SWITCHER_CODES in it is a
# switcher as a whole ("UA RU EN DE").
SWITCHER_CODES: Final = frozenset("en eng ua ukr ru rus укр рус".split())


_LANGUAGE_CODES: Final = (
    "en|eng|ua|ukr|uk|ru|rus|de|deu|ger|pl|pol|fr|fra|es|esp|it|ita|pt|lt|lv|et|ee|ro|cs|cz|"
    "sk|hu|bg|by|be|kz|ka|ge|tr|ar|he|zh|cn|ja|jp|ko|nl|sv|fi|da|no|укр|рус|англ|бел|каз"
)


LANGUAGE_SWITCHER: Final = re.compile(
    rf"(?<![\w.])(?:(?:{_LANGUAGE_CODES})(?:[ \t]*[|/·•][ \t]*|[ \t]+))+(?:{_LANGUAGE_CODES})"
    r"(?![\w.])",
    re.IGNORECASE,
)


SWITCHER_CORE: Final = re.compile(r"(?<!\w)(?:en|eng|ua|ukr|ru|rus|укр|рус)(?!\w)", re.IGNORECASE)


def is_language_switcher(surface: str) -> bool:
    """Whether the text is only language codes, one of them a switcher's ("RU UA EN")."""
    stripped = surface.strip()
    if stripped.casefold() in SWITCHER_CODES:
        return True
    return LANGUAGE_SWITCHER.fullmatch(stripped) is not None and bool(
        SWITCHER_CORE.search(stripped)
    )
