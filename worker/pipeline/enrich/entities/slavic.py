"""Ukrainian and Russian spans: natasha (slovnet) on razdel-compatible tokens, the
gazetteer, and rules (legal-form companies, quoted organisations, institutions,
regions); Ukrainian spans re-typed with pymorphy3's name tags."""

from __future__ import annotations

import re
from typing import Any, Final, NamedTuple

from worker.pipeline.enrich.entities import gazetteer, models
from worker.pipeline.enrich.entities.gazetteer import (
    common_word_keys,
    gazetteer_index,
    gazetteer_lookup,
    lookup_forms,
    may_start_name,
    word_options,
)
from worker.pipeline.enrich.entities.models import natasha_tagger
from worker.pipeline.enrich.entities.spans import Span, at_sentence_start, is_quoted, opens_sentence
from worker.pipeline.lang.morphology import analyzer, has_name_tag, is_common_word, morph_parses
from worker.pipeline.lang.names import is_dictionary_name, is_name_particle
from worker.pipeline.lang.words import WORD

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


_CONJUNCTION: Final = re.compile(r"( (?:і|та|й|и|з|зі|із|від|до|для|with|and) |, )")


_CONJUNCTION_PIECE: Final = re.compile(r"( \w+ |, )")


_NATASHA_GLUE: Final = re.compile(r"[\n()]")


# razdel's tokenizer (what natasha's NER was trained on), re-implemented in one pass over
# its atoms: razdel builds a split object per atom pair and runs its rules as objects,
# a third of natasha's time. Same atoms, same rules, same tokens (checked against razdel in
# tests/unit/worker/pipeline/enrich/test_entities.py).
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
    NER_PIECE_TOKENS tokens (see models.pieces)."""
    from slovnet.bio import bio_spans

    tokens = _tokenize(text)
    tags: list[str] = []
    for first, last in models.pieces([token.start for token in tokens], text):
        tags.extend(_natasha_tags([token.text for token in tokens[first:last]]))
    return [(span.start, span.stop, span.type) for span in bio_spans(tokens, tags)]


def _natasha_tags(words: list[str]) -> list[str]:
    """natasha's BIO tag of each word of one piece."""
    infer = natasha_tagger().infer
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


def natasha_spans(text: str) -> list[Span]:
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
                spans.append(Span(offset, offset + len(stripped), kind))
            position += len(piece) + 1
    return spans


def gazetteer_spans(text: str, language: str) -> list[Span]:
    """Every known place/organisation name in the text, in any case form."""
    index = gazetteer_index(language)
    words = list(WORD.finditer(text))
    spans: list[Span] = []
    covered_until = -1
    for i, first in enumerate(words):
        if first.start() < covered_until or not _CAPITALISED.match(first.group()):
            continue
        if not may_start_name(first.group(), language):
            continue
        for size in range(min(_MAX_WINDOW, len(words) - i), 0, -1):
            window = words[i : i + size]
            gaps = [text[a.end() : b.start()] for a, b in zip(window, window[1:], strict=False)]
            if any(gap not in (" ", "-") for gap in gaps):
                continue
            start, end = window[0].start(), window[-1].end()
            surface = text[start:end]
            hit = next((index[f] for f in lookup_forms(surface, language) if f in index), None)
            if hit is None:
                continue
            # "US" inside "US$" or a single capitalised common word would be noise
            if language == "en" and size == 1 and surface.isupper() and len(surface) <= 2:
                continue
            kind, canonical, key, code = hit
            # a name that is also an everyday word ("Дія", action) opening a sentence is
            # the word, unless quoted
            if size == 1 and key in common_word_keys(language) and opens_sentence(text, start, end):
                continue
            spans.append(Span(start, end, kind, (canonical, key, code)))
            covered_until = end
            break
    return spans


def rule_spans(text: str, language: str) -> list[Span]:
    spans = [Span(m.start(), m.end(), "ORG") for m in _LEGAL_ORG.finditer(text)]
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
            spans.append(Span(m.start(), m.end(), "ORG"))
    spans.extend(_quoted_org_spans(text, language))
    region = _UK_REGION if language == "uk" else _RU_REGION
    spans.extend(Span(m.start(), m.end(), "LOC") for m in region.finditer(text))
    if language == "uk":
        spans.extend(
            Span(m.start(), m.end(), "ORG")
            for m in _ACRONYM.finditer(text)
            if m.group() not in _NOT_NAME_ACRONYMS
        )
        spans.extend(_institution_spans(text))
        spans.extend(_name_pair_spans(text))
    return spans


def _name_pair_spans(text: str) -> list[Span]:
    """A first name (pymorphy3's Name tag) and a capitalised surname after it (Surn tag, or
    a word the dictionary does not know): "Єнс Столтенберг", "Ігор Терехов", which the
    Russian model misses in Ukrainian text."""
    spans = []
    for m in _CAPITALISED_PAIR.finditer(text):
        first, second = m.group(1), m.group(2)
        if not any("Name" in p.tag.grammemes for p in morph_parses(first, "uk")):
            continue
        if any("Surn" in p.tag.grammemes for p in morph_parses(second, "uk")) or not analyzer(
            "uk"
        ).word_is_known(second.casefold()):
            spans.append(Span(m.start(1), m.start(1) + len(first) + 1 + len(second), "PER"))
    return spans


def _quoted_org_spans(text: str, language: str) -> list[Span]:
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
        if before is not None and set(word_options(before.group(1), language)) & nouns:
            names.add(name)
    return [Span(m.start(1), m.end(1), "ORG") for m in quotes if m.group(1) in names]


def _institution_spans(text: str) -> list[Span]:
    """Ukrainian institution names: capitalised adjectives + an institution noun, then
    genitive words and a capitalised genitive place ("Господарського суду Київської
    області", "Партії регіонів", "Міністерство доходів і зборів України")."""
    words = list(WORD.finditer(text))
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
            spans.append(Span(words[i].start(), words[end_word].end(), "ORG", None))
        i = end_word + 1
    return spans


def _joined(text: str, left: re.Match[str], right: re.Match[str], check: bool) -> bool:
    return not check or text[left.end() : right.start()] == " "


def _pos_is(word: str, pos: str) -> bool:
    parses = morph_parses(word, "uk")
    return bool(parses) and parses[0].tag.POS in (pos, "PRTF" if pos == "ADJF" else pos)


def _case_is(word: str, case: str) -> bool:
    return any(case in p.tag.grammemes for p in morph_parses(word, "uk"))


def _lemma_in(word: str, lemmas: frozenset[str]) -> bool:
    return any(p.normal_form.replace("’", "'") in lemmas for p in morph_parses(word, "uk")[:3])


def _split_conjunctions(text: str, spans: list[Span]) -> list[Span]:
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
                result.append(Span(offset, offset + len(piece), span.type))
            offset += len(piece)
    return result


def ukrainian_spans(text: str) -> list[Span]:
    spans = []
    for span in _split_conjunctions(text, natasha_spans(text)):
        surface = text[span.start : span.end]
        words = WORD.findall(surface)
        # "Литви Габріеліус Ландсбергіс": a place glued before a person's name;
        # "Президентка Єврокомісії Урсула фон дер Ляєн": a title and an organisation
        while span.type == "PER" and len(words) >= 2 and any(map(has_name_tag, words[1:])):
            lead = gazetteer_lookup(words[0], "uk")
            lead_offset = surface.index(words[0])
            lead_start = span.start + lead_offset
            # a common word opening the sentence is a title, not a first name (which is
            # often a dictionary word without a name tag: "Володимир")
            if lead is None and (
                is_name_particle(words[0])
                or not words[0][:1].isupper()
                or not is_common_word(words[0])
                or not at_sentence_start(text, lead_start)
            ):
                break
            if lead is not None:
                spans.append(
                    Span(
                        lead_start, lead_start + len(words[0]), lead[0], (lead[1], lead[2], lead[3])
                    )
                )
            cut = surface.index(words[1], lead_offset + len(words[0]))
            span = Span(span.start + cut, span.end, "PER")
            surface = text[span.start : span.end]
            words = words[1:]
        # "Уряд Литви": a common noun glued before a known place
        if len(words) == 2 and is_common_word(words[0]):
            tail = gazetteer_lookup(words[1], "uk")
            if tail is not None:
                start = span.start + surface.rindex(words[1])
                spans.append(Span(start, span.end, tail[0], (tail[1], tail[2], tail[3])))
                continue
        if (
            len(words) == 1
            and not words[0].isupper()
            and is_common_word(words[0])
            and not is_quoted(text, span.start, span.end)
        ):
            continue  # "Нагадаємо"; but «Укренерго» in quotes is a name
        known = gazetteer_lookup(surface, "uk")
        if known is not None:
            span.type, span.known = known[0], (known[1], known[2], known[3])
        elif span.type == "PER" and _looks_like_place(surface):
            span.type = "LOC"
        elif span.type == "PER" and len(words) > 1 and not is_dictionary_name(surface, "uk"):
            # "Північної Європи": no name/surname tags, ends in a geographic noun
            if gazetteer_lookup(words[-1], "uk") is not None or any(
                "Geox" in p.tag.grammemes for p in morph_parses(words[-1], "uk")
            ):
                span.type = "LOC"
        elif span.type in ("LOC", "ORG") and is_dictionary_name(surface, "uk"):
            span.type = "PER"
        spans.append(span)
    return spans


def _looks_like_place(surface: str) -> bool:
    words = WORD.findall(surface)
    if len(words) != 1:
        return False
    return not has_name_tag(words[0]) and any(
        "Geox" in p.tag.grammemes for p in morph_parses(words[0], "uk")
    )
