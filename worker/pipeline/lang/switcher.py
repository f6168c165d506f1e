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


# Codes and names a site's language switcher shows ("ua en ru", "UA | RU | EN", "УКР ENG").
SWITCHER_LABELS = {
    "ua": "uk", "uk": "uk", "ukr": "uk", "укр": "uk", "українська": "uk", "українською": "uk",
    "ukrainian": "uk", "en": "en", "eng": "en", "english": "en", "англ": "en",
    "ru": "ru", "rus": "ru", "рус": "ru", "русский": "ru", "російська": "ru", "russian": "ru",
    "de": "de", "deutsch": "de", "fr": "fr", "pl": "pl", "polski": "pl", "es": "es",
    "it": "it", "be": "be", "by": "be", "kz": "kk", "lt": "lt", "lv": "lv", "et": "et",
    "ro": "ro", "cs": "cs", "sk": "sk", "hu": "hu", "bg": "bg", "ka": "ka", "tr": "tr",
    "pt": "pt", "zh": "zh", "ar": "ar", "he": "he", "ja": "ja", "crh": "crh", "qirim": "crh",
}  # fmt: skip


SWITCHER_SPLIT = re.compile(r"[\s|/·•,]+")


_SWITCHER_PREFIXES = {code[:2] for code in SWITCHER_LABELS}


def language_switcher(line: str) -> list[str] | None:
    """The languages a switcher line like "ua en ru" offers, or None if it is not one."""
    line = line.strip()
    if len(line) > 80 or line[:2].casefold() not in _SWITCHER_PREFIXES:
        return None
    tokens = [token for token in SWITCHER_SPLIT.split(line.casefold()) if token]
    if len(tokens) < 2 or not all(token in SWITCHER_LABELS for token in tokens):
        return None
    return list(dict.fromkeys(SWITCHER_LABELS[token] for token in tokens))
