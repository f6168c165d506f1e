"""Direct quotes and who said them, for English, Ukrainian and Russian.

Quotes are found by a one-pass scanner over quotation marks (“…”, "…", «…», „…“, nested),
reset at each paragraph. The speaker comes from a cue next to the quote ("noted Landsbergis",
"— сказав він", "Landsbergis highlighted") or from an earlier quote in the same sentence;
pronouns and role nouns ("the minister", "міністр") go to the last fitting person mentioned
before. People come from the caller (``people``: spans with canonical names) or, without
them, from capitalised-name rules."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import Field

from newsflow.contract import QuoteRecord
from worker.pipeline.article import EnrichedArticle, overlaps
from worker.pipeline.enrich.enricher import Enricher
from worker.pipeline.lang.roles import ROLE_NOUNS


class Quote(QuoteRecord):
    """A quote as stored, and where its speaker's name stands in the text (for a pronoun:
    the name it refers to), which the stored record leaves out."""

    speaker_start: int | None = Field(default=None, exclude=True)
    speaker_end: int | None = Field(default=None, exclude=True)


@dataclass(frozen=True)
class _Person:
    start: int
    end: int
    name: str
    role: str | None


@dataclass(frozen=True)
class _Cue:
    kind: str  # "name", "pronoun" or "role"
    start: int
    end: int
    position: int  # resolve pronouns and roles against people mentioned before this


# a quote of three words or fewer is a term or a scare quote ("Worst-case scenarios"), not
# something a person said: attributing it would mostly be wrong, so it is skipped
MIN_QUOTE_WORDS = 4
_MAX_CUE_WINDOW = 300

_SPEECH_VERBS = frozenset(
    """
    said says say stated states noted notes stressed stresses emphasized emphasised emphasizes
    emphasises highlighted highlights added adds told tells explained explains warned warns
    declared declares underscored underscores underlined underlines insisted insists argued
    argues wrote writes remarked commented announced announces claimed claims asserted asserts
    observed continued concluded recalled urged asked replied answered acknowledged admitted
    reiterated pointed
    сказав сказала сказали каже кажуть заявив заявила заявили заявляє заявляють зазначив
    зазначила зазначили зазначає підкреслив підкреслила підкреслили підкреслює наголосив
    наголосила наголосили наголошує додав додала додали додає пояснив пояснила пояснює
    повідомив повідомила відзначив відзначила розповів розповіла написав написала нагадав
    нагадала попередив попередила констатував зауважив зауважила відповів відповіла вважає
    сказал сказала сказали говорит говорят заявил заявила заявили заявляет отметил отметила
    отметили отмечает подчеркнул подчеркнула подчеркнули подчеркивает подчёркивает добавил
    добавила добавили пояснил пояснила сообщил сообщила рассказал рассказала написал
    написала напомнил напомнила предупредил предупредила констатировал заметил заметила
    ответил ответила указал указала считает
    """.split()
)
_PRONOUNS = frozenset("he she він вона он она".split())
# words between a subject and its verb: "He also stressed", "Він також підкреслив"
_ADVERBS = frozenset(
    "also further again then later repeatedly також ще знову потім також "
    "также еще ещё снова затем".split()
)
# words that precede a role in an English title: "Prime Minister", "Deputy Foreign Minister"
_TITLE_WORDS = frozenset("of for the and".split())
# capitalised words that are not (parts of) personal names
_NOT_NAME_WORDS = frozenset(
    """
    the a an on in at to for from by with as but and or if when while after before since
    during this that these those it he she they we i our his her their its there here
    photo aid regarding experts according however meanwhile also
    january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday
    north south east west northern southern eastern western central united european baltic
    foreign affairs defence defense finance interior state states union federation republic
    kingdom nations gap images times post news world council ministry parliament forces army
    party bank fund agency office department committee commission sea ocean river street
    square press journal group company corporation university institute center centre europe
    asia africa america day house
    він вона вони це ця цей у в на і та але фото допомога щодо
    сполучені штати федерації федерація федерацією союз європи європа північної балтії
    він вона они это эта этот у в на и но фото помощь по
    соединенные соединённые штаты федерации федерация союз европы европа северной балтии
    """.split()
)
# first words of a Cyrillic pair that are adjectives ("Російської Федерації"), not names
_CYRILLIC_ADJECTIVE = re.compile(
    r"(?:ої|ого|ому|ими|ські|цькі|зькі|ська|цька|ської|ських|ені|ні|ая|ое|ые|ой|ого|ых|ская"
    r"|ский|ской|ских|ного|ной|ных|ные|ная)$"
)
_NATIONALITY_END = re.compile(r"(?:ian|an|ish|ese|ean|ch|i)$")

_TOKEN = re.compile(r"[^\W\d_][\w'’ʼ\-]*")
_MARKS = re.compile(r"[“”„«»\"]|\n[ \t\r]*\n")
_SENTENCE_END = re.compile(r"[.!?…][\"”»’)]*\s")
_AFTER_QUOTE_GAP = re.compile(r"[\s,:]*(?:[—–\-]+\s*)?")
_PARAGRAPH_BREAK = re.compile(r"(?=\n\n)")


def _quote_spans(text: str) -> list[tuple[int, int]]:
    """(open mark, close mark) positions of outermost quotes. A stack handles nesting; the
    stack is dropped at each blank line, so an unbalanced mark never runs past its
    paragraph."""
    spans: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []

    def close(openers: str, position: int) -> None:
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth][0] in openers:
                opened = stack[depth][1]
                del stack[depth:]
                if not stack:
                    spans.append((opened, position))
                return

    for mark in _MARKS.finditer(text):
        char, position = mark.group(0), mark.start()
        if char[0] == "\n":
            stack.clear()
        elif char in "«„":
            stack.append((char, position))
        elif char == "»":
            close("«", position)
        elif char == "“":
            if stack and stack[-1][0] == "„":
                close("„", position)
            else:
                stack.append((char, position))
        elif char == "”":
            close("“„", position)
        elif any(opener == '"' for opener, _ in stack[-3:]):
            close('"', position)
        else:
            stack.append((char, position))
    return spans


def _casefold(word: str) -> str:
    return word.casefold().replace("’", "'").replace("ʼ", "'")


def _is_role(word: str) -> bool:
    folded = _casefold(word)
    if folded in ROLE_NOUNS:
        return True
    # inflected forms: "міністра", "министром", "президента"
    return any(len(folded) - cut >= 5 and folded[:-cut] in ROLE_NOUNS for cut in (1, 2, 3))


def _same_surname(a: str, b: str) -> bool:
    """Ландсбергіса ~ Ландсбергіс ~ Landsbergis (case endings differ in the last letters)."""
    a, b = a.casefold(), b.casefold()
    common = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        common += 1
    return common >= max(4, min(len(a), len(b)) - 2)


def _is_capitalised(word: str) -> bool:
    return word[:1].isupper() and not (len(word) > 1 and word.isupper())


class _Text:
    """Word tokens of the text with the gaps between them, and which lie inside quotes."""

    def __init__(self, text: str, quotes: list[tuple[int, int]]) -> None:
        self.text = text
        self.tokens = [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text)]
        self.starts = [start for start, _, _ in self.tokens]
        self.inside = [False] * len(self.tokens)
        for open_mark, close_mark in quotes:
            first = bisect.bisect_right(self.starts, open_mark)
            last = bisect.bisect_left(self.starts, close_mark)
            for index in range(first, last):
                self.inside[index] = True

    def word(self, index: int) -> str:
        return self.tokens[index][2]

    def plain_gap(self, left: int, right: int) -> bool:
        """Only spaces between token ``left`` and token ``right`` (no punctuation, no line)."""
        gap = self.text[self.tokens[left][1] : self.tokens[right][0]]
        return gap.strip(" \u00a0\t") == "" and len(gap) <= 3

    def role_before(self, index: int, language: str) -> tuple[int, int] | None:
        """The title right before a name: "Lithuanian Minister of Foreign Affairs",
        "міністр закордонних справ Литви"."""
        earliest_role = None
        cursor = index - 1
        steps = 0
        while cursor >= 0 and steps < 7 and self.plain_gap(cursor, cursor + 1):
            word = self.word(cursor)
            if language == "en" and not (_is_capitalised(word) or word in _TITLE_WORDS):
                break
            if _casefold(word) in _SPEECH_VERBS:
                break
            if _is_role(word):
                earliest_role = cursor
            cursor -= 1
            steps += 1
        if earliest_role is None:
            return None
        first = earliest_role
        if first > 0 and self.plain_gap(first - 1, first):
            previous = self.word(first - 1)
            if _is_capitalised(previous) and (
                _NATIONALITY_END.search(previous) or previous in ("Prime", "Deputy", "Vice")
            ):
                first -= 1
        return self.tokens[first][0], self.tokens[index - 1][1]

    def role_after(self, index: int, language: str) -> tuple[int, int] | None:
        """An appositive title: "Gabrielius Landsbergis, Minister of Foreign Affairs of
        Lithuania", "Габрієлюс Ландсбергіс, міністр закордонних справ Литви"."""
        following = index + 1
        if following >= len(self.tokens):
            return None
        gap = self.text[self.tokens[index][1] : self.tokens[following][0]]
        if gap.strip() != ",":
            return None
        if not any(
            _is_role(self.word(i)) for i in range(following, min(following + 2, len(self.tokens)))
        ):
            return None
        last = following
        while (
            last + 1 < len(self.tokens) and last - following < 7 and self.plain_gap(last, last + 1)
        ):
            word = self.word(last + 1)
            if _casefold(word) in _SPEECH_VERBS:
                break
            if language == "en" and not (_is_capitalised(word) or word in _TITLE_WORDS):
                break
            last += 1
        while last > following and self.word(last) in _TITLE_WORDS:
            last -= 1
        return self.tokens[following][0], self.tokens[last][1]


class _SurnameIndex:
    """Distinct surnames bucketed by their first letters, so that looking one up costs the
    same on a long text as on a short one."""

    def __init__(self) -> None:
        self._buckets: dict[str, list[tuple[str, object]]] = {}

    def add(self, surname: str, value: object) -> None:
        bucket = self._buckets.setdefault(surname[:4].casefold(), [])
        if not any(_same_surname(known, surname) for known, _ in bucket):
            bucket.append((surname, value))

    def find(self, surname: str) -> object | None:
        for known, value in self._buckets.get(surname[:4].casefold(), ()):
            if _same_surname(known, surname):
                return value
        return None


def _sentence_start(text: str, position: int) -> bool:
    """True when only a sentence end, a paragraph start or the text start comes before."""
    before = text[max(0, position - 4) : position].rstrip()
    return not before or before[-1] in ".!?…\n"


def _find_people(doc: _Text, language: str) -> list[_Person]:
    """Fallback name rules: runs of capitalised words (two or three kept, the last two of
    longer ones: "Foreign Affairs Gabrielius Landsbergis"), a run after a title, and single
    surnames already seen in full."""
    people: list[_Person] = []
    surnames = _SurnameIndex()
    tokens, text = doc.tokens, doc.text
    index = 0
    while index < len(tokens):
        if doc.inside[index] or not _is_capitalised(doc.word(index)):
            index += 1
            continue
        run_end = index
        while (
            run_end + 1 < len(tokens)
            and not doc.inside[run_end + 1]
            and _is_capitalised(doc.word(run_end + 1))
            and doc.plain_gap(run_end, run_end + 1)
        ):
            run_end += 1
        run = list(range(index, run_end + 1))
        index = run_end + 1
        # the name follows the last title or non-name word: "Prime Minister | Donald Tusk",
        # "Foreign Affairs | Gabrielius Landsbergis", "Getty Images |"
        cut = max(
            (i for i in run if _casefold(doc.word(i)) in _NOT_NAME_WORDS or _is_role(doc.word(i))),
            default=run[0] - 1,
        )
        run = [i for i in run if i > cut]
        if not run:
            continue
        run = run[-2:]
        if len(run) == 2:
            titled = doc.role_before(run[0], language) is not None
        else:
            # "President Zelensky", "міністр Ландсбергіс"; not "Minister of … of Lithuania"
            previous = run[0] - 1
            titled = (
                previous >= 0 and doc.plain_gap(previous, run[0]) and _is_role(doc.word(previous))
            )
        if len(run) == 2:
            if language != "en" and _CYRILLIC_ADJECTIVE.search(doc.word(run[0]).casefold()):
                continue  # "Російської Федерації"
            opens_sentence = _sentence_start(text, tokens[run[0]][0])
            next_is_verb = index < len(tokens) and _casefold(doc.word(index)) in _SPEECH_VERBS
            if language != "en" and opens_sentence and not titled and not next_is_verb:
                # a Cyrillic sentence may open with any capitalised pair ("Допомога Україні")
                continue
        elif not titled and surnames.find(doc.word(run[0])) is None:
            continue
        start, end = tokens[run[0]][0], tokens[run[-1]][1]
        role_span = doc.role_before(run[0], language) or doc.role_after(run[-1], language)
        people.append(
            _Person(
                start,
                end,
                text[start:end],
                text[role_span[0] : role_span[1]] if role_span else None,
            )
        )
        if len(run) == 2 or titled:
            surnames.add(doc.word(run[-1]), doc.word(run[-1]))
    return people


def _people_from_caller(
    doc: _Text, people: Sequence[tuple[int, int, str]], language: str
) -> list[_Person]:
    found = []
    for start, end, name in sorted(people):
        first = bisect.bisect_left(doc.starts, start)
        last = bisect.bisect_left(doc.starts, end) - 1
        role_span = None
        if 0 <= first < len(doc.tokens) and first <= last:
            role_span = doc.role_before(first, language) or doc.role_after(last, language)
        role = doc.text[role_span[0] : role_span[1]] if role_span else None
        found.append(_Person(start, end, name, role))
    return found


def _capitalised_run(doc: _Text, index: int, step: int) -> list[int]:
    """Up to three capitalised tokens from ``index`` going forward (step 1) or back (-1)."""
    run: list[int] = []
    cursor = index
    while (
        0 <= cursor < len(doc.tokens)
        and len(run) < 3
        and not doc.inside[cursor]
        and _is_capitalised(doc.word(cursor))
        and _casefold(doc.word(cursor)) not in _NOT_NAME_WORDS
    ):
        if run and not doc.plain_gap(min(cursor, run[-1]), max(cursor, run[-1])):
            break
        run.append(cursor)
        cursor += step
    return sorted(run)


def _subject(doc: _Text, index: int, step: int, position: int) -> _Cue | None:
    """The speaker word(s) at ``index``: a pronoun, a role noun or a name."""
    if not 0 <= index < len(doc.tokens) or doc.inside[index]:
        return None
    word = doc.word(index)
    folded = _casefold(word)
    start, end = doc.tokens[index][0], doc.tokens[index][1]
    if folded in _PRONOUNS:
        return _Cue("pronoun", start, end, position)
    if _is_role(word):
        return _Cue("role", start, end, position)
    run = _capitalised_run(doc, index, step)
    if run:
        return _Cue("name", doc.tokens[run[0]][0], doc.tokens[run[-1]][1], position)
    return None


def _cue_after(doc: _Text, close_mark: int, paragraph_end: int) -> _Cue | None:
    """ "…,” noted Landsbergis", "…», — сказав він", "…" the minister said"."""
    gap = _AFTER_QUOTE_GAP.match(doc.text, close_mark + 1)
    first = bisect.bisect_left(doc.starts, close_mark + 1)
    if gap is None or first >= len(doc.tokens) or doc.tokens[first][0] != gap.end():
        return None
    if doc.tokens[first][0] >= paragraph_end:
        return None
    if _casefold(doc.word(first)) in _SPEECH_VERBS:
        return (
            _subject(doc, first + 1, 1, doc.tokens[first][0])
            if first + 1 < len(doc.tokens) and doc.plain_gap(first, first + 1)
            else None
        )
    cursor = first
    if _casefold(doc.word(cursor)) == "the" and cursor + 1 < len(doc.tokens):
        cursor += 1
    subject = _subject(doc, cursor, 1, doc.tokens[first][0])
    if subject is None:
        return None
    verb = bisect.bisect_left(doc.starts, subject.end)
    while verb < len(doc.tokens) and _casefold(doc.word(verb)) in _ADVERBS:
        verb += 1
    if (
        verb < len(doc.tokens)
        and _casefold(doc.word(verb)) in _SPEECH_VERBS
        and doc.plain_gap(verb - 1, verb)
    ):
        return subject
    return None


def _cue_before(doc: _Text, window_start: int, open_mark: int) -> _Cue | None:
    """ "Landsbergis highlighted "…"", "He also stressed the need “…”", "Міністр наголосив: «…»"."""
    first = bisect.bisect_left(doc.starts, window_start)
    last = bisect.bisect_left(doc.starts, open_mark) - 1
    for verb in range(last, first - 1, -1):
        if doc.inside[verb] or _casefold(doc.word(verb)) not in _SPEECH_VERBS:
            continue
        cursor = verb - 1
        while cursor >= first and _casefold(doc.word(cursor)) in _ADVERBS:
            cursor -= 1
        if cursor >= first and doc.plain_gap(cursor, cursor + 1):
            subject = _subject(doc, cursor, -1, doc.tokens[verb][0])
            if subject is not None:
                return subject
        # verb first: "noted Landsbergis: «…»"
        if verb + 1 <= last and doc.plain_gap(verb, verb + 1):
            subject = _subject(doc, verb + 1, 1, doc.tokens[verb][0])
            if subject is not None and subject.kind == "name":
                return subject
        return None
    return None


@dataclass
class _Identity:
    """One person however often mentioned: the fullest name seen and the first role."""

    name: str
    role: str | None


class _Resolver:
    def __init__(self, people: list[_Person], from_caller: bool, text: str) -> None:
        self.people = people
        self.starts = [person.start for person in people]
        self.ends = [person.end for person in people]
        self.by_surname = _SurnameIndex()
        self.by_name: dict[str, _Identity] = {}
        self.identities: list[_Identity] = []
        for person in people:
            identity = self._identity(person, from_caller, text)
            if person.role and identity.role is None:
                identity.role = person.role
            if len(person.name.split()) > len(identity.name.split()) and not from_caller:
                identity.name = person.name
            self.identities.append(identity)

    def _identity(self, person: _Person, from_caller: bool, text: str) -> _Identity:
        if from_caller:  # the caller's canonical name already merges the forms
            identity = self.by_name.setdefault(person.name, _Identity(person.name, person.role))
            # a bare surname the caller missed ("…," noted Landsbergis) still finds the person
            # by the canonical surname or the surname as written ("Ландсбергіса")
            written = text[person.start : person.end].split()[-1:]
            for surname in person.name.split()[-1:] + written:
                if len(surname) >= 3 and self.by_surname.find(surname) is None:
                    self.by_surname.add(surname, identity)
            return identity
        surname = person.name.split()[-1]
        known = self.by_surname.find(surname)
        if isinstance(known, _Identity):
            return known
        identity = _Identity(person.name, person.role)
        self.by_surname.add(surname, identity)
        self.by_name.setdefault(person.name, identity)
        return identity

    def resolve(self, cue: _Cue, text: str) -> tuple[str, str | None, int, int] | None:
        if cue.kind == "name":
            # a caller's span covering the cue, else the person with that surname
            index = bisect.bisect_right(self.starts, cue.start) - 1
            for candidate in (index, index + 1):
                if 0 <= candidate < len(self.people):
                    person = self.people[candidate]
                    if person.start < cue.end and cue.start < person.end:
                        identity = self.identities[candidate]
                        return identity.name, identity.role, cue.start, cue.end
            named = text[cue.start : cue.end]
            known = self.by_surname.find(named.split()[-1])
            if isinstance(known, _Identity):
                return known.name, known.role, cue.start, cue.end
            return named, None, cue.start, cue.end
        before = bisect.bisect_right(self.ends, cue.position)
        if before == 0:
            return None
        chosen = before - 1
        if cue.kind == "role":
            role_word = _casefold(text[cue.start : cue.end])
            stem = role_word[: max(4, len(role_word) - 2)]
            # look back a bounded number of mentions: linear time on long texts
            for candidate in range(before - 1, max(-1, before - 51), -1):
                role = self.identities[candidate].role
                if role and stem in _casefold(role):
                    chosen = candidate
                    break
        identity, person = self.identities[chosen], self.people[chosen]
        return identity.name, identity.role, person.start, person.end


class _Paragraphs:
    """Where the paragraph around a position starts and ends, from the blank lines found
    once: searching the text from each quote made a text of many quotes in one paragraph
    quadratic."""

    def __init__(self, text: str) -> None:
        self.length = len(text)
        self.breaks = [m.start() for m in _PARAGRAPH_BREAK.finditer(text)]  # overlapping too

    def bounds(self, position: int) -> tuple[int, int]:
        before = bisect.bisect_right(self.breaks, position - 2) - 1  # a break ending by position
        after = bisect.bisect_left(self.breaks, position)
        start = self.breaks[before] + 2 if before >= 0 else 0
        return start, self.breaks[after] if after < len(self.breaks) else self.length


def extract_quotes(
    text: str,
    language: str,
    people: Sequence[tuple[int, int, str]] = (),
    places: Sequence[tuple[int, int]] = (),
) -> list[Quote]:
    """Direct quotes of four words or more, with their speaker where a cue names one.

    ``people``: (start, end, canonical name) of person mentions, e.g. from the entity
    enricher; without them names are found by rules and the fullest form seen is used.
    ``places``: (start, end) of place mentions: a place before the verb ("…в Брюсселі
    заявив") is not the speaker, who is then the last person mentioned, as for "he said"."""
    place_spans = sorted(places)
    lang = language if language in ("en", "uk", "ru") else "en"
    spans = _quote_spans(text)
    doc = _Text(text, spans)
    persons = _people_from_caller(doc, people, lang) if people else _find_people(doc, lang)
    # pronouns refer to people outside quotes ("Both countries" is not a speaker)
    outside = [
        p
        for p in persons
        if not doc.inside[min(bisect.bisect_left(doc.starts, p.start), len(doc.tokens) - 1)]
    ]
    resolver = _Resolver(outside, from_caller=bool(people), text=text)
    quotes: list[Quote] = []
    previous: tuple[Quote, int] | None = None  # last quote and its closing mark
    paragraphs = _Paragraphs(text)
    for open_mark, close_mark in spans:
        content = text[open_mark + 1 : close_mark]
        stripped = content.strip()
        if len(re.findall(r"\w+", stripped)) < MIN_QUOTE_WORDS:
            continue
        start = open_mark + 1 + (len(content) - len(content.lstrip()))
        paragraph_start, paragraph_end = paragraphs.bounds(open_mark)
        window_start = max(paragraph_start, open_mark - _MAX_CUE_WINDOW)
        if previous and previous[1] > window_start:
            window_start = previous[1] + 1
        for sentence_end in _SENTENCE_END.finditer(text, window_start, open_mark):
            window_start = sentence_end.end()
        cue = _cue_after(doc, close_mark, paragraph_end) or _cue_before(
            doc, window_start, open_mark
        )
        if cue is not None and cue.kind == "name" and overlaps(place_spans, cue.start, cue.end):
            cue = _Cue("pronoun", cue.start, cue.end, cue.position)
        resolved = resolver.resolve(cue, text) if cue else None
        speaker: tuple[str | None, str | None, int | None, int | None] = (
            resolved if resolved else (None, None, None, None)
        )
        if resolved is None and previous and previous[0].speaker:
            between = text[previous[1] + 1 : open_mark]
            same_sentence = previous[1] >= paragraph_start and not _SENTENCE_END.search(between)
            if same_sentence:  # "X said "…", while Germany … "…"": still X speaking
                last = previous[0]
                speaker = (last.speaker, last.speaker_role, last.speaker_start, last.speaker_end)
        name, role, speaker_start, speaker_end = speaker
        quote = Quote(
            text=stripped,
            start=start,
            end=start + len(stripped),
            speaker=name,
            speaker_role=role,
            speaker_start=speaker_start,
            speaker_end=speaker_end,
        )
        quotes.append(quote)
        previous = (quote, close_mark)
    return quotes


def _apply(article: EnrichedArticle) -> None:
    people = article.mentions("PER")
    places = [(start, end) for start, end, _ in article.mentions("LOC")]
    article.quotes = extract_quotes(article.text, str(article.language), people, places)


ENRICHER = Enricher("quotes.rules", "3", _apply, results="quotes")
