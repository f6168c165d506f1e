"""Site furniture left in scraped text: menus, share buttons, cookie notices, "read also"
links, breadcrumbs, counters."""

from __future__ import annotations

import re

from worker.pipeline.lang.switcher import SWITCHER_SPLIT
from worker.pipeline.parse.text.lines import SENTENCE_END

READ_ALSO = re.compile(
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


def is_navigation(line: str) -> bool:
    folded = line.casefold().strip(" .!:")
    if folded in _NAVIGATION_EXACT or not _HAS_WORD_CHARACTER.search(line):
        return True
    words = line.count(" ") + 1  # lines are space-normalised
    if words > 60:
        return False
    if words <= 40 and _NAVIGATION_START.match(line):
        return True
    if words <= 12 and folded.split(" ", 1)[0] in _SOCIAL_TOKENS:
        tokens = [t for t in SWITCHER_SPLIT.split(folded) if t]
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


def is_menu(line: str) -> bool:
    """A row of site sections ("News Politics Economy"), or a rubric or site name of one
    or two words before the headline."""
    tokens = [t.strip(".,|/·•").casefold() for t in line.split()]
    tokens = [t for t in tokens if t]
    if len(tokens) <= 2 and not line.endswith(SENTENCE_END):
        return True
    known = sum(token in _SECTION_WORDS for token in tokens)
    return known >= 2 and known / len(tokens) >= 0.6
