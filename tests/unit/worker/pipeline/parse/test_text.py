"""parse_text: every line of a plain-text scrape labelled by its role, and the article built
from the labels. Fixtures in tests/fixtures/text are realistic scrapes in Ukrainian, Russian
and English, furniture included."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.scaling import assert_linear
from worker.pipeline.article import ParsedArticle, ParseError
from worker.pipeline.lang.switcher import language_switcher
from worker.pipeline.parse.text import label_lines, parse_text
from worker.pipeline.parse.text.captions import split_caption

ROOT = Path(__file__).resolve().parents[5]
SEED = ROOT / "seeds" / "000_9315569b376cac04.txt"
FIXTURES = ROOT / "tests" / "fixtures" / "text"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def kinds(article: ParsedArticle) -> list[str]:
    return [block.kind for block in article.blocks]


def texts(article: ParsedArticle, kind: str) -> list[str]:
    return [block.text for block in article.blocks if block.kind == kind]


def assert_not_in_body(article: ParsedArticle, *fragments: str) -> None:
    for fragment in fragments:
        assert fragment not in article.body, fragment


# --- the seed ---------------------------------------------------------------------------

SEED_PARAGRAPHS = [
    "Lithuanian Minister of Foreign Affairs Gabrielius Landsbergis states, that Lithuania needs "
    "to substantially enhance its military alliance with Poland in response to the increasing "
    'threat from the Russian Federation. "Worst-case scenarios" should be considered, reports '
    "TVP World.",
    "“The time has come to conclude (Lithuanian-Polish) strategic projects in the field of "
    "communication (infrastructure projects) and significantly strengthen military cooperation. "
    "Both countries are jointly responsible for one of the most sensitive points in NATO — the "
    "Suwałki Gap,” noted Landsbergis, while presenting a 10-point plan to prepare for the "
    "growing military threat from Russia.",
    "The minister emphasized the importance of strengthening regional partnerships with "
    "Northern European and Baltic States as part of the new security strategy. He also "
    "stressed the need “learn from Ukraine every day, not only from a distance but also by "
    "being there.”",
    'Landsbergis highlighted "the United States of America has been and must remain the main '
    'pillar of NATO and Lithuania’s security," while Germany, with its deployment of a brigade '
    'of 5,000 soldiers in Lithuania, "is becoming a European strategic pillar of security."',
    "Regarding defense spending, the minister advocated for allocating 4% of GDP, but the "
    "proposed budget for the next year falls short at 2.71%. Experts suggest that this figure "
    "should be at least 3%.",
    "He underscored the necessity for Vilnius to move beyond the “pleasant stagnation of peace” "
    "and actively fortify its defense capabilities.",
    "Lithuania, as one of Ukraine's allies, has been providing substantial support to our "
    "country, including weapons, military equipment, and training for the Ukrainian military "
    "throughout the full-scale terrorist invasion.",
    "On November 22, transferred new military aid package to Ukraine, including 3 million units "
    "of ammunition, remote detonation systems, and two launchers for the NASAMS anti-aircraft "
    "missile complex.",
]


def test_seed_is_parsed_exactly() -> None:
    article = parse_text(SEED.read_text(encoding="utf-8"))

    assert article.title == (
        "Lithuania urges stronger military alliance with Poland amid Russian threat"
    )
    assert article.provenance["title"] == "heuristic"
    assert article.alternates == ["uk", "en", "ru"]
    assert all("ua en ru" not in block.text for block in article.blocks)
    assert len(article.images) == 1
    image = article.images[0]
    assert image.caption == "Gabrielius Landsbergis, Minister of Foreign Affairs of Lithuania"
    assert image.credit == "Getty Images"
    assert image.people == ["Gabrielius Landsbergis"]
    assert image.role == "Minister of Foreign Affairs of Lithuania"
    assert texts(article, "subheading") == ["Aid to Ukraine from Lithuania"]
    assert texts(article, "paragraph") == SEED_PARAGRAPHS
    assert article.lead == SEED_PARAGRAPHS[0]
    # the subheading sits between the sixth and seventh paragraphs, the caption comes first
    assert kinds(article) == ["caption"] + ["paragraph"] * 6 + ["subheading"] + ["paragraph"] * 2
    # the headline repeated as the image's alt text is not part of the caption
    assert article.blocks[0].text == (
        "Photo: Gabrielius Landsbergis, Minister of Foreign Affairs of Lithuania (Getty Images)"
    )
    assert article.warnings == []


def test_seed_lines_are_labelled_in_order() -> None:
    roles = [line.role for line in label_lines(SEED.read_text(encoding="utf-8"))]

    assert roles == [
        "switcher",
        "title",
        "title_repeat",
        "caption",
        "lead",
        *["paragraph"] * 5,
        "subheading",
        "paragraph",
        "paragraph",
    ]


def test_offsets_of_blocks_point_into_the_body() -> None:
    article = parse_text(fixture("uk_mod_list.txt"))
    for block, (start, end) in zip(article.blocks, article.offsets(), strict=True):
        assert article.body[start:end] == block.text


# --- Ukrainian --------------------------------------------------------------------------


def test_ukrainian_news_with_switcher_date_caption_and_source() -> None:
    article = parse_text(fixture("uk_unian_zelensky.txt"))

    assert article.title == (
        "Зеленський провів переговори з прем'єром Нідерландів щодо винищувачів F-16"
    )
    assert article.alternates == ["uk", "ru"]
    assert article.dateline == "24 листопада 2023, 14:05"
    assert article.published_at == datetime(2023, 11, 24, 14, 5, tzinfo=UTC)
    assert article.provenance["published_at"] == "heuristic"
    (image,) = article.images
    assert image.caption == "Володимир Зеленський, президент України"
    assert image.credit == "УНІАН"
    assert image.people == ["Володимир Зеленський"]
    assert image.role == "президент України"
    assert article.source_line == "Джерело: УНІАН"
    assert kinds(article) == [
        "caption",
        "paragraph",
        "paragraph",
        "paragraph",
        "subheading",
        "paragraph",
    ]
    assert texts(article, "subheading") == ["Що відомо про навчання пілотів"]
    # a paragraph that quotes someone stays a paragraph
    assert texts(article, "paragraph")[2].startswith('"Ми домовилися про наступні кроки')
    assert_not_in_body(
        article, "UA | RU", "Головна", "Читайте також", "Підписуйтесь", "Джерело", "14:05"
    )


def test_ukrainian_bulleted_and_numbered_lists_with_byline() -> None:
    article = parse_text(fixture("uk_mod_list.txt"))

    assert article.byline == "Автор: Ірина Коваленко"
    assert article.authors == ["Ірина Коваленко"]
    assert article.provenance["authors"] == "heuristic"
    assert article.source_line == "Джерело: Міністерство оборони України"
    assert kinds(article) == [
        "paragraph",
        "paragraph",
        "list",
        "subheading",
        "paragraph",
        "list",
        "paragraph",
    ]
    first_list, second_list = texts(article, "list")
    assert first_list.splitlines() == [
        "- військовозобов'язані можуть оновити дані онлайн через застосунок;",
        "- роботодавці повинні передавати списки працівників щокварталу;",
        "- штрафи за порушення правил обліку збільшено вдвічі.",
    ]
    assert second_list.splitlines() == [
        "1. Увійти в застосунок за допомогою електронного підпису.",
        "2. Перевірити персональні дані та місце проживання.",
        "3. Підтвердити зміни.",
    ]
    assert texts(article, "paragraph")[1] == "Основні зміни:"  # a list's intro is prose


def test_ukrainian_pull_quote_and_dialogue_dash() -> None:
    article = parse_text(fixture("uk_quote_dialogue.txt"))

    assert article.title == "Укрзалізниця запускає новий потяг до Варшави"
    assert kinds(article) == ["caption", "paragraph", "quote", "paragraph", "paragraph"]
    assert texts(article, "quote") == [
        "«Ми бачимо великий попит на поїздки до Польщі, тому додаємо ще один прямий рейс»"
    ]
    # "— …, — розповів …" is direct speech, not a list item
    assert texts(article, "paragraph")[1].startswith("— Ми бачимо великий попит")
    (image,) = article.images
    assert (image.caption, image.credit) == (None, None)  # "Фото ілюстративне"
    assert_not_in_body(article, "Читайте також")


def test_ukrainian_bare_read_also_swallows_the_linked_headline() -> None:
    article = parse_text(fixture("uk_read_also_blocks.txt"))

    assert article.title == "Чи буде відключення світла взимку: відповідь Укренерго"
    assert article.alternates == ["uk", "ru"]
    assert article.images[0].credit == "facebook.com/Ukrenergo"
    assert article.images[0].caption is None
    assert kinds(article) == ["caption", "paragraph", "paragraph", "subheading", "paragraph"]
    assert texts(article, "subheading") == ["Що робити споживачам?"]
    assert_not_in_body(article, "ЧИТАЙТЕ ТАКОЖ", "Графіки відключень", "Поділитися", "Стежте")


def test_ukrainian_hard_wrapped_lines_are_joined_and_signature_is_the_byline() -> None:
    article = parse_text(fixture("uk_wrapped_letter.txt"))

    assert texts(article, "paragraph") == [
        "Учора у Львові відкрили новий центр реабілітації для ветеранів, де одночасно зможуть "
        "проходити лікування понад сто пацієнтів. Центр облаштували у приміщенні колишнього "
        "заводу.",
        "Як розповіли в міській раді, проєкт профінансували міжнародні партнери, а обладнання "
        "передали благодійні фонди.",
        "Перших пацієнтів центр прийме вже наступного тижня.",
    ]
    assert article.authors == ["Олена Мельник"]
    assert_not_in_body(article, "Олена Мельник")


def test_ukrainian_headline_only_as_alt_text_before_the_caption() -> None:
    article = parse_text(fixture("uk_alt_text_title.txt"))

    assert article.title == "Уряд продовжив програму єОселя для вчителів та лікарів"
    (image,) = article.images
    assert image.caption == "Денис Шмигаль, прем'єр-міністр України"
    assert image.credit == "Укрінформ"
    assert image.people == ["Денис Шмигаль"]
    assert image.role == "прем'єр-міністр України"
    assert kinds(article) == ["caption", "paragraph", "paragraph"]
    assert_not_in_body(article, "Уряд продовжив", "Telegram")


def test_ukrainian_site_header_and_author_with_time_on_one_line() -> None:
    text = fixture("uk_pravda_meta.txt")
    article = parse_text(text)

    assert article.title == "Зеленський: Україна отримає ще дві системи Patriot до кінця зими"
    assert article.authors == ["Олена Рощіна"]
    assert article.dateline == "Понеділок, 27 листопада 2023, 10:15"
    assert article.published_at == datetime(2023, 11, 27, 10, 15, tzinfo=UTC)
    assert article.images[0].credit == "Getty Images"
    assert kinds(article) == ["caption", "paragraph", "paragraph", "paragraph"]
    assert [line.role for line in label_lines(text)][:9] == [
        *["navigation"] * 4,  # site name and sections
        "dateline",
        "title",
        "byline",
        "dateline",
        "caption",
    ]
    assert_not_in_body(article, "Українська правда", "Реклама", "Відео", "Коментарі")


# --- Russian ----------------------------------------------------------------------------


def test_russian_credit_only_caption_and_bare_read_also() -> None:
    article = parse_text(fixture("ru_ria_sanctions.txt"))

    assert article.title == "Евросоюз согласовал двенадцатый пакет санкций против России"
    assert article.alternates == ["uk", "ru", "en"]
    (image,) = article.images
    assert image.caption is None
    assert image.credit == "РИА Новости / Алексей Никольский"
    assert article.source_line == "Источник: Европейская правда"
    assert kinds(article) == ["caption", "paragraph", "paragraph", "paragraph"]
    assert_not_in_body(article, "Читайте также", "потолок цен на российскую нефть", "Источник")


def test_russian_menu_dates_bullets_tags_and_counters() -> None:
    article = parse_text(fixture("ru_interfax_prices.txt"))

    assert article.title == "Цены на бензин в Украине выросли на 3% за неделю"
    assert article.dateline == "Опубликовано: 24.11.2023 14:05"
    # "Обновлено" is not the publication time
    assert article.published_at == datetime(2023, 11, 24, 14, 5, tzinfo=UTC)
    assert kinds(article) == ["paragraph", "paragraph", "list", "paragraph"]
    (bullets,) = texts(article, "list")
    assert bullets.splitlines() == [
        "• рост мировых цен на нефть;",
        "• ослабление гривны к доллару;",
        "• сезонный спрос перед зимой.",
    ]
    assert_not_in_body(
        article, "Новости Политика", "Обновлено", "Подписывайтесь", "Теги", "просмотра"
    )


def test_russian_site_furniture_and_cookie_banner_are_dropped() -> None:
    article = parse_text(fixture("ru_menu_noise.txt"))

    assert article.title == "В Киеве открыли новый мост через Днепр"
    assert article.alternates == ["uk", "ru"]
    assert article.images[0].credit == "Reuters"
    assert article.images[0].caption is None
    assert texts(article, "paragraph") == [
        "Движение по новому мосту через Днепр в Киеве открыли в пятницу утром. Строительство "
        "продолжалось почти пять лет.",
        "Мост соединит жилые массивы левого берега с центром города и разгрузит существующие "
        "переправы.",
    ]
    assert_not_in_body(article, "Главная", "Меню", "Поиск", "cookie", "Принять", "права")


def test_russian_meta_line_with_date_and_author() -> None:
    article = parse_text(fixture("ru_meta_line.txt"))

    assert article.title == "Нацбанк сохранил учетную ставку на уровне 16%"
    assert article.dateline == "24 ноября 2023, 14:05"
    assert article.published_at == datetime(2023, 11, 24, 14, 5, tzinfo=UTC)
    assert article.authors == ["Мария Иванова"]
    assert kinds(article) == ["paragraph", "quote", "paragraph"]
    assert texts(article, "quote") == ["«Инфляция замедляется быстрее, чем мы ожидали»"]
    assert_not_in_body(article, "Автор", "Читать также")


# --- English ----------------------------------------------------------------------------


def test_english_wire_story_with_dateline_byline_and_credits() -> None:
    article = parse_text(fixture("en_reuters_grain.txt"))

    assert article.title == "Ukraine ships record grain volumes through Black Sea corridor"
    assert article.byline == "By Olena Harmash and Pavel Polityuk"
    assert article.authors == ["Olena Harmash", "Pavel Polityuk"]
    assert article.dateline == "KYIV, Nov 24 (Reuters)"
    assert article.published_at == datetime(2023, 11, 24, tzinfo=UTC)
    (image,) = article.images
    assert image.caption == (
        "A cargo ship loaded with grain sails in the Black Sea near the port of Odesa, Ukraine."
    )
    assert image.credit == "REUTERS/Nina Liashonok"
    assert article.lead == (
        "Ukraine exported a record volume of grain through its new Black Sea shipping corridor "
        "in November, the agriculture ministry said on Friday, despite Russian attacks on port "
        "infrastructure."
    )
    assert len(texts(article, "paragraph")) == 3
    assert_not_in_body(
        article, "Read more", "Russia strikes Odesa", "Reporting by", "cookies", "Accept all"
    )


def test_english_feature_with_pull_quote_share_row_and_advert() -> None:
    article = parse_text(fixture("en_feature_quote.txt"))

    assert article.title == "Inside the Kharkiv metro school where children learn underground"
    assert article.authors == ["Jane Doe"]
    assert kinds(article) == [
        "paragraph",
        "paragraph",
        "quote",
        "paragraph",
        "subheading",
        "paragraph",
        "paragraph",
    ]
    assert texts(article, "quote") == ["“Here the children can finally see each other again.”"]
    # a paragraph that opens with a quotation is still a paragraph
    assert texts(article, "paragraph")[2].startswith("Teachers say the change is visible.")
    assert texts(article, "subheading") == ["Life below ground"]
    assert_not_in_body(article, "Home >", "Share", "Facebook", "Advertisement", "©")


def test_english_ap_story_with_capitals_byline_and_agency_photo_credit() -> None:
    article = parse_text(fixture("en_ap_power.txt"))

    assert article.authors == ["Hanna Arhirova"]
    assert article.byline == "By HANNA ARHIROVA"
    assert article.dateline == "KYIV, Ukraine (AP)"
    assert article.published_at is None  # only an "Updated" time is given
    (image,) = article.images
    assert image.credit == "AP Photo/Efrem Lukatsky"
    assert str(image.caption).startswith("Workers repair power lines")
    assert str(article.lead).startswith("Russian drones struck energy")
    assert_not_in_body(article, "Updated", "(AP) —")


def test_english_sender_title_is_not_repeated_in_the_body() -> None:
    sender_title = "Kyiv to host international conference on demining"
    article = parse_text(fixture("en_sender_title.txt"), title=sender_title)

    assert article.title == sender_title
    assert "title" not in article.provenance  # the sender's, not a guess
    assert article.alternates == ["en", "uk"]
    assert article.images[0].credit == "Reuters"
    assert article.source_line == "Source: Ministry of Economy of Ukraine"
    assert kinds(article) == ["caption", "paragraph", "paragraph"]
    assert_not_in_body(article, sender_title, "Follow us")


def test_sender_title_in_other_words_still_removes_the_scraped_headline() -> None:
    text = (
        "Kyiv to host demining conference | Example News\n\n"
        "Kyiv will host a conference on demining next month, the ministry said."
    )
    article = parse_text(text, title="Kyiv to host demining conference")
    assert texts(article, "paragraph") == [
        "Kyiv will host a conference on demining next month, the ministry said."
    ]


def test_english_text_without_a_headline() -> None:
    article = parse_text(fixture("en_no_title.txt"))

    assert article.title is None
    assert "title" not in article.provenance
    assert len(texts(article, "paragraph")) == 2
    assert str(article.lead).startswith("The central bank left")
    assert article.source_line == "Source: The Kyiv Independent"


# --- single roles -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "languages"),
    [
        ("ua en ru", ["uk", "en", "ru"]),
        ("UA RU EN", ["uk", "ru", "en"]),
        ("UA | RU", ["uk", "ru"]),
        ("УКР | РУС", ["uk", "ru"]),
        ("EN / UA", ["en", "uk"]),
        ("Українська English", ["uk", "en"]),
    ],
)
def test_language_switchers(line: str, languages: list[str]) -> None:
    assert language_switcher(line) == languages


@pytest.mark.parametrize("line", ["ua", "Ukraine and Russia", "en route", "be it so"])
def test_not_language_switchers(line: str) -> None:
    assert language_switcher(line) is None


@pytest.mark.parametrize(
    ("line", "caption", "credit", "people", "role"),
    [
        (
            "Photo: Gabrielius Landsbergis, Minister of Foreign Affairs of Lithuania "
            "(Getty Images)",
            "Gabrielius Landsbergis, Minister of Foreign Affairs of Lithuania",
            "Getty Images",
            ["Gabrielius Landsbergis"],
            "Minister of Foreign Affairs of Lithuania",
        ),
        ("Фото: Reuters", None, "Reuters", [], None),
        (
            "Фото: Володимир Зеленський (УНІАН)",
            "Володимир Зеленський",
            "УНІАН",
            ["Володимир Зеленський"],
            None,
        ),
        (
            "Photo: Joe Biden and Volodymyr Zelensky (Reuters)",
            "Joe Biden and Volodymyr Zelensky",
            "Reuters",
            ["Joe Biden", "Volodymyr Zelensky"],
            None,
        ),
        (
            "Фото: Президент України Володимир Зеленський (Фото: Офіс президента)",
            "Президент України Володимир Зеленський",
            "Офіс президента",
            ["Володимир Зеленський"],
            "Президент України",
        ),
        (
            "Фото: зруйнований будинок у Харкові / Getty Images",
            "зруйнований будинок у Харкові",
            "Getty Images",
            [],
            None,
        ),
        (
            "Фото: РИА Новости / Алексей Никольский",
            None,
            "РИА Новости / Алексей Никольский",
            [],
            None,
        ),
        (
            "Volodymyr Zelensky in Kyiv. Photo: Office of the President",
            "Volodymyr Zelensky in Kyiv",
            "Office of the President",
            [],
            None,
        ),
        ("Image: New York, United States (AFP)", "New York, United States", "AFP", [], None),
    ],
)
def test_split_caption(
    line: str, caption: str | None, credit: str | None, people: list[str], role: str | None
) -> None:
    image = split_caption(line)
    assert (image.caption, image.credit, image.people, image.role) == (
        caption,
        credit,
        people,
        role,
    )


@pytest.mark.parametrize(
    ("line", "authors"),
    [
        ("By Jane Doe", ["Jane Doe"]),
        ("By Jane Doe and John Smith", ["Jane Doe", "John Smith"]),
        ("Written by Jane Doe, Reuters", ["Jane Doe"]),
        ("Автор: Іван Петренко", ["Іван Петренко"]),
        ("Авторка: Олена Ткаченко", ["Олена Ткаченко"]),
        ("Автор — Мария Иванова", ["Мария Иванова"]),
        ("Автор: Редакція", []),
    ],
)
def test_bylines(line: str, authors: list[str]) -> None:
    text = f"A headline for the story\n\n{line}\n\nThe first paragraph of the story is here."
    article = parse_text(text)
    assert article.byline == line
    assert article.authors == authors
    assert line not in article.body


def test_prose_starting_with_by_is_no_byline() -> None:
    text = "A headline for the story\n\nBy the end of the year, prices rose by 5%."
    article = parse_text(text)
    assert article.byline is None
    assert texts(article, "paragraph") == ["By the end of the year, prices rose by 5%."]


UTC_PLUS_2 = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("line", "published_at"),
    [
        ("24 листопада 2023, 14:05", datetime(2023, 11, 24, 14, 5, tzinfo=UTC)),
        ("24 ноября 2023 г., 14:05", datetime(2023, 11, 24, 14, 5, tzinfo=UTC)),
        ("Nov 24, 2023", datetime(2023, 11, 24, tzinfo=UTC)),
        ("Friday, November 24, 2023 2:05 PM EET", datetime(2023, 11, 24, 14, 5, tzinfo=UTC_PLUS_2)),
        ("24.11.2023 14:05", datetime(2023, 11, 24, 14, 5, tzinfo=UTC)),
        ("Published: 2023-11-24T14:05", datetime(2023, 11, 24, 14, 5, tzinfo=UTC)),
        ("14:05, 24 листопада 2023", datetime(2023, 11, 24, 14, 5, tzinfo=UTC)),
        ("Сьогодні, 14:05", None),  # a date, but not one on the calendar
        # out of newsflow/dates.py's range (year 10000 in UTC; before 1800): a dateline
        # still, but no publication date
        ("31.12.9999 23:59 -14:00", None),
        ("01.01.1700 10:00", None),
    ],
)
def test_standalone_date_lines(line: str, published_at: datetime | None) -> None:
    text = f"A headline for the story\n\n{line}\n\nThe first paragraph of the story is here."
    article = parse_text(text)
    assert article.dateline == line
    assert article.published_at == published_at
    assert texts(article, "paragraph") == ["The first paragraph of the story is here."]


@pytest.mark.parametrize(
    ("paragraph", "dateline", "rest"),
    [
        ("KYIV, Nov 24 (Reuters) - Ukraine said", "KYIV, Nov 24 (Reuters)", "Ukraine said"),
        ("WASHINGTON (AP) — The Senate voted", "WASHINGTON (AP)", "The Senate voted"),
        ("LONDON -- Prices fell on Friday", "LONDON", "Prices fell on Friday"),
        (
            "Київ, 24 листопада (Укрінформ) – Уряд ухвалив",
            "Київ, 24 листопада (Укрінформ)",
            "Уряд ухвалив",
        ),
    ],
)
def test_datelines_at_the_start_of_the_lead(paragraph: str, dateline: str, rest: str) -> None:
    article = parse_text(f"A headline for the story\n\n{paragraph} a new law on Friday.")
    assert article.dateline == dateline
    assert article.lead == f"{rest} a new law on Friday."


def test_a_dash_later_in_a_paragraph_is_no_dateline() -> None:
    article = parse_text("A headline for the story\n\nUkraine - and its allies - agreed on it.")
    assert article.dateline is None
    assert article.lead == "Ukraine - and its allies - agreed on it."


@pytest.mark.parametrize(
    "noise",
    [
        "Read also: Russia strikes Odesa port again",
        "Читайте також: Уряд ухвалив нові правила",
        "Читайте также: Курс доллара снизился",
        "Follow us on Telegram",
        "Підписуйтесь на наш Telegram",
        "Подписывайтесь на наш канал в Telegram",
        "Share this article",
        "Поділитися",
        "Facebook | Telegram | Viber",
        "Advertisement",
        "Реклама",
        "We use cookies to give you the best experience on our website.",
        "Ми використовуємо файли cookie для покращення роботи сайту.",
        "© 2023 Example Media",
        "Home > News > World",
        "Теги: Україна, війна",
        "5 min read",
        "Відео: YouTube",
        "***",
    ],
)
def test_navigation_lines_never_reach_the_body(noise: str) -> None:
    text = (
        "A headline for the story\n\nThe first paragraph of the story is here.\n\n"
        f"{noise}\n\nThe second paragraph of the story is here."
    )
    article = parse_text(text)
    assert texts(article, "paragraph") == [
        "The first paragraph of the story is here.",
        "The second paragraph of the story is here.",
    ]
    assert [line.role for line in label_lines(text) if line.text == noise] == ["navigation"]


@pytest.mark.parametrize(
    "paragraph",
    [
        "Share prices rose by 5% on Friday after the announcement.",
        "Zelensky wrote on Telegram that the talks went well.",
        "The regulator fined the company for setting cookies without consent.",
    ],
)
def test_prose_that_mentions_furniture_words_stays(paragraph: str) -> None:
    text = f"A headline for the story\n\nThe first paragraph is here.\n\n{paragraph}"
    assert paragraph in texts(parse_text(text), "paragraph")


def test_a_lone_dash_line_is_speech_not_a_list() -> None:
    text = (
        "Заголовок новини про щось важливе\n\nПерший абзац тексту новини.\n\n"
        "- Ми не здамося.\n\nДругий абзац тексту новини."
    )
    article = parse_text(text)
    assert kinds(article) == ["paragraph", "paragraph", "paragraph"]


def test_a_closing_slogan_is_not_taken_for_the_authors_signature() -> None:
    text = "Заголовок новини про щось важливе\n\nПерший абзац тексту новини.\n\nСлава Україні"
    article = parse_text(text)
    assert article.authors == []
    assert texts(article, "paragraph")[-1] == "Слава Україні"


def test_a_paragraph_with_a_quotation_inside_is_not_a_pull_quote() -> None:
    text = (
        "A headline for the story\n\nThe first paragraph is here.\n\n"
        "“We will not give up,” the president said on Friday.\n\n"
        "«Ми не здамося», — сказав президент."
    )
    article = parse_text(text)
    assert texts(article, "quote") == []
    assert len(texts(article, "paragraph")) == 3


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("  \n\t\n  ", "empty"),
        ("ua en ru", "navigation"),
        ("UA | RU\n\nЧитайте також:\nПоділитися\nПідписуйтесь на наш Telegram", "navigation"),
        ("Read also:\n\nShare\n\nFollow us on Telegram\n\n© 2023 News\n\nAccept all", "navigation"),
        ("Photo: Reuters", "no article paragraphs"),
        ("Lithuania urges stronger military alliance\n\nPhoto: Reuters\n\nShare", "no paragraphs"),
    ],
)
def test_texts_without_an_article_are_refused(text: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_text(text)


def test_binary_junk_is_refused() -> None:
    rng = random.Random(7)
    junk = bytes(rng.randrange(256) for _ in range(50_000)).decode("latin-1")
    with pytest.raises(ParseError, match="binary data"):
        parse_text(junk)


def test_a_five_megabyte_single_line_is_kept_with_a_warning_in_linear_time() -> None:
    article = parse_text("word " * 1_000_000)
    assert kinds(article) == ["paragraph"]
    assert any("without a line break" in warning for warning in article.warnings)
    assert_linear(parse_text, lambda n: "word " * n, small=60_000)


def _refused(text: str) -> None:
    with pytest.raises(ParseError, match="lines"):
        parse_text(text)


def test_five_megabytes_of_short_lines_are_refused_in_linear_time() -> None:
    _refused("Photo: a caption (b)\n" * 250_000)
    assert_linear(_refused, lambda n: "Photo: a caption (b)\n" * n, small=25_000)


def _hard_wrapped(lines: int) -> str:
    wrapped = "continuation of a hard-wrapped paragraph that goes on and on, and on\n"
    return "A headline for the story\n\n" + "x" * 60 + "\n" + wrapped * lines


def test_five_megabytes_of_hard_wrapped_text_are_joined_in_linear_time() -> None:
    assert kinds(parse_text(_hard_wrapped(70_000))) == ["paragraph"]
    assert_linear(parse_text, _hard_wrapped, small=4_000)


@pytest.mark.parametrize(
    "unit", ["(photo ", "KYIV, ", "Photo: (", "“a", "By Jane Doe and ", "A, ", "1. ", "24 Nov "]
)
def test_adversarial_lines_take_linear_time(unit: str) -> None:
    def parse_lines(length: int) -> None:
        # up to just under the length beyond which lines are not inspected
        line = (unit * 1000)[:length]
        try:
            parse_text("A headline for the story\n\n" + "\n".join([line] * 300))
        except ParseError:
            pass

    assert_linear(parse_lines, lambda length: length, small=124)


def test_random_furniture_fragments_never_raise_anything_but_parse_error() -> None:
    atoms = [
        "(", ")", "Photo", "Фото:", " ", ",", "KYIV", " - ", "—", "“", "”", "«", "»", '"', "/",
        "REUTERS/", "By", "Jane", "Doe", "1.", "24", "Nov", "2023", "14:05", "|", "cookie",
        ".", ":", "Читайте також", "Telegram", "Source:", "ua en", "\n", "\n\n", "\x00", "\ufffd",
    ]  # fmt: skip
    rng = random.Random(11)
    for _ in range(300):
        text = "".join(rng.choice(atoms) for _ in range(rng.randrange(1, 400)))
        try:
            article = parse_text(text)
        except ParseError:
            continue
        assert article.blocks


def test_control_characters_are_removed_with_a_warning() -> None:
    text = "A headline for the story\n\nThe first\x00 paragraph\x07 is here."
    article = parse_text(text)
    assert texts(article, "paragraph") == ["The first paragraph is here."]
    assert article.warnings == ["removed 2 control characters"]


def test_utf8_read_as_latin1_is_decoded_again_with_a_warning() -> None:
    original = fixture("uk_unian_zelensky.txt")
    article = parse_text(original.encode("utf-8").decode("latin-1"))
    assert article.title == parse_text(original).title
    assert article.warnings == ["the text was UTF-8 read as latin-1: decoded it again"]
