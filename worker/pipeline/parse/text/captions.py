"""Photo captions: the caption text, its credit, and the people it shows with their role."""

from __future__ import annotations

import re

from worker.pipeline.article import ImageRef
from worker.pipeline.lang.names import looks_like_person_name
from worker.pipeline.lang.roles import TITLE_WORDS
from worker.pipeline.parse.text.bylines import AUTHOR_SEPARATORS
from worker.pipeline.parse.text.lines import is_headline_like

_CAPTION_LABEL = (
    r"(?:photo(?:graph)?|image|picture|pic|illustration|screenshot|collage|"
    r"фото(?:графія|графия)?|зображення|изображение|ілюстрація|иллюстрация|світлина|"
    r"скриншот|колаж|коллаж)"
)


_PICTURE_WORDS = (
    "photo", "image", "picture", "pic", "illustr", "screenshot", "collage", "фото", "зображ",
    "изображ", "ілюстр", "иллюстр", "світлин", "скриншот", "колаж", "коллаж",
)  # fmt: skip


_CAPTION = re.compile(
    rf"^{_CAPTION_LABEL}(?:\s+(?:by|credit))?\s*(?:[:：]|\s[—–-]\s)\s*|^photo by\s+",
    re.IGNORECASE,
)


_ILLUSTRATIVE = re.compile(
    r"^(?:фото|photo|зображення)\s+(?:ілюстративне|иллюстративное|illustrative)\.?$|"
    r"^(?:ілюстративне фото|иллюстративное фото|illustrative (?:photo|image))\.?$|"
    r"^(?:фото|photo)\s+(?:з|із|из|from)\s+(?:відкритих|открытых|open|соцмереж|соцсетей|social)",
    re.IGNORECASE,
)


# "Zelensky in Kyiv. Photo: Reuters", "… | Фото: УНІАН", "… (Фото: УНІАН)"
_TRAILING_CAPTION_LABEL = re.compile(
    rf"(?:[.|/]\s+|\s[—–-]\s+|\s\(){_CAPTION_LABEL}\s*[:：]\s*", re.IGNORECASE
)


# Agency credit glued to a caption: "(AP Photo/Efrem Lukatsky)", "REUTERS/Gleb Garanich"
_AGENCY_CREDIT = re.compile(
    r"(?:\(([^()]*\b(?:photo|фото)\b[^()]*)\)|"
    r"\b((?:REUTERS|AFP|AP|EPA(?:-EFE)?|ANADOLU|UPI)/[^/()]{2,60}))\s*\.?$",
    re.IGNORECASE,
)


# Case-sensitive: "… published a photo: …" in prose is no caption.
_MID_LINE_CAPTION_LABEL = re.compile(
    r"\s(?=(?:Photo|Image|Illustration|Фото|Ілюстрація|Иллюстрация|Світлина)\s*:)"
)


_PARENTHESISED_CREDIT = re.compile(r"\(([^()]{2,80})\)\s*\.?$")


_CREDIT_LABEL = re.compile(rf"^(?:{_CAPTION_LABEL}|credit)\s*[:：]?\s*", re.IGNORECASE)


_SOURCE_LIKE = re.compile(
    r"/|@|\w\.(?:com|ua|ru|org|net|gov)\b|^(?:facebook|telegram|instagram|twitter|x)\b|"
    r"press service|пресслужб|пресс-служб|прес-служб|офіс|офис|office|архів|архив|archive|"
    r"getty|reuters|associated press|\bafp\b|\bepa\b|уніан|униан|укрінформ|укринформ|"
    r"ріа|риа|тасс|інтерфакс|интерфакс|shutterstock|depositphotos|unsplash|pexels",
    re.IGNORECASE,
)


def split_caption(text: str) -> ImageRef:
    """An image caption line as an image: caption, credit, the people shown and their role.
    "Photo: Gabrielius Landsbergis, Minister of Foreign Affairs of Lithuania (Getty Images)"
    -> caption "Gabrielius Landsbergis, Minister of …", credit "Getty Images", people
    ["Gabrielius Landsbergis"], role "Minister of Foreign Affairs of Lithuania"."""
    text = text.strip()
    if _ILLUSTRATIVE.match(text):
        return ImageRef(caption=None)
    label = _CAPTION.match(text)
    if label:
        caption, credit = _split_credit(text[label.end() :], labelled=True)
    else:
        trailing = _TRAILING_CAPTION_LABEL.search(text)
        if trailing:
            caption = text[: trailing.start()].strip()
            credit = _clean_credit(text[trailing.end() :].rstrip(")"))
        else:
            caption, credit = _split_credit(text, labelled=False)
    caption = caption.strip().rstrip(",;").strip() if caption else None
    people, role = _people_and_role(caption) if caption else ([], None)
    return ImageRef(caption=caption or None, credit=credit or None, people=people, role=role)


def is_caption(line: str) -> bool:
    if len(line.split()) > 60:
        return False
    folded = line.casefold()
    if not any(word in folded for word in _PICTURE_WORDS) and "/" not in line:
        return False  # most lines: no caption pattern can match, skip them all
    if _CAPTION.match(line) or _ILLUSTRATIVE.match(line):
        return True
    trailing = _TRAILING_CAPTION_LABEL.search(line)
    if trailing and len(line[trailing.end() :].split()) <= 8:
        return True
    if alt_text_and_caption(line)[0]:
        return True
    return bool(_AGENCY_CREDIT.search(line)) and len(line.split()) <= 50


def _split_credit(rest: str, labelled: bool) -> tuple[str | None, str | None]:
    """Caption text and credit from what follows a caption label (or a whole caption)."""
    rest = rest.strip()
    agency = _AGENCY_CREDIT.search(rest)
    if agency:
        credit = _clean_credit(agency.group(1) or agency.group(2))
        return rest[: agency.start()].strip(), credit
    parenthesised = _PARENTHESISED_CREDIT.search(rest)
    if parenthesised and parenthesised.start() > 0:
        return rest[: parenthesised.start()].strip(), _clean_credit(parenthesised.group(1))
    if labelled and _looks_like_credit(rest):
        return None, _clean_credit(rest)
    if " / " in rest:
        caption, _, credit = rest.rpartition(" / ")
        if len(credit.split()) <= 6:
            return caption, _clean_credit(credit)
    return rest, None


def _looks_like_credit(text: str) -> bool:
    """After "Фото:", a short name without a comma ("Reuters", "УНІАН", "РИА Новости /
    Алексей Никольский") is who took or supplied the picture; a description is a caption."""
    words = len(text.split())
    if words <= 5 and _SOURCE_LIKE.search(text):
        return True
    return "," not in text and words <= 4


def _clean_credit(credit: str) -> str:
    return _CREDIT_LABEL.sub("", credit.strip()).strip(" .")


def strip_title_prefix(line: str, title: str | None) -> str | None:
    """The caption after a repeated headline, or None when the line does not start with it."""
    if not title:
        return None
    normalised = " ".join(title.split())
    if len(line) > len(normalised) and line.casefold().startswith(normalised.casefold()):
        rest = line[len(normalised) :].strip()
        if _CAPTION.match(rest) or _ILLUSTRATIVE.match(rest):
            return rest
    return None


def alt_text_and_caption(line: str) -> tuple[str | None, str]:
    """ "<alt text> Photo: …": scraped pages often put an image's alt text (usually the
    headline) right before its caption."""
    match = _MID_LINE_CAPTION_LABEL.search(line[:400])
    if not match:
        return None, line
    alt_text, caption = line[: match.start()].strip(), line[match.end() :]
    if len(alt_text.split()) < 4 or not is_headline_like(alt_text) or len(caption.split()) > 30:
        return None, line
    return alt_text, caption


def _people_and_role(caption: str) -> tuple[list[str], str | None]:
    """ "NAME, ROLE", "ROLE NAME", "NAME and NAME" or a bare name; otherwise nobody."""
    for separator in (", ", " — ", " – ", " - "):
        head, found, tail = caption.partition(separator)
        if found:
            names = _names(head)
            if names:
                tail = tail.strip().rstrip(".")
                is_role = len(tail.split()) <= 15 and "." not in tail
                return names, tail if is_role else None
            break
    names = _names(caption.rstrip("."))
    if names:
        return names, None
    words = caption.rstrip(".").split()
    if len(words) >= 3 and words[0].casefold() in TITLE_WORDS:
        # "President of Ukraine Volodymyr Zelensky": the name is the last two words.
        take = 3 if len(words) >= 4 and words[-3].endswith(".") else 2
        name = " ".join(words[-take:])
        if looks_like_person_name(name):
            return [name], " ".join(words[:-take])
    return [], None


def _names(text: str) -> list[str]:
    parts = [part.strip() for part in AUTHOR_SEPARATORS.split(text) if part.strip()]
    if parts and all(looks_like_person_name(part) for part in parts):
        return parts
    return []
