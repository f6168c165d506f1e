"""Plain text scraped from a page, furniture and all: label each line by its role (language
switcher, navigation, title, caption, byline, dateline, subheading, lead, paragraph, quote,
list, source line) and build the article from the labels. No extractor handles text, so
this one is our own.

Every check works on one line at a time with anchored, bounded patterns, and lines longer
than ``_MAX_FURNITURE_CHARS`` are body text without further checks, so the time is linear in
the size of the input whatever it holds."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Literal

from newsflow.contract import BlockKind
from newsflow.dates import published_or_none
from worker.pipeline.model import ImageRef, ParsedArticle, ParseError, TextBlock

Role = Literal[
    "switcher",  # "ua en ru": which translations exist
    "navigation",  # share, subscribe, "Read also:", cookies, ads, menus, breadcrumbs
    "title",
    "title_repeat",  # the headline again, e.g. as an image's alt text before its caption
    "caption",
    "byline",
    "dateline",  # "KYIV, Nov 24 (Reuters)" or a standalone "24 листопада 2023, 14:05"
    "source",  # "Source: …", "Джерело: …"
    "subheading",
    "lead",  # the first paragraph
    "paragraph",
    "quote",  # a line that is entirely a quotation (a pull quote)
    "list",
]
_BLOCK_KINDS: dict[str, BlockKind] = {
    "subheading": "subheading",
    "lead": "paragraph",
    "paragraph": "paragraph",
    "quote": "quote",
    "list": "list",
}
_FURNITURE_ROLES = {"switcher", "navigation", "read_also"}


# A line labelled by itself: "text" is decided by its neighbours (title, subheading, lead,
# paragraph), "read_also" is navigation that may announce a linked headline on the next line.
_Piece = tuple[Role | Literal["text", "read_also"], str]


@dataclass(frozen=True)
class LabelledLine:
    role: Role
    text: str


@dataclass
class _Labels:
    lines: list[LabelledLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# Longer lines are body text: furniture is never that long, and it keeps every pattern off
# megabyte-long lines.
_MAX_FURNITURE_CHARS = 2000
# Far beyond any article (a long one has a few hundred lines); bounds the time spent.
_MAX_LINES = 20_000
_HEADLINE_MAX_WORDS = 30
_SUBHEADING_MAX_WORDS = 14
_SUBHEADING_MAX_CHARS = 150
_BINARY_SHARE = 0.10  # control characters above this share of the text: not text at all
_SENTENCE_END = tuple(".!?…")
_FINAL_PUNCTUATION = tuple(".!?:;,…\"”»'")
_SUBHEADING_ENDINGS = tuple(".!:;,…\"”»'")  # a subheading may ask a question
_CONTINUED_LINE_ENDINGS = tuple(".!?:…")  # a hard-wrapped line stops anywhere else

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
# Cyrillic UTF-8 read as Latin-1 or cp1252: "Ð—ÐµÐ»ÐµÐ½" for "Зелен"
_MOJIBAKE = re.compile(r"[ÐÑ][\u0080-\u00bf\u0152-\u0192\u02c6-\u02dc\u2013-\u2122]")
_UNUSUAL = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u200b-\u200d\u2060\ufeff\u00ad\ufffdÐÑ]"
)

# --- language switcher ------------------------------------------------------------------

# Codes and names a site's language switcher shows ("ua en ru", "UA | RU | EN", "УКР ENG").
_SWITCHER_CODES = {
    "ua": "uk", "uk": "uk", "ukr": "uk", "укр": "uk", "українська": "uk", "українською": "uk",
    "ukrainian": "uk", "en": "en", "eng": "en", "english": "en", "англ": "en",
    "ru": "ru", "rus": "ru", "рус": "ru", "русский": "ru", "російська": "ru", "russian": "ru",
    "de": "de", "deutsch": "de", "fr": "fr", "pl": "pl", "polski": "pl", "es": "es",
    "it": "it", "be": "be", "by": "be", "kz": "kk", "lt": "lt", "lv": "lv", "et": "et",
    "ro": "ro", "cs": "cs", "sk": "sk", "hu": "hu", "bg": "bg", "ka": "ka", "tr": "tr",
    "pt": "pt", "zh": "zh", "ar": "ar", "he": "he", "ja": "ja", "crh": "crh", "qirim": "crh",
}  # fmt: skip
_SWITCHER_SPLIT = re.compile(r"[\s|/·•,]+")
_SWITCHER_PREFIXES = {code[:2] for code in _SWITCHER_CODES}

# --- navigation -------------------------------------------------------------------------

_READ_ALSO = re.compile(
    r"^(?:read (?:also|more)|see also|also read|more on (?:this|the topic)|"
    r"читайте (?:також|также|тоже|ще|еще|більше|больше)|(?:також|также) читайте|"
    r"дивіться також|смотрите также|читати також|читать также|читайте по темі|більше на тему|"
    r"(?:related|по темі|по теме|на тему|more)\s*[:：])",
    re.IGNORECASE,
)
_SUBSCRIBE = re.compile(
    r"^(?:subscribe|sign up|follow us|join (?:us|our)|stay (?:informed|tuned|connected)|"
    r"get (?:our|the latest)|download (?:our|the) app|"
    r"підписуйтес[ья]|підпишіться|підписатися|подписывайтесь|подпишитесь|подписаться|"
    r"стежте за|слідкуйте за|следите за|приєднуйтес[ья]|присоединяйтесь|"
    r"читайте (?:нас|нові|новини|новости|главное|головне)\b.{0,40}\b(?:в|у|on|in)\b|"
    r"(?:більше|больше|more|всі|все|усі) (?:новин|новостей|news)\b.{0,60}"
    r"(?:telegram|телеграм|viber|вайбер|facebook|youtube|instagram|whatsapp))",
    re.IGNORECASE,
)
_SOCIAL_TOKENS = {
    "facebook", "twitter", "x", "telegram", "viber", "whatsapp", "linkedin", "email", "e-mail",
    "pinterest", "reddit", "vk", "vkontakte", "ok", "instagram", "youtube", "tiktok", "threads",
    "messenger", "copy", "link", "share", "поділитися", "поделиться", "поширити", "flipboard",
    "pocket", "print", "друк", "печать", "скопіювати", "копировать", "посилання", "ссылку",
}  # fmt: skip
# "Share this article", "Поділитися в Facebook"; not "Share prices rose …".
_SHARE = re.compile(
    r"^(?:share|поділитися|поделиться|поширити|tweet|copy link|скопіювати посилання|"
    r"копировать ссылку)(?:\s+(?:this|on|via|to|in|в|у|через|на)\b.{0,60})?$",
    re.IGNORECASE,
)
_NAVIGATION_EXACT = {
    "advertisement", "реклама", "sponsored", "ad", "ads", "partner content", "menu", "меню",
    "search", "пошук", "поиск", "comments", "коментарі", "комментарии", "back to top", "наверх",
    "load more", "показати ще", "показать еще", "показать ещё", "завантажити ще", "all news",
    "усі новини", "всі новини", "все новости", "more news", "більше новин", "больше новостей",
    "accept", "accept all", "прийняти", "принять", "згоден", "согласен", "close", "закрити",
    "закрыть", "login", "log in", "sign in", "увійти", "войти", "subscribe", "підписатися",
    "подписаться", "most read", "найпопулярніше", "популярное", "популярне", "latest news",
    "останні новини", "последние новости", "related articles", "схожі новини",
    "похожие новости", "top stories", "новини партнерів", "новости партнеров", "home",
    "головна", "главная", "print", "друк", "печать", "listen", "слухати", "слушать",
}  # fmt: skip
# Site sections: a line of these alone is a menu, not a headline.
_SECTION_WORDS = {
    "news", "politics", "economy", "business", "world", "sport", "sports", "culture",
    "opinion", "opinions", "video", "videos", "photo", "photos", "society", "tech",
    "technology", "science", "health", "life", "lifestyle", "war", "blogs", "interview",
    "analytics", "finance", "markets", "travel", "home", "новини", "політика", "економіка",
    "світ", "спорт", "культура", "суспільство", "відео", "фото", "здоров'я", "здоров’я",
    "технології", "наука", "війна", "блоги", "інтерв'ю", "інтерв’ю", "аналітика", "фінанси",
    "головна", "новости", "политика", "экономика", "мир", "общество", "видео", "здоровье",
    "технологии", "война", "интервью", "аналитика", "финансы", "главная", "регіони", "регионы",
}  # fmt: skip
_COOKIE = re.compile(r"\b(?:cookies?|кукі|куки|cookie-файл\w*)", re.IGNORECASE)
# The site speaking about itself: "We use cookies", not prose about cookies.
_COOKIE_CONSENT = re.compile(
    r"\b(?:we|our (?:site|website)|this (?:site|website)|by (?:continuing|using)|accept|"
    r"ми|наш сайт|цей сайт|сайт використовує|продовжуючи|прийняти|"
    r"мы|этот сайт|сайт использует|продолжая|принять)\b",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(
    r"(?:©|\(c\)\s|copyright\b|при (?:використанні|цитуванні|использовании|цитировании)\b|"
    r"(?:використання|использование) матеріал|использование материал)",
    re.IGNORECASE,
)
_RIGHTS_RESERVED = ("rights reserved", "права захищені", "права защищены")
_BREADCRUMB = re.compile(r"^(?:home|головна|главная)\s*[>›»/|→]", re.IGNORECASE)
_BREADCRUMB_SEPARATOR = re.compile(r"\s[>›»→]\s")
_TAGS = re.compile(r"^(?:tags|теги|теґи|мітки|метки|ключові слова|ключевые слова)\s*:", re.I)
_COUNTERS = re.compile(
    r"^(?:👁\s*)?\d[\d\s.,]*[kк]?\s*(?:views?|переглядів|перегляди|перегляд|просмотров|"
    r"просмотра|просмотр)$|"
    r"^\d+\s*(?:min(?:ute)?s?\.?\s+read|хв(?:илин[аи]?)?\.?\s+читання|"
    r"мин(?:ут[аы]?)?\.?\s+(?:чтения|читать))$|"
    r"^(?:reading time|час читання|время чтения)\s*:.{0,20}$|"
    r"^(?:comments?|коментар\w*|комментар\w*)\s*(?:\(\d+\)|\d+)$",
    re.IGNORECASE,
)
# An embedded video's placeholder: "Відео: YouTube", "Watch the video"
_EMBED = re.compile(
    r"^(?:video|відео|видео)\s*[:：].{0,80}$|"
    r"^(?:watch|дивіться|смотрите) (?:the )?(?:video|відео|видео)\b.{0,40}$",
    re.IGNORECASE,
)
_HAS_WORD_CHARACTER = re.compile(r"\w")
# One pass for every navigation line known by how it starts.
_NAVIGATION_START = re.compile(
    "|".join(
        f"(?:{pattern.pattern})"
        for pattern in (_SUBSCRIBE, _SHARE, _COPYRIGHT, _BREADCRUMB, _TAGS, _COUNTERS, _EMBED)
    ),
    re.IGNORECASE,
)

# --- captions ---------------------------------------------------------------------------

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

# --- byline, source, dateline -----------------------------------------------------------

_BYLINE = re.compile(
    r"^(?:(?:written |reporting |text )?by\s+|"
    r"(?:author|authors|автор|авторка|автори|авторы|текст|text)\s*(?:[:：]|\s[—–-])\s*)",
    re.IGNORECASE,
)
_REPORTING_CREDITS = re.compile(
    r"^\(?(?:reporting|writing|additional reporting) by\b.*(?:editing by\b.*)?\)?$", re.I
)
_AUTHOR_SEPARATORS = re.compile(r",\s*|;\s*|\s+(?:and|&|та|і|й|и)\s+")
_SOURCE = re.compile(r"^(?:source|sources|джерело|джерела|источник|источники)\s*[:：]\s*\S", re.I)
_META_SEPARATOR = re.compile(r"\s+[|·•—–]\s+")

_PLACE = r"[A-ZА-ЯІЇЄҐ][\w'’.\-]*(?:\s[A-ZА-ЯІЇЄҐ][\w'’.\-]*){0,2}"
_DATELINE_PREFIX = re.compile(
    rf"^(?P<place>{_PLACE})(?:,\s(?P<detail>[^()\-—–,]{{2,30}}?)){{0,2}}"
    r"(?:\s?\((?P<agency>[^()]{2,40})\))?\s?(?:--|[-—–])\s"
)

# --- dates ------------------------------------------------------------------------------

_MONTHS = {
    **dict.fromkeys(["jan", "january", "січня", "січень", "января", "январь"], 1),
    **dict.fromkeys(["feb", "february", "лютого", "лютий", "февраля", "февраль"], 2),
    **dict.fromkeys(["mar", "march", "березня", "березень", "марта", "март"], 3),
    **dict.fromkeys(["apr", "april", "квітня", "квітень", "апреля", "апрель"], 4),
    **dict.fromkeys(["may", "травня", "травень", "мая", "май"], 5),
    **dict.fromkeys(["jun", "june", "червня", "червень", "июня", "июнь"], 6),
    **dict.fromkeys(["jul", "july", "липня", "липень", "июля", "июль"], 7),
    **dict.fromkeys(["aug", "august", "серпня", "серпень", "августа", "август"], 8),
    **dict.fromkeys(["sep", "sept", "september", "вересня", "вересень", "сентября"], 9),
    **dict.fromkeys(["oct", "october", "жовтня", "жовтень", "октября", "октябрь"], 10),
    **dict.fromkeys(["nov", "november", "листопада", "листопад", "ноября", "ноябрь"], 11),
    **dict.fromkeys(["dec", "december", "грудня", "грудень", "декабря", "декабрь"], 12),
}
_WEEKDAYS = {
    "mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday", "thu", "thursday", "fri",
    "friday", "sat", "saturday", "sun", "sunday", "понеділок", "вівторок", "середа", "четвер",
    "пʼятниця", "п'ятниця", "п’ятниця", "субота", "неділя", "понедельник", "вторник", "среда",
    "четверг", "пятница", "суббота", "воскресенье",
}  # fmt: skip
_RELATIVE_DAYS = {"today", "yesterday", "сьогодні", "вчора", "сегодня", "вчера"}
_DATE_FILLERS = {"at", "о", "об", "в", "р", "року", "г", "года", "on", "t", "-", "—", "–", "|"}
_TIME_ZONES = {
    "utc": 0, "gmt": 0, "z": 0, "eet": 2, "eest": 3, "cet": 1, "cest": 2, "msk": 3,
    "est": -5, "edt": -4, "kyiv": None, "київ": None, "киев": None,
}  # fmt: skip
_DATE_LABEL = re.compile(
    r"^(?:(?P<updated>updated|last updated|оновлено|обновлено)|published|posted|date|"
    r"опубліковано|дата публікації|опубликовано|дата публикации|дата)\s*(?:on)?\s*[:：]?\s*",
    re.IGNORECASE,
)
_DATE_TOKEN_SPLIT = re.compile(r"[\s,]+|(?<=\d)(?=[a-zа-я])|(?<=[a-zа-я])(?=\d)")
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"\w+")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:t(\d{2}):(\d{2})(?::\d{2})?)?$")
_OFFSET = re.compile(r"^(?:utc|gmt)?([+-])(\d{1,2})(?::?(\d{2}))?$")

# --- body -------------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"^(?:[-*•·▪●◦‣✓✔]\s+|\d{1,2}[.)]\s+)\S")
_DIALOGUE = re.compile(r"\s[-–—]\s")
_QUOTE_PAIRS = {"“": "”", "«": "»", "„": "“", '"': '"', "‘": "’"}

# --- names (people in captions, authors in bylines) -------------------------------------

_NAME_PARTICLES = {"von", "van", "de", "der", "den", "da", "di", "del", "bin", "ibn", "al", "la"}
_NOT_NAMES = {
    "the", "a", "an", "this", "that", "in", "on", "at", "photo", "фото", "new", "united",
    "north", "south", "east", "west", "saint", "san", "los", "las", "great", "european",
    "national", "state", "white", "red", "black", "ministry", "міністерство", "министерство",
    "armed", "reuters", "getty", "images", "слава", "glory", "україна", "україни", "україні",
    "ukraine", "росія", "россия", "russia", "київ", "києві", "kyiv", "москва", "moscow",
} | set(_MONTHS) | _WEEKDAYS  # fmt: skip
# Titles in front of a name move to the role: "President Volodymyr Zelensky".
_ROLE_WORDS = {
    "president", "prime", "minister", "foreign", "defense", "defence", "chancellor",
    "secretary", "senator", "general", "gen.", "mayor", "ambassador", "pope", "king", "queen",
    "prince", "spokesperson", "spokesman", "speaker", "commander", "chief", "head", "dr.",
    "президент", "прем'єр-міністр", "прем’єр-міністр", "премьер-министр", "міністр",
    "министр", "канцлер", "посол", "мер", "голова", "глава", "спікер", "спикер", "генерал",
    "командувач", "командующий", "речник", "очільник", "секретар", "секретарь",
}  # fmt: skip


def language_switcher(line: str) -> list[str] | None:
    """The languages a switcher line like "ua en ru" offers, or None if it is not one."""
    line = line.strip()
    if len(line) > 80 or line[:2].casefold() not in _SWITCHER_PREFIXES:
        return None
    tokens = [token for token in _SWITCHER_SPLIT.split(line.casefold()) if token]
    if len(tokens) < 2 or not all(token in _SWITCHER_CODES for token in tokens):
        return None
    return list(dict.fromkeys(_SWITCHER_CODES[token] for token in tokens))


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


def label_lines(text: str, title: str | None = None) -> list[LabelledLine]:
    """Each line of the text with its role, in order (a line may give two labels, e.g. the
    dateline and the lead of "KYIV, Nov 24 (Reuters) - Ukraine said …")."""
    return _label(text, title).lines


def parse_text(text: str, title: str | None = None) -> ParsedArticle:
    labels = _label(text, title)
    article = ParsedArticle(blocks=[], title=title, warnings=labels.warnings)
    previous_role: Role | None = None
    for line in labels.lines:
        role = line.role
        if role == "switcher":
            found = language_switcher(line.text) or []
            article.alternates.extend(code for code in found if code not in article.alternates)
        elif role == "title":
            article.title = line.text
            article.provenance["title"] = "heuristic"
        elif role == "byline":
            _add_byline(article, line.text)
        elif role == "dateline":
            _add_dateline(article, line.text)
        elif role == "source":
            article.source_line = article.source_line or line.text
        elif role == "caption":
            article.images.append(split_caption(line.text))
            article.blocks.append(TextBlock("caption", line.text))
        elif role == "list" and previous_role == "list" and article.blocks:
            # Consecutive items are one list; keep each item on its own line.
            article.blocks[-1] = TextBlock("list", f"{article.blocks[-1].text}\n{line.text}")
        elif role in _BLOCK_KINDS:
            article.blocks.append(TextBlock(_BLOCK_KINDS[role], line.text))
        if role != "navigation":
            previous_role = role
    if not any(block.kind != "caption" for block in article.blocks):
        if article.title:
            raise ParseError("the text has a title but no paragraphs")
        raise ParseError("the text has no article paragraphs, only page furniture")
    return article


# --- labelling --------------------------------------------------------------------------


def _label(text: str, title: str | None) -> _Labels:
    labels = _Labels()
    lines = _clean_lines(text, labels.warnings)
    pieces = [piece for line in lines for piece in _intrinsic_labels(line)]
    if all(role in _FURNITURE_ROLES for role, _ in pieces):
        raise ParseError(
            "the text has only site navigation (language switcher, share, subscribe or "
            "'read also' lines), no article"
        )
    _assign_context_roles(pieces, title, labels)
    return labels


def _clean_lines(text: str, warnings: list[str]) -> list[str]:
    """Non-empty lines with spaces normalised. Hard-wrapped paragraphs are joined again:
    a long line that stops mid-sentence followed by one starting in lower case."""
    if not text or not text.strip():
        raise ParseError("the text is empty")
    if _UNUSUAL.search(text):  # rare: most texts skip every repair below
        text = _repair(text, warnings)
    # Each line as its parts: a hard-wrapped paragraph is several physical lines, joined
    # once at the end (joining as we go would copy the growing line each time).
    lines: list[list[str]] = []
    previous = ""  # the physical line before, "" after a blank line
    for raw in text.splitlines():
        line = " ".join(raw.split())  # every kind of space, and runs of them, as one space
        if not line:
            previous = ""
            continue
        if len(line) > _MAX_FURNITURE_CHARS * 50:
            warnings.append(
                f"a line of {len(line):,} characters without a line break: kept whole as "
                "one paragraph"
            )
        if (
            len(previous) >= 50
            and not previous.endswith(_CONTINUED_LINE_ENDINGS)
            and line[0].islower()
            and not _LIST_ITEM.match(line)
        ):
            lines[-1].append(line)
        else:
            lines.append([line])
            if len(lines) > _MAX_LINES:
                # refuse now: building a list per line of a huge text costs more than
                # linear time (the garbage collector walks every list made so far)
                count = sum(1 for raw in text.splitlines() if raw.strip())
                raise ParseError(
                    f"the text has about {count:,} lines; an article has at most {_MAX_LINES:,}"
                )
        previous = line
    if not lines:
        raise ParseError("the text is empty")
    return [" ".join(parts) for parts in lines]


def _repair(text: str, warnings: list[str]) -> str:
    """Undo UTF-8 read as Latin-1, drop control and invisible characters (refusing binary
    data), and say what looks mis-decoded."""
    if len(_MOJIBAKE.findall(text[:100_000])) > 20:
        for wrong_encoding in ("latin-1", "cp1252"):
            try:
                text = text.encode(wrong_encoding).decode("utf-8")
            except UnicodeError:
                continue
            warnings.append(f"the text was UTF-8 read as {wrong_encoding}: decoded it again")
            break
        else:
            warnings.append("the text looks like UTF-8 read with the wrong encoding (mojibake)")
    control = len(_CONTROL.findall(text))
    if control:
        share = control / len(text)
        if share > _BINARY_SHARE:
            raise ParseError(
                f"the text looks like binary data, not text ({share:.0%} control characters)"
            )
        text = _CONTROL.sub("", text)
        warnings.append(f"removed {control} control characters")
    replacements = text.count("\ufffd")
    if replacements:
        warnings.append(
            f"{replacements} replacement characters (\ufffd): part of the text was decoded "
            "with the wrong encoding"
        )
    return _INVISIBLE.sub("", text)


def _intrinsic_labels(line: str) -> list[_Piece]:
    """What a line is by itself, before its neighbours are known. "text" lines become the
    title, subheadings or paragraphs later; "read_also" is navigation that may announce a
    headline on the next line."""
    if len(line) > _MAX_FURNITURE_CHARS:
        return [("text", line)]
    if language_switcher(line):
        return [("switcher", line)]
    if _READ_ALSO.match(line):
        return [("read_also", line)]
    if _is_navigation(line):
        return [("navigation", line)]
    if _SOURCE.match(line) and len(line.split()) <= 25:
        return [("source", line)]
    if _is_caption(line):
        return [("caption", line)]
    if _byline_authors(line) is not None or _REPORTING_CREDITS.match(line):
        return [("byline", line)]
    if _is_date_line(line):
        return [("dateline", line)]
    if len(line) <= 200 and _META_SEPARATOR.search(line):
        # "By Jane Doe | Nov 24, 2023 | 5 min read", "Олена Рощіна — 27 листопада, 10:15":
        # label each part by itself; a bare name next to a date is the author.
        parts = _META_SEPARATOR.split(line)
        labelled = [_intrinsic_labels(part)[0] for part in parts]
        if any(role == "dateline" for role, _ in labelled):
            labelled = [
                ("byline", part) if role == "text" and _is_person_name(part) else (role, part)
                for role, part in labelled
            ]
        if all(role in ("byline", "dateline", "navigation") for role, _ in labelled):
            return labelled
    if _LIST_ITEM.match(line) and not _is_dialogue(line):
        return [("list", line)]
    if _is_pull_quote(line):
        return [("quote", line)]
    return [("text", line)]


def _assign_context_roles(
    pieces: list[_Piece],
    title: str | None,
    labels: _Labels,
) -> None:
    out = labels.lines
    title_key = _key(title) if title else None
    body_started = False
    paragraphs = 0
    swallow_headline = False  # after a bare "Read also:", the next headline is a link
    last_body_index = max(
        (i for i, (role, _) in enumerate(pieces) if role in ("text", "list", "quote")),
        default=-1,
    )
    last_content_index = max(
        (i for i, (role, _) in enumerate(pieces) if role not in _FURNITURE_ROLES), default=-1
    )
    for index, (role, line) in enumerate(pieces):
        if role == "read_also":
            out.append(LabelledLine("navigation", line))
            swallow_headline = _READ_ALSO.sub("", line).strip(" :-—–") == ""
            continue
        if swallow_headline and role == "text" and _is_headline_like(line, max_words=25):
            out.append(LabelledLine("navigation", line))
            swallow_headline = False
            continue
        swallow_headline = False
        if role == "caption":
            alt_text, caption = _alt_text_and_caption(line)
            if alt_text:
                if title_key and _key(alt_text) == title_key:
                    out.append(LabelledLine("title_repeat", alt_text))
                elif title_key is None and not body_started:
                    out.append(LabelledLine("title", alt_text))  # the only copy of the headline
                    title, title_key = alt_text, _key(alt_text)
                else:
                    out.append(LabelledLine("navigation", alt_text))
                line = caption
        if role == "list" and line[0] in "-–" and not _has_list_neighbour(pieces, index):
            role = "text"  # "- Ми не здамося." alone is speech, not a one-item list
        if role != "text":
            if role in ("list", "quote"):
                body_started = True
            out.append(LabelledLine(role, line))
            continue
        if len(line) > _MAX_FURNITURE_CHARS:  # body text, whatever it holds
            body_started = True
            out.append(LabelledLine("lead" if paragraphs == 0 else "paragraph", line))
            paragraphs += 1
            continue
        if title_key and (
            _key(line) == title_key
            or (not body_started and paragraphs == 0 and _same_headline(line, title_key))
        ):
            out.append(LabelledLine("title_repeat", line))
            continue
        caption_after_title = _strip_title_prefix(line, title)
        if caption_after_title:
            out.append(LabelledLine("title_repeat", line[: -len(caption_after_title)].strip()))
            out.append(LabelledLine("caption", caption_after_title))
            continue
        has_more_body = index < last_body_index
        if not body_started:
            if _is_menu(line) and has_more_body:
                out.append(LabelledLine("navigation", line))
                continue
            # A headline heads something: a lone line is the article itself.
            if title_key is None and index < last_content_index and _is_headline_like(line):
                out.append(LabelledLine("title", line))
                title, title_key = line, _key(line)
                continue
        if index == last_body_index and body_started and _is_bare_name(line):
            out.append(LabelledLine("byline", line))  # the author signs at the end
            continue
        if (
            body_started
            and has_more_body
            and _is_subheading_like(line)
            and _next_text_is_body(pieces, index)
        ):
            out.append(LabelledLine("subheading", line))
            continue
        body_started = True
        if paragraphs == 0:
            dateline, line = _split_dateline(line, is_lead=True)
            if dateline:
                out.append(LabelledLine("dateline", dateline))
        out.append(LabelledLine("lead" if paragraphs == 0 else "paragraph", line))
        paragraphs += 1


def _has_list_neighbour(pieces: list[_Piece], index: int) -> bool:
    before = pieces[index - 1][0] if index > 0 else None
    after = pieces[index + 1][0] if index + 1 < len(pieces) else None
    return "list" in (before, after)


def _next_text_is_body(pieces: list[_Piece], index: int) -> bool:
    """Whether the next body line is a paragraph, list or quote: a subheading heads text."""
    for following in range(index + 1, len(pieces)):
        role, line = pieces[following]
        if role in ("list", "quote"):
            return True
        if role == "text":
            return len(line) > _SUBHEADING_MAX_CHARS or not (
                _is_subheading_like(line) or _is_bare_name(line)
            )
    return False


# --- line tests -------------------------------------------------------------------------


def _is_navigation(line: str) -> bool:
    folded = line.casefold().strip(" .!:")
    if folded in _NAVIGATION_EXACT or not _HAS_WORD_CHARACTER.search(line):
        return True
    words = line.count(" ") + 1  # lines are space-normalised
    if words > 60:
        return False
    if words <= 40 and _NAVIGATION_START.match(line):
        return True
    if words <= 12 and folded.split(" ", 1)[0] in _SOCIAL_TOKENS:
        tokens = [t for t in _SWITCHER_SPLIT.split(folded) if t]
        if len(tokens) >= 2 and all(token in _SOCIAL_TOKENS for token in tokens):
            return True  # "Facebook Twitter Email"
    if ("cook" in folded or "кук" in folded) and _COOKIE.search(line):
        return bool(_COOKIE_CONSENT.search(line))
    if words <= 40 and any(phrase in folded for phrase in _RIGHTS_RESERVED):
        return True
    if words <= 20 and any(separator in line for separator in "›>»→"):
        parts = _BREADCRUMB_SEPARATOR.split(line)
        return len(parts) >= 2 and all(len(part.split()) <= 4 for part in parts)
    return False


def _is_menu(line: str) -> bool:
    """A row of site sections ("News Politics Economy"), or a rubric or site name of one
    or two words before the headline."""
    tokens = [t.strip(".,|/·•").casefold() for t in line.split()]
    tokens = [t for t in tokens if t]
    if len(tokens) <= 2 and not line.endswith(_SENTENCE_END):
        return True
    known = sum(token in _SECTION_WORDS for token in tokens)
    return known >= 2 and known / len(tokens) >= 0.6


def _is_caption(line: str) -> bool:
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
    if _alt_text_and_caption(line)[0]:
        return True
    return bool(_AGENCY_CREDIT.search(line)) and len(line.split()) <= 50


def _is_date_line(line: str) -> bool:
    return len(line) <= 80 and bool(_DIGIT.search(line)) and _parse_date(line) is not False


def _is_headline_like(line: str, max_words: int = _HEADLINE_MAX_WORDS) -> bool:
    # A headline may ask or exclaim, but does not end like a sentence in prose.
    return len(line.split()) <= max_words and not line.endswith((".", ":", ";", ",", "…"))


def _is_subheading_like(line: str) -> bool:
    return (
        len(line) <= _SUBHEADING_MAX_CHARS
        and len(line.split()) <= _SUBHEADING_MAX_WORDS
        and not line.endswith(_SUBHEADING_ENDINGS)
    )


def _is_dialogue(line: str) -> bool:
    """ "- Ми не здамося, - сказав він." is speech, not a list item."""
    return bool(_DIALOGUE.search(line[2:]))


def _is_pull_quote(line: str) -> bool:
    """The whole line is one quotation: “…”, «…», „…“ or "…" (a final full stop allowed),
    with no closing mark inside that would mean an attribution follows."""
    opening = line[0]
    closing = _QUOTE_PAIRS.get(opening)
    if closing is None or len(line) < 12:
        return False
    body = line[1:].rstrip(".")
    if not body.endswith(closing):
        return False
    inner = body[: -len(closing)]
    if closing in inner:
        return False
    return opening == closing or opening not in inner


# --- captions ---------------------------------------------------------------------------


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


def _strip_title_prefix(line: str, title: str | None) -> str | None:
    """The caption after a repeated headline, or None when the line does not start with it."""
    if not title:
        return None
    normalised = " ".join(title.split())
    if len(line) > len(normalised) and line.casefold().startswith(normalised.casefold()):
        rest = line[len(normalised) :].strip()
        if _CAPTION.match(rest) or _ILLUSTRATIVE.match(rest):
            return rest
    return None


def _alt_text_and_caption(line: str) -> tuple[str | None, str]:
    """ "<alt text> Photo: …": scraped pages often put an image's alt text (usually the
    headline) right before its caption."""
    match = _MID_LINE_CAPTION_LABEL.search(line[:400])
    if not match:
        return None, line
    alt_text, caption = line[: match.start()].strip(), line[match.end() :]
    if len(alt_text.split()) < 4 or not _is_headline_like(alt_text) or len(caption.split()) > 30:
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
    if len(words) >= 3 and words[0].casefold() in _ROLE_WORDS:
        # "President of Ukraine Volodymyr Zelensky": the name is the last two words.
        take = 3 if len(words) >= 4 and words[-3].endswith(".") else 2
        name = " ".join(words[-take:])
        if _is_person_name(name):
            return [name], " ".join(words[:-take])
    return [], None


def _names(text: str) -> list[str]:
    parts = [part.strip() for part in _AUTHOR_SEPARATORS.split(text) if part.strip()]
    if parts and all(_is_person_name(part) for part in parts):
        return parts
    return []


def _is_person_name(text: str, allow_capitals: bool = False) -> bool:
    tokens = text.split()
    if not 2 <= len(tokens) <= 4 or tokens[0].casefold() in _NOT_NAMES:
        return False
    if tokens[0].casefold() in _ROLE_WORDS or tokens[-1].casefold() in _NAME_PARTICLES:
        return False
    full_words = 0
    for token in tokens:
        if token.casefold() in _NAME_PARTICLES:
            continue
        if len(token) == 2 and token[0].isupper() and token[1] == ".":
            continue  # an initial
        letters = token.replace("-", "").replace("'", "").replace("’", "").replace("ʼ", "")
        if not letters.isalpha() or not token[0].isupper():
            return False
        if not allow_capitals and letters.isupper():
            return False
        if token.casefold() in _NOT_NAMES:
            return False
        full_words += 1
    return full_words >= 1 and sum(len(t) > 2 for t in tokens) >= 1


def _is_bare_name(line: str) -> bool:
    return _is_person_name(line.rstrip("."))


# --- byline -----------------------------------------------------------------------------


def _byline_authors(line: str) -> list[str] | None:
    """The authors a byline names ("By Jane Doe and John Smith", "Автор: Іван Петренко"),
    or None when the line is not a byline."""
    match = _BYLINE.match(line)
    if not match or len(line.split()) > 16:
        return None
    names_text = line[match.end() :].strip().rstrip(".")
    parts = [part.strip() for part in _AUTHOR_SEPARATORS.split(names_text) if part.strip()]
    is_labelled = line[: match.end()].strip().endswith((":", "：", "—", "–", "-"))
    # "By the end of the year, …" is prose: after a bare "By" the first part must be a name.
    # A labelled byline ("Автор: Редакція") is one whatever follows.
    if not is_labelled and not (parts and _is_person_name(parts[0], allow_capitals=True)):
        return None
    names = [part for part in parts if _is_person_name(part, allow_capitals=True)]
    return [name.title() if name.isupper() else name for name in names]  # "By JANE DOE"


def _add_byline(article: ParsedArticle, line: str) -> None:
    authors = _byline_authors(line)
    if authors is None:
        if _REPORTING_CREDITS.match(line):
            authors = _reporters(line)
        else:
            authors = [line.rstrip(".")]  # a name signing the end of the article
    article.byline = article.byline or line
    new = [author for author in authors if author not in article.authors]
    if new:
        article.authors.extend(new)
        article.provenance["authors"] = "heuristic"


def _reporters(line: str) -> list[str]:
    """ "(Reporting by Olena Harmash; Editing by Mark Heinrich)": the reporters."""
    text = line.strip("() ")
    names: list[str] = []
    for segment in text.split(";"):
        segment = segment.strip()
        if segment.casefold().startswith("editing by"):
            continue
        segment = re.sub(r"^(?:additional )?(?:reporting|writing) by\s+", "", segment, flags=re.I)
        names.extend(p for p in _AUTHOR_SEPARATORS.split(segment) if _is_person_name(p.strip()))
    return [name.strip() for name in names]


# --- dateline and dates -----------------------------------------------------------------


def _split_dateline(line: str, is_lead: bool) -> tuple[str | None, str]:
    """ "KYIV, Nov 24 (Reuters) - Ukraine said …" -> ("KYIV, Nov 24 (Reuters)", "Ukraine …")."""
    match = _DATELINE_PREFIX.match(line[:160])
    if not match:
        return None, line
    place = match.group("place")
    capitals = place.replace(" ", "").replace(".", "").replace("-", "")
    is_capitals = capitals.isupper() and len(capitals) >= 3
    has_date = bool(match.group("detail")) and _parse_date(match.group("detail") or "") is not False
    if not (match.group("agency") or has_date or (is_capitals and is_lead)):
        return None, line
    rest = line[match.end() :].strip()
    if not rest:
        return None, line
    return line[: match.end()].strip().rstrip("-—–").strip(), rest


def _add_dateline(article: ParsedArticle, line: str) -> None:
    """The first dateline is kept, except that a journalist's dateline, which names the place
    ("KYIV, Nov 24 (Reuters)"), wins over a bare date line. "Updated …" lines say nothing
    about publication."""
    if _is_update(line):
        return
    parsed = _parse_date(line)
    names_place = parsed is False
    if article.dateline is None or (names_place and _parse_date(article.dateline) is not False):
        article.dateline = line
    if article.published_at is None and isinstance(parsed, datetime):
        article.published_at = parsed
        article.provenance["published_at"] = "heuristic"


def _is_update(line: str) -> bool:
    label = _DATE_LABEL.match(line)
    return bool(label and label.group("updated"))


def _parse_date(text: str) -> datetime | None | Literal[False]:
    """A line that is only a date and/or time: the datetime (read as UTC unless a zone is
    given), None when it is a date without a full calendar date ("Today, 14:05", "Nov 24"),
    False when the line is not a date at all."""
    text = _DATE_LABEL.sub("", text.strip(), count=1).casefold().rstrip(".")
    tokens = [t.strip(".") for t in _DATE_TOKEN_SPLIT.split(text)]
    tokens = [t for t in tokens if t and t not in _DATE_FILLERS]
    if not tokens or len(tokens) > 9:
        return False
    day = month = year = hour = minute = None
    offset: int | None = None
    pm: bool | None = None
    relative = False
    for token in tokens:
        if token in _MONTHS and month is None:
            month = _MONTHS[token]
        elif token in _WEEKDAYS:
            continue
        elif token in _RELATIVE_DAYS:
            relative = True
        elif token in ("am", "pm", "a.m", "p.m"):
            pm = token.startswith("p")
        elif token in _TIME_ZONES:
            offset = _TIME_ZONES[token]
        elif (time := _TIME.match(token)) and hour is None:
            hour, minute = int(time.group(1)), int(time.group(2))
        elif (numeric := _NUMERIC_DATE.match(token)) and day is None:
            day, month, year = int(numeric.group(1)), int(numeric.group(2)), int(numeric.group(3))
        elif (iso := _ISO_DATE.match(token)) and day is None:
            year, month, day = int(iso.group(1)), int(iso.group(2)), int(iso.group(3))
            if iso.group(4):
                hour, minute = int(iso.group(4)), int(iso.group(5))
        elif (zone := _OFFSET.match(token)) and offset is None:
            hours = int(zone.group(2)) + int(zone.group(3) or 0) / 60
            offset = int(hours) if zone.group(1) == "+" else -int(hours)
        elif token.isdigit() and len(token) == 4 and year is None:
            year = int(token)
        elif token.isdigit() and len(token) <= 2 and day is None:
            day = int(token)
        else:
            return False
    if month is None and not relative and (hour is None or day is not None):
        return False
    if not (day and month and year):
        return None
    if hour is not None and pm is not None:
        hour = hour % 12 + (12 if pm else 0)
    try:
        zone_info = timezone(timedelta(hours=offset)) if offset is not None else UTC
        # a date newsflow does not keep (newsflow/dates.py) is no full calendar date here
        return published_or_none(
            datetime(year, month, day, hour or 0, minute or 0, tzinfo=zone_info)
        )
    except ValueError:
        return None


def _same_headline(line: str, title_key: str) -> bool:
    """The sender's title in another wording: most words shared (site suffixes, edits)."""
    if not _is_headline_like(line):
        return False
    words, title_words = set(_WORD.findall(line.casefold())), set(_WORD.findall(title_key))
    if not words or not title_words:
        return False
    return len(words & title_words) / len(words | title_words) >= 0.6


def _key(text: str) -> str:
    """For comparing a headline with its repeats: case, spacing and final marks ignored."""
    return " ".join(text.casefold().split()).strip(" .!?:")
