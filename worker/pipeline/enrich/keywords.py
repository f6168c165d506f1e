"""Keywords (our own YAKE-like statistic over lemmatised text) and coarse topics (a keyword
table) for en/uk/ru.

Keywords are scored by our own code instead of the yake package: yake is LGPLv3 and costs
50-90 ms per article (networkx graphs, numpy medians per word); this scorer keeps YAKE's
published single-word features (casing, position, frequency, relatedness to context,
spread over sentences) and costs a few milliseconds. Words are lemmatised first
(pymorphy3 for uk/ru, cached), so "Литви", "Литві" and "Литва" are one word.

When pymorphy3 reads a form as more than one word ("тлі": тло or the aphid тля; "рік":
рік or a genitive plural of ріка), the lemma is chosen in this order: a fixed phrase with
the word before ("на тлі", "у році", "з боку"; see _FIXED_PHRASES), the analyser's
estimates where it has them (Russian), agreement with an adjective just before ("Світового
банку": банк, not банка), the form that is itself a dictionary form ("рік"), the form of
a very common word (a stopword: "року" is рік, not рок), then the lemma with most readings.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from newsflow.contract import KeywordRecord
from worker.pipeline.article import EnrichedArticle
from worker.pipeline.enrich.enricher import Enricher
from worker.pipeline.lang.morphology import agrees, morph_parses
from worker.pipeline.lang.switcher import LANGUAGE_SWITCHER, SWITCHER_CODES, SWITCHER_CORE

# the opening of an article carries its topic; a bound keeps huge inputs linear and cheap
MAX_KEYWORD_CHARS = 20_000
MAX_WORDS_PER_KEYWORD = 3


_TOKENS = re.compile(r"[^\W\d_][\w'’ʼ\-]*|\s+|[^\w\s]|\d[\d.,]*")
_BLOCK_SPLIT = re.compile(r"\n[ \t\r]*\n+")
_SENTENCE_CLOSED = re.compile(r"[.!?…:;]\W*$")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
# what ends a candidate phrase: any punctuation; what ends a sentence (for position/spread)
_SENTENCE_END = frozenset(".!?…;")

# Function words and words too common in news to be keywords, in lemma form (uk/ru lemmas
# are pymorphy3 normal forms). Our own lists.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        """
        a about above according across after again against ago ahead all almost along
        already also although always am amid among an and another any are around as at away
        back be became because become been before being below between both but by can could
        day did do does doing done down during each either else even ever every few first
        for from further had has have having he her here hers herself him himself his how
        however i if in including into is it its itself just last later least less like
        made make many may me meanwhile might more most much must my myself near need never
        new next no nor not now of off on once one only or other our ours out over own per
        rather said same say says see she should since so some still such take than that
        the their theirs them themselves then there these they this those though through
        thus to today too toward towards two under until up upon us use very via was we well
        were what when where whether which while who whom whose why will with within without
        would year yet you your yours week month time way also told according photo getty
        images reuters mr mrs ms per cent percent
        """.split()
    ),
    "uk": frozenset(
        """
        а або адже але б би без бо був бути в вже вздовж від він вона вони воно все всі
        всьоме втім ви й де для до дуже є же з за зі із значить і інший іще його її їх
        к коли котрий куди ледве лише між мій мені ми мов може можна мочи мусити на навіть
        над наш не нехай ні ніби ніж ну о об один однак під після по поки понад попри при
        про проте раз сам свій себе собі та так також там те тем ти то тобто той тому тут
        у усі хоч хоча це цей ці чи через що щоб щодо як який якби якщо ж тощо вже ще
        саме цього тих тільки зокрема кожний весь такий інший наступний рік день тиждень
        місяць заявити сказати зазначити наголосити підкреслити додати повідомити фото
        також теж відсоток мати могти стати проти серед біля навколо разом крім завдяки згідно
        перед
        """.split()
    ),
    "ru": frozenset(
        """
        а без более бы быть в весь во вот все всё вы где да даже для до его ее её если
        есть еще ещё же за здесь и из или им их к как какой когда кто ли либо между мой
        мочь мы на над надо наш не него нее неё нет ни ничто но ну о об один однако он она
        они оно от очень по под после потому почти при про раз с сам свой себя со так также
        такой там те тем то тогда того тоже только том тот у уже хотя чей чем что чтобы
        это этот я который каждый другой следующий год день неделя месяц заявить сказать
        отметить подчеркнуть добавить сообщить фото процент иметь стать лишь именно против
        через перед около среди вокруг вместе кроме благодаря согласно
        """.split()
    ),
}


# Fixed phrases whose noun pymorphy3 misreads or that are compound prepositions ("на тлі" is
# "against the background of": тло, not the aphid тля): (word before, form) -> lemma. Such a
# noun is a function word, never a keyword; "у році" only fixes the lemma (рік is a
# stopword anyway).
_FIXED_PHRASES: dict[str, dict[tuple[str, str], str]] = {  # our own lists
    "uk": {
        ("на", "тлі"): "тло",
        **{(p, "боку"): "бік" for p in ("з", "із", "зі")},
        **{(p, "сторони"): "сторона" for p in ("з", "із", "зі")},
        **{(p, "ході"): "хід" for p in ("у", "в")},
        **{(p, "межах"): "межа" for p in ("у", "в")},
        **{(p, "рамках"): "рамка" for p in ("у", "в")},
        **{(p, "разі"): "раз" for p in ("у", "в")},
        **{(p, "зв'язку"): "зв'язок" for p in ("у", "в")},
        **{(p, "результаті"): "результат" for p in ("у", "в")},
        **{(p, "році"): "рік" for p in ("у", "в")},
        ("за", "допомогою"): "допомога",
        ("на", "чолі"): "чоло",
        ("з", "метою"): "мета",
        ("під", "час"): "час",
    },
    "ru": {
        ("на", "фоне"): "фон",
        **{(p, "стороны"): "сторона" for p in ("с", "со")},
        **{(p, "ходе"): "ход" for p in ("в", "во")},
        **{(p, "рамках"): "рамка" for p in ("в", "во")},
        **{(p, "случае"): "случай" for p in ("в", "во")},
        **{(p, "связи"): "связь" for p in ("в", "во")},
        **{(p, "течение"): "течение" for p in ("в", "во")},
        **{(p, "результате"): "результат" for p in ("в", "во")},
        **{(p, "целях"): "цель" for p in ("в", "во")},
        **{(p, "году"): "год" for p in ("в", "во")},
        ("во", "время"): "время",
        ("с", "помощью"): "помощь",
        ("по", "мере"): "мера",
        ("на", "основе"): "основа",
        ("за", "счет"): "счёт",
        ("за", "счёт"): "счёт",
    },
}

_FIXED_FORMS = {
    language: frozenset(form for _, form in phrases) for language, phrases in _FIXED_PHRASES.items()
}


def _fixed_phrase(previous: str | None, word: str, language: str) -> str | None:
    phrases = _FIXED_PHRASES.get(language)
    if not phrases or previous is None:
        return None
    return phrases.get((previous.casefold(), word.casefold().replace("’", "'").replace("ʼ", "'")))


def _lemma(word: str, language: str, previous: str | None = None) -> str:
    """Dictionary form of one word; ``previous`` is the word just before it, if any (a
    fixed phrase or an adjective to agree with can settle an ambiguous form)."""
    if len(word) > 1 and word.isupper():
        return word  # acronyms: pymorphy reads НАТО as a form of "Ната"
    if language in ("uk", "ru"):
        if not _CYRILLIC.search(word):
            return word
        lemma = _fixed_phrase(previous, word, language) or _best_lemma(word, language, previous)
        return lemma.capitalize() if word[:1].isupper() else lemma
    if word.endswith(("'s", "’s")) and len(word) > 3:
        word = word[:-2]  # "Ukraine's" is "Ukraine"
    if not word[:1].islower():
        return word  # names and sentence starts keep their form: "Landsbergis", "States"
    return _english_singular(word.lower())


@lru_cache(maxsize=200_000)
def _lemma_options(word: str, language: str) -> tuple[str, ...]:
    """The distinct lemmas of a uk/ru form, in pymorphy3's order."""
    return tuple(dict.fromkeys(p.normal_form for p in morph_parses(word, language)))


def _best_lemma(word: str, language: str, previous: str | None = None) -> str:
    # the entity enricher's analyser and parse cache: one dictionary per language in
    # memory, and each word parsed once per process
    options = _lemma_options(word, language)
    if len(options) == 1:
        return options[0]
    if previous is not None:
        agreeing = _agreeing_lemmas(word, previous, language)
        if len(agreeing) == 1:
            return agreeing[0]
    return _lemma_without_context(word, language)


@lru_cache(maxsize=50_000)
def _lemma_without_context(word: str, language: str) -> str:
    parses = morph_parses(word, language)
    totals: dict[str, float] = {}
    for parse in parses:
        totals[parse.normal_form] = totals.get(parse.normal_form, 0.0) + parse.score
    ranked = sorted(totals, key=lambda lemma: -totals[lemma])
    # the Russian dictionary's estimates are corpus frequencies: the likeliest lemma wins
    # when they tell the readings apart; the Ukrainian one gives every reading 1.0
    if len({parse.score for parse in parses}) > 1 and totals[ranked[0]] > totals[ranked[1]]:
        return ranked[0]
    folded = word.casefold().replace("ё", "е")
    for lemma in totals:
        if lemma.replace("ё", "е") == folded:
            return lemma  # "рік" is itself a dictionary form, not a genitive of ріка
    for lemma in totals:
        if lemma in _STOPWORDS[language]:
            return lemma  # "року": the very common рік, not рок
    return ranked[0]


@lru_cache(maxsize=50_000)
def _agreeing_lemmas(word: str, previous: str, language: str) -> tuple[str, ...]:
    """Lemmas of the noun readings of ``word`` that agree in case, number and gender with
    an adjective reading of ``previous`` ("Світового банку")."""
    adjectives = tuple(p for p in morph_parses(previous, language) if p.tag.POS in ("ADJF", "PRTF"))
    if not adjectives:
        return ()
    nouns = [
        n for n in morph_parses(word, language) if n.tag.POS == "NOUN" and agrees(adjectives, n)
    ]
    return tuple(dict.fromkeys(n.normal_form for n in nouns))


def _english_singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")):
        return word[:-1]
    return word


def _blocks(text: str) -> str:
    text = _without_switchers(text)
    blocks = [block.strip() for block in _BLOCK_SPLIT.split(text) if block.strip()]
    return " ".join(b if _SENTENCE_CLOSED.search(b) else b + "." for b in blocks)


def _without_switchers(text: str) -> str:
    """The text with language switchers ("UA | RU | EN") made block breaks."""
    if not SWITCHER_CORE.search(text):
        return text
    return LANGUAGE_SWITCHER.sub(
        lambda m: "\n\n" if SWITCHER_CORE.search(m.group()) else m.group(), text
    )


def lemmatise(text: str, language: str) -> str:
    """The text with each word replaced by its dictionary form; blocks (headline, paragraphs)
    joined with ". " so that no keyword runs across them."""
    out = []
    previous: str | None = None
    for token in _TOKENS.findall(_blocks(text)):
        if token[:1].isalpha():
            out.append(_lemma(token, language, previous))
            previous = token
        else:
            out.append(token)
            if not token.isspace():
                previous = None
    return "".join(out)


@dataclass
class _Term:
    first_sentence: int
    count: int = 0
    capitalised: int = 0  # capitalised away from a sentence start, or an acronym
    sentences: set[int] = field(default_factory=set)
    left: set[str] = field(default_factory=set)  # distinct content words just before
    right: set[str] = field(default_factory=set)  # and just after


@lru_cache(maxsize=200_000)
def _word(token: str, language: str) -> tuple[str, str, bool, bool, bool]:
    """(lemma, its casefolded key, whether it is a stopword, whether the token is an
    acronym, whether the lemma depends on the word before) of one word token."""
    lemma, key, stopword, acronym = _classified(_lemma(token, language), token, language)
    in_context = (
        language in ("uk", "ru")
        and not acronym
        and _CYRILLIC.search(token) is not None
        and (len(_lemma_options(token, language)) > 1 or token.casefold() in _FIXED_FORMS[language])
    )
    return lemma, key, stopword, acronym, in_context


@lru_cache(maxsize=50_000)
def _word_after(token: str, previous: str, language: str) -> tuple[str, str, bool, bool]:
    """As _word, for a token whose lemma depends on the word before it."""
    fixed = _fixed_phrase(previous, token, language)
    if fixed is not None:
        lemma = fixed.capitalize() if token[:1].isupper() else fixed
        return lemma, lemma.casefold(), True, False  # part of a compound preposition
    return _classified(_lemma(token, language, previous), token, language)


def _classified(lemma: str, token: str, language: str) -> tuple[str, str, bool, bool]:
    key = lemma.casefold()
    stopword = (
        key in _STOPWORDS[language]
        or key in SWITCHER_CODES
        or (len(key) < 3 and not lemma.isupper())
    )
    return lemma, key, stopword, len(token) > 1 and token.isupper()


# words, single punctuation marks and numbers (no whitespace: the scorer skips it)
_SCORER_TOKENS = re.compile(r"[^\W\d_][\w'’ʼ\-]*|[^\w\s]|\d[\d.,]*")


def extract_keywords(text: str, language: str, top: int = 10) -> list[KeywordRecord]:
    """The ``top`` keywords of ``text`` in dictionary form ("військовий союз", "Литва"),
    most relevant (lowest score) first."""
    lang = language if language in ("en", "uk", "ru") else "en"
    # one pass: lemmas of word tokens, grouped into runs of content words (candidate
    # phrases end at punctuation, numbers and stopwords) and sentences
    runs: list[list[str]] = []
    run: list[str] = []
    terms: dict[str, _Term] = {}
    forms: defaultdict[str, Counter[str]] = defaultdict(Counter)
    sentence = 0
    sentence_start = True
    previous: str | None = None  # previous content lemma in the same sentence
    before: str | None = None  # the word token just before, if no punctuation came between
    for token in _SCORER_TOKENS.findall(_blocks(text[:MAX_KEYWORD_CHARS])):
        first = token[0]
        if not first.isalpha():
            before = None
            if run:
                runs.append(run)
                run = []
            if token in _SENTENCE_END:
                previous = None
                sentence += 1
                sentence_start = True
            elif not first.isdigit():
                previous = None
            continue
        lemma, key, stopword, acronym, in_context = _word(token, lang)
        if in_context and before is not None:
            lemma, key, stopword, acronym = _word_after(token, before, lang)
        before = token
        if stopword:
            if run:
                runs.append(run)
                run = []
            sentence_start = False
            continue
        term = terms.get(key)
        if term is None:
            term = terms[key] = _Term(sentence)
        term.count += 1
        # the form shown: as written away from sentence starts ("Литва", "military")
        forms[key][lemma] += 1 if sentence_start else 2
        if acronym or (not sentence_start and first.isupper()):
            term.capitalised += 1
        term.sentences.add(sentence)
        if previous is not None:
            term.left.add(previous)
            terms[previous].right.add(key)
        previous = key
        run.append(key)
        sentence_start = False
    if run:
        runs.append(run)
    if not terms:
        return []
    word_scores = _word_scores(terms, sentence + 1)
    phrase_counts: Counter[tuple[str, ...]] = Counter()
    for keys in runs:
        for size in range(1, MAX_WORDS_PER_KEYWORD + 1):
            for i in range(len(keys) - size + 1):
                phrase_counts[tuple(keys[i : i + size])] += 1
    scored = []
    for phrase, count in phrase_counts.items():
        if len(phrase) > 1 and (count < 2 or len(set(phrase)) < len(phrase)):
            continue  # a phrase seen once is a chance neighbourhood, not a keyword
        product, total = 1.0, 0.0
        for key in phrase:
            product *= word_scores[key]
            total += word_scores[key]
        scored.append((product / (count * (1 + total)), phrase))
    scored.sort()
    shown = {key: max(counts, key=counts.__getitem__) for key, counts in forms.items()}
    return _deduplicated(scored, shown, top)


def _word_scores(terms: dict[str, _Term], sentences: int) -> dict[str, float]:
    """YAKE's single-word score (lower is more relevant) from casing, position, frequency,
    relatedness to context and spread over sentences."""
    counts = [term.count for term in terms.values()]
    mean = sum(counts) / len(counts)
    deviation = math.sqrt(sum((c - mean) ** 2 for c in counts) / len(counts))
    most = max(counts)
    scores = {}
    for key, term in terms.items():
        casing = term.capitalised / (1 + math.log(term.count))
        position = math.log(math.log(3 + term.first_sentence))
        frequency = term.count / (mean + deviation)
        relatedness = 1 + (len(term.left) + len(term.right)) / (2 * term.count) * (
            term.count / most
        )
        spread = len(term.sentences) / sentences
        scores[key] = (relatedness * position) / (
            casing + frequency / relatedness + spread / relatedness
        )
    return scores


def _deduplicated(
    scored: list[tuple[float, tuple[str, ...]]], shown: dict[str, str], top: int
) -> list[KeywordRecord]:
    """Best first, skipping a phrase that shares most of its words with one already kept."""
    kept: list[tuple[float, tuple[str, ...]]] = []
    for score, phrase in scored:
        words = set(phrase)
        if any(len(words & set(other)) / len(words | set(other)) >= 0.5 for _, other in kept):
            continue
        kept.append((score, phrase))
        if len(kept) == top:
            break
    return [
        KeywordRecord(text=" ".join(shown[key] for key in phrase), score=round(score, 6))
        for score, phrase in kept
    ]


# topic -> word beginnings (casefolded); a word counts for a topic when it starts with one
_TOPIC_STEMS: dict[str, tuple[str, ...]] = {
    "defence": (
        "militar",
        "defen",
        "army",
        "armies",
        "troop",
        "soldier",
        "weapon",
        "missile",
        "ammunition",
        "brigade",
        "nato",
        "war",
        "invasion",
        "drone",
        "tank",
        "військов",
        "оборон",
        "армі",
        "зброй",
        "зброя",
        "зброї",
        "зброє",
        "ракет",
        "боєприпас",
        "бригад",
        "нато",
        "війн",
        "вторгн",
        "дрон",
        "солдат",
        "военн",
        "оборон",
        "арми",
        "оружи",
        "ракет",
        "боеприпас",
        "бригад",
        "войн",
        "вторжен",
        "военных",
    ),
    "politics": (
        "politic",
        "minister",
        "president",
        "government",
        "parliament",
        "election",
        "vote",
        "diplomat",
        "alliance",
        "sanction",
        "party",
        "summit",
        "політи",
        "міністр",
        "президент",
        "уряд",
        "парламент",
        "вибор",
        "дипломат",
        "союз",
        "санкці",
        "саміт",
        "партнерств",
        "полити",
        "министр",
        "президент",
        "правительств",
        "парламент",
        "выбор",
        "дипломат",
        "санкци",
        "саммит",
        "партнерств",
    ),
    "economy": (
        "econom",
        "gdp",
        "budget",
        "spending",
        "inflation",
        "tax",
        "market",
        "trade",
        "investment",
        "price",
        "bank",
        "ціни",
        "ціна",
        "цінам",
        "цены",
        "цена",
        "ценам",
        "економ",
        "ввп",
        "бюджет",
        "витрат",
        "інфляц",
        "податк",
        "торгів",
        "інвест",
        "эконом",
        "бюджет",
        "расход",
        "инфляц",
        "налог",
        "торгов",
        "инвест",
    ),
    "energy": (
        "energy",
        "electricit",
        "gas",
        "oil",
        "nuclear",
        "coal",
        "grid",
        "енерг",
        "електро",
        "газ",
        "нафт",
        "атомн",
        "вугіл",
        "энерг",
        "электро",
        "газ",
        "нефт",
        "атомн",
        "уголь",
        "угля",
    ),
    "health": (
        "health",
        "hospital",
        "vaccin",
        "disease",
        "virus",
        "covid",
        "doctor",
        "medic",
        "здоров",
        "лікар",
        "вакцин",
        "хвороб",
        "вірус",
        "медич",
        "здравоохран",
        "больниц",
        "вакцин",
        "болезн",
        "вирус",
        "медицин",
        "врач",
    ),
    "technology": (
        "technolog",
        "software",
        "internet",
        "cyber",
        "digital",
        "технолог",
        "кібер",
        "цифров",
        "інтернет",
        "кибер",
        "интернет",
    ),
    "climate": (
        "climate",
        "emission",
        "environment",
        "pollution",
        "flood",
        "drought",
        "клімат",
        "довкілл",
        "викид",
        "повін",
        "климат",
        "экологи",
        "выброс",
        "наводнен",
    ),
}
_WORDS = re.compile(r"[^\W\d_][\w'’ʼ\-]*")
_STEM_TOPIC = {stem: topic for topic, stems in _TOPIC_STEMS.items() for stem in stems}
_STEM_LENGTHS = sorted({len(stem) for stem in _STEM_TOPIC}, reverse=True)
_SHORTEST_STEM = _STEM_LENGTHS[-1]
_STEM_STARTS = frozenset(stem[:_SHORTEST_STEM] for stem in _STEM_TOPIC)
# a topic word begins where a run of letters begins; the longest table stem it starts with
_LETTER_RUN = re.compile(r"[^\W\d_]+")
# beginnings the table's short stems would wrongly catch: "war" in "warm", "газ" in "газета"
_FALSE_STARTS = ("ward", "warm", "warn", "warsaw", "warrant", "award", "taxi", "gazett", "газет")
MIN_TOPIC_HITS = 2
MAX_TOPICS = 4


def topics(text: str, language: str) -> list[str]:
    """Topics whose table words occur at least twice, most frequent first (at most four).
    One table serves en/uk/ru (``language`` is accepted for a uniform enricher signature)."""
    counts: Counter[str] = Counter()
    for run in _LETTER_RUN.finditer(text):
        letters = run.group(0).lower()
        if letters[:_SHORTEST_STEM] not in _STEM_STARTS:
            continue
        topic = next(
            (
                _STEM_TOPIC[letters[:size]]
                for size in _STEM_LENGTHS
                if size <= len(letters) and letters[:size] in _STEM_TOPIC
            ),
            None,
        )
        if topic is None:
            continue
        word = _WORDS.match(text, run.start())
        if word is None or word.group(0).casefold().startswith(_FALSE_STARTS):
            continue
        counts[topic] += 1
    ranked = sorted(
        (topic for topic, hits in counts.items() if hits >= MIN_TOPIC_HITS),
        key=lambda topic: (-counts[topic], topic),
    )
    return ranked[:MAX_TOPICS]


def _apply(article: EnrichedArticle) -> None:
    parsed = article.parsed
    headline_and_body = ". ".join(filter(None, [parsed.title, article.text]))
    article.keywords = extract_keywords(headline_and_body, str(article.language))
    article.topics = topics(headline_and_body, str(article.language)) if article.keywords else []


# Our own scorer on pymorphy3 lemmas (yake itself was removed in version 2): articles
# enriched before the rename carry the retired name.
ENRICHER = Enricher(
    "keywords.lemma-score+pymorphy3",
    "4:lemma-in-context",
    _apply,
    retired_names=("keywords.yake+pymorphy3",),
)
