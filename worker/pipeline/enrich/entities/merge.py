"""One list of spans from the model's, the gazetteer's and the rules': overlaps resolved,
later mentions of a name found where the model missed them, switcher labels dropped."""

from __future__ import annotations

import bisect
import re

from worker.pipeline.enrich.entities.english import english_spans
from worker.pipeline.enrich.entities.gazetteer import common_word_keys, word_options
from worker.pipeline.enrich.entities.slavic import (
    gazetteer_spans,
    natasha_spans,
    rule_spans,
    ukrainian_spans,
)
from worker.pipeline.enrich.entities.spans import Span, common_word_at_sentence_start
from worker.pipeline.lang.names import is_name_particle
from worker.pipeline.lang.switcher import SWITCHER_CORE, is_language_switcher


def _merge(primary: list[Span], secondary: list[Span], override_same: bool) -> list[Span]:
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


def _propagate_mentions(text: str, spans: list[Span], language: str) -> list[Span]:
    """Later mentions that the model missed or mistyped: a person's surname alone
    ("Kudrytskyi urged", "Кудрицького"; "Leyen" of "Ursula von der Leyen" is "von der
    Leyen"), and each further occurrence of a one-word organisation or person name
    ("Ukrenergo said"). For uk/ru an occurrence counts when it shares a lemma with the name;
    a dictionary word opening a sentence ("Дія закону...") is left alone."""
    found: dict[str, list[Span]] = {}
    surnames = set()
    for span in spans:
        words = text[span.start : span.end].split()
        if span.type == "PER" and len(words) >= 2:
            first_particle = next(
                (i for i, w in enumerate(words[:-1]) if is_name_particle(w)), len(words) - 1
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
                known is not None and known[1] not in common_word_keys(language)
            ) or not common_word_at_sentence_start(text, m.start(), m.end(), language):
                added.append(Span(m.start(), m.end(), kind, known))
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
            added.append(Span(m.start(), m.end(), "PER"))
    return sorted(spans + added, key=lambda s: (s.start, s.end)) if added else spans


def _same_lemma(word: str, name: str, language: str) -> bool:
    if language not in ("uk", "ru"):
        return False
    words, name_words = word.split(), name.split()
    if len(words) != len(name_words):
        return False
    return all(
        w == n or bool(set(word_options(w, language)) & set(word_options(n, language)))
        for w, n in zip(words, name_words, strict=True)
    )


def find_spans(text: str, language: str | None) -> list[tuple[int, int, str]]:
    """Mention-level output (start, end, type), as the NER scorer wants it."""
    return [(s.start, s.end, s.type) for s in entity_spans(text, language)]


def entity_spans(text: str, language: str | None) -> list[Span]:
    spans = _find_model_and_rule_spans(text, language)
    if SWITCHER_CORE.search(text) is None:
        return spans
    return [s for s in spans if not is_language_switcher(text[s.start : s.end])]


def _find_model_and_rule_spans(text: str, language: str | None) -> list[Span]:
    if language == "en":
        spans = _merge(english_spans(text), gazetteer_spans(text, "en"), override_same=False)
    elif language in ("uk", "ru"):
        spans = ukrainian_spans(text) if language == "uk" else natasha_spans(text)
        spans = _merge(spans, gazetteer_spans(text, language), override_same=True)
        spans = _merge(spans, rule_spans(text, language), override_same=False)
    else:
        return []
    return _propagate_mentions(text, spans, language)
