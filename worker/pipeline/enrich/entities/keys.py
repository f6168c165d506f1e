"""Entity keys that are the same across languages: transliteration to Latin and a person's
phonetic skeleton."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

_TRANSLIT: Final = dict(
    zip(
        "абвгґдеєёжзиіїйклмнопрстуфхцчшщъыьэюя'’ʼ",
        "a b v g g d e ye yo zh z i i yi y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya"
        " _ _ _".split(" "),
        strict=True,
    )
)


def transliterate(text: str) -> str:
    """Lower-case Latin form of a Ukrainian, Russian or Latin-script name."""
    text = unicodedata.normalize("NFKD", text.casefold().replace("ł", "l"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    out = "".join(_TRANSLIT.get(ch, ch) for ch in text).replace("_", "")
    return re.sub(r"[^a-z0-9]+", " ", out).strip()


def skeleton(word: str) -> str:
    """Phonetic skeleton of one name: Landsbergis, Ландсбергіс, Ландсбергис -> lndsbrgs."""
    latin = transliterate(word).replace(" ", "")
    for old, new in (
        ("shch", "sh"),
        ("dzh", "j"),
        ("kh", "h"),
        ("ph", "f"),
        ("ck", "k"),
        ("w", "v"),
        ("q", "k"),
        ("x", "ks"),
        ("h", "g"),
    ):
        latin = latin.replace(old, new)
    if not latin:
        return ""
    rest = re.sub(r"[aeiouy]", "", latin[1:])
    return re.sub(r"(.)\1+", r"\1", latin[0] + rest)


def person_key(name_tokens: list[str]) -> str:
    """First and last name token, as sorted skeletons: order and script do not matter."""
    tokens = [t for t in name_tokens if skeleton(t)]
    if not tokens:
        return "per:?"
    chosen = {tokens[0], tokens[-1]}
    return "per:" + " ".join(sorted(skeleton(t) for t in chosen))
