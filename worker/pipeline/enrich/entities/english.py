"""English spans: spaCy's, with list splitting, name particles and organisations re-typed
by the common noun next to them."""

from __future__ import annotations

import re
from typing import Final

from worker.pipeline.enrich.entities import models
from worker.pipeline.enrich.entities.gazetteer import gazetteer_lookup
from worker.pipeline.enrich.entities.models import spacy_pipeline
from worker.pipeline.enrich.entities.spans import Span, common_word_at_sentence_start
from worker.pipeline.lang.names import NAME_PARTICLES

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


_PARTICLE_TAIL: Final = re.compile(
    r"(?:[ \t]+(?:" + "|".join(sorted(NAME_PARTICLES, key=len, reverse=True)) + r"))+"
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


# the lower-case word just before a span and just after it ("operator Ukrenergo", "Diia app")
_EN_WORD_BEFORE: Final = re.compile(r"([a-z][a-z'-]*)\s+$")


_EN_WORD_AFTER: Final = re.compile(r"(?:'s|’s)?\s+([a-z][a-z-]*)")


_LIST_SEPARATOR: Final = re.compile(r"(, | and | і | та | и )")


def _spacy_spans(text: str) -> list[Span]:
    nlp = spacy_pipeline()
    # Upper-case headlines confuse the cased model; title-case them (same length, same offsets).
    lines = text.split("\n")
    restored = "\n".join(
        line.title() if _mostly_upper(line) and len(line.title()) == len(line) else line
        for line in lines
    )
    doc = nlp.make_doc(restored)
    ner = nlp.get_pipe("ner")  # the only component: ner(make_doc(text)) is nlp(text)
    found: list[tuple[int, int, str]] = []
    for first, last in models.pieces([token.idx for token in doc], restored):
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
            spans.append(Span(start, end, label))
    return spans


def _mostly_upper(line: str) -> bool:
    letters = [ch for ch in line if ch.isalpha()]
    return len(letters) >= 8 and sum(ch.isupper() for ch in letters) / len(letters) > 0.8


def english_spans(text: str) -> list[Span]:
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
        known = gazetteer_lookup(text[span.start : span.end], "en")
        # a city or country of the gazetteer is a place, whatever spaCy says ("Vilnius"
        # tagged ORG, "Kyiv" tagged PERSON); an organisation of the gazetteer names an ORG
        # span, or a span that spaCy took for a person ("Ukrenergo"): a person's whole name
        # is not a gazetteer entry
        if known is not None and (known[0] in (span.type, "LOC") or span.type == "PER"):
            span.type, span.known = known[0], (known[1], known[2], known[3])
    _retype_organisations(text, spans)
    return spans


def _split_known_lists(text: str, spans: list[Span], language: str) -> list[Span]:
    """A span that is a list of gazetteer names ("Kharkiv, Odesa") is one span per name."""
    result = []
    for span in spans:
        surface = text[span.start : span.end]
        pieces = _LIST_SEPARATOR.split(surface)
        if len(pieces) < 3:
            result.append(span)
            continue
        names = pieces[::2]
        hits = [gazetteer_lookup(name, language) for name in names]
        if not all(hits):
            result.append(span)
            continue
        offset = span.start
        for index, piece in enumerate(pieces):
            hit = hits[index // 2] if index % 2 == 0 else None
            if hit is not None:
                result.append(Span(offset, offset + len(piece), hit[0], (hit[1], hit[2], hit[3])))
            offset += len(piece)
    return result


def _english_common_word(text: str, span: Span) -> bool:
    """A span with no capital letter ("metro"), or one capitalised word at a sentence start
    that the same text also writes in lower case ("Households ... 400,000 households")."""
    surface = text[span.start : span.end]
    if not any(ch.isupper() for ch in surface):
        return True
    if " " in surface or not surface[:1].isupper() or surface.isupper():
        return False
    return common_word_at_sentence_start(text, span.start, span.end, "en")


def _attach_name_particles(text: str, spans: list[Span]) -> list[Span]:
    """ "Ursula von der" + "Leyen": a person's name runs on over lower-case particles to the
    capitalised surname after them; spans that the longer name covers go."""
    grown: list[Span] = []
    for span in spans:
        if span.type != "PER":
            continue
        words = text[span.start : span.end].split(" ")
        end = span.end
        while len(words) > 1 and words[-1] in NAME_PARTICLES:
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


def _retype_organisations(text: str, spans: list[Span]) -> None:
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
