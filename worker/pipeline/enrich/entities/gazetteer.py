"""Place and organisation names for entity canonicalisation, in English, Ukrainian and Russian.

Countries come from pycountry (English names, Ukrainian and Russian translations) plus the
short everyday names below, which pycountry lacks ("Росія", not only "Російська Федерація").
Ukrainian and Russian names are stored in the nominative: the index below
lemmatises both these names and the text, so every grammatical case matches.
"""

from __future__ import annotations

import gettext
import itertools
import re
from functools import lru_cache
from typing import Final

from worker.pipeline.lang.morphology import morph_parses
from worker.pipeline.lang.words import WORD

# ISO alpha-2 -> extra names per language; the first name of a language is its canonical form.
COUNTRY_ALIASES: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "UA": {"en": ("Ukraine",), "uk": ("Україна",), "ru": ("Украина",)},
    "RU": {
        "en": ("Russia", "Russian Federation"),
        "uk": ("Росія", "Російська Федерація", "РФ"),
        "ru": ("Россия", "Российская Федерация", "РФ"),
    },
    "US": {
        "en": ("United States", "United States of America", "USA", "U.S.", "US", "America"),
        "uk": ("США", "Сполучені Штати Америки", "Сполучені Штати", "Америка"),
        "ru": ("США", "Соединенные Штаты Америки", "Соединенные Штаты", "Америка"),
    },
    "GB": {
        "en": ("United Kingdom", "UK", "Britain", "Great Britain"),
        "uk": ("Велика Британія", "Британія", "Сполучене Королівство"),
        "ru": ("Великобритания", "Британия", "Соединенное Королевство"),
    },
    "LT": {"en": ("Lithuania",), "uk": ("Литва",), "ru": ("Литва",)},
    "LV": {"en": ("Latvia",), "uk": ("Латвія",), "ru": ("Латвия",)},
    "EE": {"en": ("Estonia",), "uk": ("Естонія",), "ru": ("Эстония",)},
    "PL": {"en": ("Poland",), "uk": ("Польща",), "ru": ("Польша",)},
    "DE": {"en": ("Germany",), "uk": ("Німеччина", "ФРН"), "ru": ("Германия", "ФРГ")},
    "FR": {"en": ("France",), "uk": ("Франція",), "ru": ("Франция",)},
    "BY": {"en": ("Belarus",), "uk": ("Білорусь", "Білорусія"), "ru": ("Беларусь", "Белоруссия")},
    "MD": {"en": ("Moldova",), "uk": ("Молдова",), "ru": ("Молдова", "Молдавия")},
    "CZ": {"en": ("Czechia", "Czech Republic"), "uk": ("Чехія",), "ru": ("Чехия",)},
    "SK": {"en": ("Slovakia",), "uk": ("Словаччина",), "ru": ("Словакия",)},
    "HU": {"en": ("Hungary",), "uk": ("Угорщина",), "ru": ("Венгрия",)},
    "RO": {"en": ("Romania",), "uk": ("Румунія",), "ru": ("Румыния",)},
    "BG": {"en": ("Bulgaria",), "uk": ("Болгарія",), "ru": ("Болгария",)},
    "TR": {"en": ("Turkey", "Türkiye"), "uk": ("Туреччина",), "ru": ("Турция",)},
    "GE": {"en": ("Georgia",), "uk": ("Грузія",), "ru": ("Грузия",)},
    "AM": {"en": ("Armenia",), "uk": ("Вірменія",), "ru": ("Армения",)},
    "AZ": {"en": ("Azerbaijan",), "uk": ("Азербайджан",), "ru": ("Азербайджан",)},
    "KZ": {"en": ("Kazakhstan",), "uk": ("Казахстан",), "ru": ("Казахстан",)},
    "CN": {"en": ("China",), "uk": ("Китай", "КНР"), "ru": ("Китай", "КНР")},
    "JP": {"en": ("Japan",), "uk": ("Японія",), "ru": ("Япония",)},
    "KR": {"en": ("South Korea",), "uk": ("Південна Корея",), "ru": ("Южная Корея",)},
    "KP": {"en": ("North Korea",), "uk": ("Північна Корея", "КНДР"), "ru": ("Северная Корея",)},
    "IR": {"en": ("Iran",), "uk": ("Іран",), "ru": ("Иран",)},
    "IL": {"en": ("Israel",), "uk": ("Ізраїль",), "ru": ("Израиль",)},
    "SY": {"en": ("Syria",), "uk": ("Сирія",), "ru": ("Сирия",)},
    "IT": {"en": ("Italy",), "uk": ("Італія",), "ru": ("Италия",)},
    "ES": {"en": ("Spain",), "uk": ("Іспанія",), "ru": ("Испания",)},
    "NL": {"en": ("Netherlands", "Holland"), "uk": ("Нідерланди",), "ru": ("Нидерланды",)},
    "FI": {"en": ("Finland",), "uk": ("Фінляндія",), "ru": ("Финляндия",)},
    "SE": {"en": ("Sweden",), "uk": ("Швеція",), "ru": ("Швеция",)},
    "NO": {"en": ("Norway",), "uk": ("Норвегія",), "ru": ("Норвегия",)},
    "DK": {"en": ("Denmark",), "uk": ("Данія",), "ru": ("Дания",)},
    "CA": {"en": ("Canada",), "uk": ("Канада",), "ru": ("Канада",)},
    "VN": {"en": ("Vietnam",), "uk": ("В'єтнам",), "ru": ("Вьетнам",)},
    "VE": {"en": ("Venezuela",), "uk": ("Венесуела",), "ru": ("Венесуэла",)},
    "BO": {"en": ("Bolivia",), "uk": ("Болівія",), "ru": ("Боливия",)},
    "TZ": {"en": ("Tanzania",), "uk": ("Танзанія",), "ru": ("Танзания",)},
    "LA": {"en": ("Laos",), "uk": ("Лаос",), "ru": ("Лаос",)},
    "TW": {"en": ("Taiwan",), "uk": ("Тайвань",), "ru": ("Тайвань",)},
}

# Cities and regions: key -> names per language (first = canonical), plus the country.
PLACES: Final[dict[str, tuple[str | None, dict[str, tuple[str, ...]]]]] = {
    "kyiv": ("UA", {"en": ("Kyiv", "Kiev"), "uk": ("Київ",), "ru": ("Киев",)}),
    "kharkiv": ("UA", {"en": ("Kharkiv", "Kharkov"), "uk": ("Харків",), "ru": ("Харьков",)}),
    "odesa": ("UA", {"en": ("Odesa", "Odessa"), "uk": ("Одеса",), "ru": ("Одесса",)}),
    "lviv": ("UA", {"en": ("Lviv",), "uk": ("Львів",), "ru": ("Львов",)}),
    "dnipro": ("UA", {"en": ("Dnipro",), "uk": ("Дніпро",), "ru": ("Днепр",)}),
    "donetsk": ("UA", {"en": ("Donetsk",), "uk": ("Донецьк",), "ru": ("Донецк",)}),
    "luhansk": ("UA", {"en": ("Luhansk",), "uk": ("Луганськ",), "ru": ("Луганск",)}),
    "zaporizhzhia": (
        "UA",
        {"en": ("Zaporizhzhia",), "uk": ("Запоріжжя",), "ru": ("Запорожье",)},
    ),
    "kherson": ("UA", {"en": ("Kherson",), "uk": ("Херсон",), "ru": ("Херсон",)}),
    "mykolaiv": ("UA", {"en": ("Mykolaiv",), "uk": ("Миколаїв",), "ru": ("Николаев",)}),
    "mariupol": ("UA", {"en": ("Mariupol",), "uk": ("Маріуполь",), "ru": ("Мариуполь",)}),
    "melitopol": ("UA", {"en": ("Melitopol",), "uk": ("Мелітополь",), "ru": ("Мелитополь",)}),
    "chernihiv": ("UA", {"en": ("Chernihiv",), "uk": ("Чернігів",), "ru": ("Чернигов",)}),
    "poltava": ("UA", {"en": ("Poltava",), "uk": ("Полтава",), "ru": ("Полтава",)}),
    "vinnytsia": ("UA", {"en": ("Vinnytsia",), "uk": ("Вінниця",), "ru": ("Винница",)}),
    "zhytomyr": ("UA", {"en": ("Zhytomyr",), "uk": ("Житомир",), "ru": ("Житомир",)}),
    "cherkasy": ("UA", {"en": ("Cherkasy",), "uk": ("Черкаси",), "ru": ("Черкассы",)}),
    "rivne": ("UA", {"en": ("Rivne",), "uk": ("Рівне",), "ru": ("Ровно",)}),
    "lutsk": ("UA", {"en": ("Lutsk",), "uk": ("Луцьк",), "ru": ("Луцк",)}),
    "ternopil": ("UA", {"en": ("Ternopil",), "uk": ("Тернопіль",), "ru": ("Тернополь",)}),
    "uzhhorod": ("UA", {"en": ("Uzhhorod",), "uk": ("Ужгород",), "ru": ("Ужгород",)}),
    "chernivtsi": ("UA", {"en": ("Chernivtsi",), "uk": ("Чернівці",), "ru": ("Черновцы",)}),
    "ivano-frankivsk": (
        "UA",
        {"en": ("Ivano-Frankivsk",), "uk": ("Івано-Франківськ",), "ru": ("Ивано-Франковск",)},
    ),
    "kropyvnytskyi": (
        "UA",
        {"en": ("Kropyvnytskyi",), "uk": ("Кропивницький",), "ru": ("Кропивницкий",)},
    ),
    "khmelnytskyi": (
        "UA",
        {"en": ("Khmelnytskyi",), "uk": ("Хмельницький",), "ru": ("Хмельницкий",)},
    ),
    "sevastopol": ("UA", {"en": ("Sevastopol",), "uk": ("Севастополь",), "ru": ("Севастополь",)}),
    "bakhmut": ("UA", {"en": ("Bakhmut",), "uk": ("Бахмут",), "ru": ("Бахмут",)}),
    "crimea": ("UA", {"en": ("Crimea",), "uk": ("Крим",), "ru": ("Крым",)}),
    "donbas": ("UA", {"en": ("Donbas", "Donbass"), "uk": ("Донбас",), "ru": ("Донбасс",)}),
    "moscow": ("RU", {"en": ("Moscow",), "uk": ("Москва",), "ru": ("Москва",)}),
    "saint-petersburg": (
        "RU",
        {
            "en": ("Saint Petersburg", "St. Petersburg"),
            "uk": ("Санкт-Петербург", "Петербург"),
            "ru": ("Санкт-Петербург", "Петербург"),
        },
    ),
    "kaliningrad": ("RU", {"en": ("Kaliningrad",), "uk": ("Калінінград",), "ru": ("Калининград",)}),
    "minsk": ("BY", {"en": ("Minsk",), "uk": ("Мінськ",), "ru": ("Минск",)}),
    "vilnius": ("LT", {"en": ("Vilnius",), "uk": ("Вільнюс",), "ru": ("Вильнюс",)}),
    "riga": ("LV", {"en": ("Riga",), "uk": ("Рига",), "ru": ("Рига",)}),
    "tallinn": ("EE", {"en": ("Tallinn",), "uk": ("Таллінн",), "ru": ("Таллин",)}),
    "warsaw": ("PL", {"en": ("Warsaw",), "uk": ("Варшава",), "ru": ("Варшава",)}),
    "berlin": ("DE", {"en": ("Berlin",), "uk": ("Берлін",), "ru": ("Берлин",)}),
    "paris": ("FR", {"en": ("Paris",), "uk": ("Париж",), "ru": ("Париж",)}),
    "london": ("GB", {"en": ("London",), "uk": ("Лондон",), "ru": ("Лондон",)}),
    "washington": ("US", {"en": ("Washington",), "uk": ("Вашингтон",), "ru": ("Вашингтон",)}),
    "new-york": ("US", {"en": ("New York",), "uk": ("Нью-Йорк",), "ru": ("Нью-Йорк",)}),
    "brussels": ("BE", {"en": ("Brussels",), "uk": ("Брюссель",), "ru": ("Брюссель",)}),
    "vienna": ("AT", {"en": ("Vienna",), "uk": ("Відень",), "ru": ("Вена",)}),
    "prague": ("CZ", {"en": ("Prague",), "uk": ("Прага",), "ru": ("Прага",)}),
    "budapest": ("HU", {"en": ("Budapest",), "uk": ("Будапешт",), "ru": ("Будапешт",)}),
    "bucharest": ("RO", {"en": ("Bucharest",), "uk": ("Бухарест",), "ru": ("Бухарест",)}),
    "chisinau": ("MD", {"en": ("Chisinau",), "uk": ("Кишинів",), "ru": ("Кишинев",)}),
    "tbilisi": ("GE", {"en": ("Tbilisi",), "uk": ("Тбілісі",), "ru": ("Тбилиси",)}),
    "ankara": ("TR", {"en": ("Ankara",), "uk": ("Анкара",), "ru": ("Анкара",)}),
    "istanbul": ("TR", {"en": ("Istanbul",), "uk": ("Стамбул",), "ru": ("Стамбул",)}),
    "beijing": ("CN", {"en": ("Beijing",), "uk": ("Пекін",), "ru": ("Пекин",)}),
    "rome": ("IT", {"en": ("Rome",), "uk": ("Рим",), "ru": ("Рим",)}),
    "madrid": ("ES", {"en": ("Madrid",), "uk": ("Мадрид",), "ru": ("Мадрид",)}),
    "geneva": ("CH", {"en": ("Geneva",), "uk": ("Женева",), "ru": ("Женева",)}),
    "europe": (None, {"en": ("Europe",), "uk": ("Європа",), "ru": ("Европа",)}),
    "asia": (None, {"en": ("Asia",), "uk": ("Азія",), "ru": ("Азия",)}),
    "africa": (None, {"en": ("Africa",), "uk": ("Африка",), "ru": ("Африка",)}),
    "suwalki-gap": (
        None,
        {
            "en": ("Suwałki Gap", "Suwalki Gap", "Suwałki corridor", "Suwalki corridor"),
            "uk": ("Сувальський коридор", "Сувалкський коридор"),
            "ru": ("Сувалкский коридор", "Сувальский коридор"),
        },
    ),
    "black-sea": (None, {"en": ("Black Sea",), "uk": ("Чорне море",), "ru": ("Черное море",)}),
    "baltic-sea": (
        None,
        {"en": ("Baltic Sea",), "uk": ("Балтійське море",), "ru": ("Балтийское море",)},
    ),
}

# Organisations known across languages: key -> names per language (first = canonical).
ORGANISATIONS: Final[dict[str, dict[str, tuple[str, ...]]]] = {
    "nato": {"en": ("NATO",), "uk": ("НАТО", "Північноатлантичний альянс"), "ru": ("НАТО",)},
    "eu": {
        "en": ("European Union", "EU"),
        "uk": ("Європейський Союз", "Євросоюз", "ЄС"),
        "ru": ("Европейский союз", "Евросоюз", "ЕС"),
    },
    "un": {
        "en": ("United Nations", "UN"),
        "uk": ("Організація Об'єднаних Націй", "ООН"),
        "ru": ("Организация Объединенных Наций", "ООН"),
    },
    "osce": {"en": ("OSCE",), "uk": ("ОБСЄ",), "ru": ("ОБСЕ",)},
    "imf": {
        "en": ("International Monetary Fund", "IMF"),
        "uk": ("Міжнародний валютний фонд", "МВФ"),
        "ru": ("Международный валютный фонд", "МВФ"),
    },
    "european-commission": {
        "en": ("European Commission",),
        "uk": ("Європейська комісія", "Єврокомісія"),
        "ru": ("Европейская комиссия", "Еврокомиссия"),
    },
    "verkhovna-rada": {
        "en": ("Verkhovna Rada",),
        "uk": ("Верховна Рада",),
        "ru": ("Верховная Рада",),
    },
    "kremlin": {"en": ("Kremlin",), "uk": ("Кремль",), "ru": ("Кремль",)},
    "pentagon": {"en": ("Pentagon",), "uk": ("Пентагон",), "ru": ("Пентагон",)},
    # International institutions often named in economic and energy news.
    "world-bank": {"en": ("World Bank",), "uk": ("Світовий банк",), "ru": ("Всемирный банк",)},
    "ebrd": {
        "en": ("European Bank for Reconstruction and Development", "EBRD"),
        "uk": ("Європейський банк реконструкції та розвитку", "ЄБРР"),
        "ru": ("Европейский банк реконструкции и развития", "ЕБРР"),
    },
    "iea": {
        "en": ("International Energy Agency", "IEA"),
        "uk": ("Міжнародне енергетичне агентство", "МЕА"),
        "ru": ("Международное энергетическое агентство", "МЭА"),
    },
    "iaea": {
        "en": ("International Atomic Energy Agency", "IAEA"),
        "uk": ("Міжнародне агентство з атомної енергії", "МАГАТЕ"),
        "ru": ("Международное агентство по атомной энергии", "МАГАТЭ"),
    },
    # Ukrainian state companies and services that Ukrainian news names every day; the
    # English model takes their one-word names for surnames ("Ukrenergo", "Diia").
    "ukrenergo": {"en": ("Ukrenergo",), "uk": ("Укренерго",), "ru": ("Укрэнерго",)},
    "naftogaz": {
        "en": ("Naftogaz", "Naftogaz of Ukraine"),
        "uk": ("Нафтогаз", "Нафтогаз України"),
        "ru": ("Нафтогаз", "Нафтогаз Украины"),
    },
    "energoatom": {"en": ("Energoatom",), "uk": ("Енергоатом",), "ru": ("Энергоатом",)},
    "ukrzaliznytsia": {
        "en": ("Ukrzaliznytsia", "Ukrainian Railways"),
        "uk": ("Укрзалізниця",),
        "ru": ("Укрзализныця",),
    },
    "ukrposhta": {"en": ("Ukrposhta",), "uk": ("Укрпошта",), "ru": ("Укрпочта",)},
    "dtek": {"en": ("DTEK",), "uk": ("ДТЕК",), "ru": ("ДТЭК",)},
    # the state services app ("дія" is also the Ukrainian word "action": see COMMON_WORDS)
    "diia": {"en": ("Diia",), "uk": ("Дія",), "ru": ("Дия",)},
    # News and photo agencies credited in Latin script whatever the article's language.
    "getty-images": {
        "en": ("Getty Images",),
        "uk": ("Getty Images",),
        "ru": ("Getty Images",),
    },
    "associated-press": {
        "en": ("Associated Press",),
        "uk": ("Associated Press", "Асошіейтед Прес"),
        "ru": ("Associated Press", "Ассошиэйтед Пресс"),
    },
}

# Names above that are also everyday words of that language ("дія", action): found only in
# quotes or away from a sentence start, where a capital letter says it is the name.
COMMON_WORDS: Final[dict[str, frozenset[str]]] = {"uk": frozenset({"Дія"})}

# Legal forms that precede a quoted Ukrainian/Russian company name: ТОВ «Главбуд».
LEGAL_FORMS: Final[tuple[str, ...]] = tuple(
    "ТОВ ТзОВ ПАТ ПрАТ ПуАТ ВАТ ЗАТ АТ ДП ДК КП ПП ПФ ФГ СП ПВКП НАК ДАК ДПЗД ТДВ КНП ГО БФ "
    "ЧП ООО ОАО ЗАО ПАО АО ГУП ФГУП МУП НКО ФК ХК КБ".split()
)


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
def gazetteer_index(language: str) -> dict[str, tuple[str, str, str, str | None]]:
    """lookup form -> (type, canonical, key, country_code); forms are lemmatised for uk/ru."""
    index: dict[str, tuple[str, str, str, str | None]] = {}

    def add(name: str, entry: tuple[str, str, str, str | None]) -> None:
        for form in lookup_forms(name, language):
            index.setdefault(form, entry)

    # Own lists first, so they win over pycountry's long official names.
    for code, per_language in COUNTRY_ALIASES.items():
        names = per_language.get(language, ())
        for name in names:
            add(name, ("LOC", names[0], f"country:{code}", code))
    for code, official_names in _pycountry_names(language).items():
        canonical = official_names[0] if official_names else code
        for name in official_names:
            add(name, ("LOC", canonical, f"country:{code}", code))
    for key, (country, per_language) in PLACES.items():
        names = per_language.get(language, ())
        for name in names:
            add(name, ("LOC", names[0], f"loc:{key}", country))
    for key, per_language in ORGANISATIONS.items():
        names = per_language.get(language, ())
        for name in names:
            add(name, ("ORG", names[0], f"org:{key}", None))
    return index


def lookup_forms(surface: str, language: str) -> list[str]:
    """Keys under which a surface form is looked up: lemmas of every parse for uk/ru."""
    words = WORD.findall(surface)
    if not words:
        return []
    if language not in ("uk", "ru"):
        lowered = " ".join(w.casefold() for w in words)
        return [re.sub(r"^the ", "", lowered)]
    options = [word_options(word, language) for word in words]
    return [" ".join(combo) for combo in itertools.islice(itertools.product(*options), 16)]


@lru_cache(maxsize=100_000)
def word_options(word: str, language: str) -> tuple[str, ...]:
    """The forms one uk/ru word is looked up under: its lemmas and itself, folded."""
    folded = word.casefold().replace("ё", "е").replace("’", "'").replace("ʼ", "'")
    if word.isupper() and len(word) > 1:
        return (folded,)
    lemmas = {p.normal_form.replace("ё", "е") for p in morph_parses(word, language)}
    return tuple(sorted(lemmas | {folded})[:4])


@lru_cache(maxsize=3)
def common_word_keys(language: str) -> frozenset[str]:
    """Gazetteer keys of the names that are also everyday words (COMMON_WORDS)."""
    keys = set()
    for name in COMMON_WORDS.get(language, ()):
        entry = gazetteer_lookup(name, language)
        if entry is not None:
            keys.add(entry[2])
    return frozenset(keys)


@lru_cache(maxsize=3)
def first_words(language: str) -> frozenset[str]:
    """First words of the gazetteer's lookup forms: a window whose first word is none of
    these cannot match, whatever follows."""
    return frozenset(form.split(" ", 1)[0] for form in gazetteer_index(language))


def may_start_name(word: str, language: str) -> bool:
    first = first_words(language)
    if language not in ("uk", "ru"):
        folded = word.casefold()
        return folded == "the" or folded in first
    return any(option in first for option in word_options(word, language))


def gazetteer_lookup(surface: str, language: str) -> tuple[str, str, str, str | None] | None:
    index = gazetteer_index(language)
    for form in lookup_forms(surface, language):
        if form in index:
            return index[form]
    return None
