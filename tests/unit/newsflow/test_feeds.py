"""RSS and Atom documents become one submission each item; hostile XML stays harmless."""

from __future__ import annotations

import pytest

from newsflow.contract import Submission
from newsflow.feeds import FEED, UNUSABLE_DATE, FeedError, parse_feed

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel><title>Example News</title>
<item>
  <title>Lithuania urges stronger military alliance with Poland</title>
  <link>https://news.example/lt-pl</link>
  <guid isPermaLink="false">lt-pl-001</guid>
  <pubDate>Fri, 24 Nov 2023 10:30:00 +0200</pubDate>
  <dc:creator>Jane Doe</dc:creator>
  <content:encoded><![CDATA[<p>Lithuania needs to enhance its alliance.</p>
    <p>Second.</p>]]></content:encoded>
</item>
<item>
  <title>Уряд ухвалив бюджет</title>
  <link>https://news.example/budget</link>
  <description>Уряд ухвалив бюджет на наступний рік.</description>
</item>
<item><title>Only a link</title><link>https://news.example/only-link</link></item>
</channel></rss>""".encode()

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom News</title>
<entry>
  <title>Министр заявил о бюджете</title>
  <link rel="alternate" href="https://atom.example/ru/1"/>
  <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
  <published>2023-11-24T08:00:00Z</published>
  <author><name>Иван Петров</name></author>
  <content type="html">&lt;p&gt;Министр финансов заявил, что бюджет вырастет.&lt;/p&gt;</content>
</entry>
</feed>""".encode()


def test_rss_items_become_submissions_with_their_metadata() -> None:
    items = parse_feed(RSS, "example-rss").items

    assert [item.get("external_id") for item in items] == [
        "lt-pl-001", "https://news.example/budget", "https://news.example/only-link",
    ]  # fmt: skip
    first = Submission.model_validate(items[0])
    assert first.kind == "url"  # the worker fetches the page; the feed's content is kept
    assert first.metadata[FEED]["content"]["html"].startswith("<p>Lithuania needs")
    assert first.title == "Lithuania urges stronger military alliance with Poland"
    assert first.url == "https://news.example/lt-pl"
    assert first.authors == ["Jane Doe"]
    assert first.published_at is not None
    assert first.published_at.isoformat() == "2023-11-24T10:30:00+02:00"
    assert items[1]["metadata"][FEED]["content"] == {
        "text": "Уряд ухвалив бюджет на наступний рік."
    }
    assert Submission.model_validate(items[2]).kind == "url"
    assert "metadata" not in items[2]  # nothing to fall back on


def test_atom_entries_become_submissions() -> None:
    (entry,) = parse_feed(ATOM, "example-atom").items
    submission = Submission.model_validate(entry)
    assert submission.external_id == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert submission.url == "https://atom.example/ru/1"
    assert submission.authors == ["Иван Петров"]
    assert submission.metadata[FEED]["content"] == {
        "html": "<p>Министр финансов заявил, что бюджет вырастет.</p>"
    }
    assert submission.published_at is not None
    assert submission.published_at.year == 2023


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"not xml at all", "not well-formed"),
        (b"<html><body>hi</body></html>", "expected an RSS or Atom document"),
    ],
)
def test_what_is_not_a_feed_says_so(document: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse_feed(document, "s")


@pytest.mark.parametrize(
    "declarations",
    [
        b'<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">',  # billion laughs
        b'<!ENTITY x SYSTEM "file:///etc/passwd">',  # external entity
        b'<!ENTITY % p SYSTEM "https://e.example/evil.dtd"> %p;',  # parameter entity
    ],
)
def test_entity_declarations_that_expand_or_load_are_refused(declarations: bytes) -> None:
    document = (
        b'<?xml version="1.0"?><!DOCTYPE rss [' + declarations + b"]>"
        b"<rss><channel><item><title>&c;</title><description>&x;</description>"
        b"<link>https://e.example/1</link></item></channel></rss>"
    )
    with pytest.raises(FeedError, match="declares XML entities"):
        parse_feed(document, "s")


def test_a_character_entity_declaration_is_harmless_and_read() -> None:
    document = (
        b'<!DOCTYPE rss [<!ENTITY nbsp "&#160;">]><rss version="2.0"><channel><item>'
        b"<guid>g</guid><description>one&nbsp;two</description></item></channel></rss>"
    )
    (item,) = parse_feed(document, "s").items
    assert item["text"] == "one\u00a0two"


def test_text_after_an_entity_reference_is_kept() -> None:
    # without resolving entities (see newsflow/feeds.py), one a DTD declares is a child node
    rss = b"""<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
    "http://my.netscape.com/publish/formats/rss-0.91.dtd">
    <rss version="0.91"><channel><item><guid>g</guid>
    <title>Tom &amp; Jerry &#38; caf&eacute; win &madeup; again</title>
    <description>Caf&eacute; owners &#8212; and <b>their</b> guests.</description>
    </item></channel></rss>"""
    (item,) = parse_feed(rss, "s").items
    assert item["title"] == "Tom & Jerry & café win &madeup; again"
    assert item["text"] == "Café owners \u2014 and their guests."


@pytest.mark.parametrize(
    "raw",
    [
        "Fri, 31 Dec 9999 23:59:59 -1400",  # year 10000 in UTC
        "Mon, 01 Jan 1700 00:00:00 +0000",
        "9999-12-31T23:59:59-14:00",
        "not a date",
    ],
)
def test_an_unusable_item_date_is_dropped_and_kept_as_sent(raw: str) -> None:
    rss = f"<rss><channel><item><guid>g</guid><pubDate>{raw}</pubDate><description>Body"
    rss += "</description></item></channel></rss>"
    (item,) = parse_feed(rss.encode(), "s").items
    assert "published_at" not in item
    assert item["metadata"] == {UNUSABLE_DATE: raw}
    assert Submission.model_validate(item).published_at is None


def test_an_atom_date_out_of_range_is_dropped() -> None:
    atom = ATOM.replace(b"2023-11-24T08:00:00Z", b"9999-12-31T23:59:59-14:00")
    (item,) = parse_feed(atom, "s").items
    assert "published_at" not in item
    assert item["metadata"][UNUSABLE_DATE] == "9999-12-31T23:59:59-14:00"


RSS_1_0 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://rdf.example/"><title>RDF News</title>
  <link>https://rdf.example/</link><description>d</description></channel>
<item rdf:about="https://rdf.example/1"><title>First</title><link>https://rdf.example/1</link>
  <description>The first item.</description><dc:date>2023-11-24T08:00:00+01:00</dc:date>
  <dc:creator>Anna Berg</dc:creator><dc:subject>Politics</dc:subject></item>
<item rdf:about="https://rdf.example/2"><title>Second</title><link>https://rdf.example/2</link>
  </item>
</rdf:RDF>"""


def test_rss_1_0_rdf_items_are_read() -> None:
    feed = parse_feed(RSS_1_0, "rdf")
    assert feed.title == "RDF News"
    first, second = (Submission.model_validate(item) for item in feed.items)
    assert (first.external_id, first.url, first.title) == (
        "https://rdf.example/1", "https://rdf.example/1", "First",
    )  # fmt: skip
    assert first.published_at is not None
    assert first.published_at.isoformat() == "2023-11-24T08:00:00+01:00"
    assert first.authors == ["Anna Berg"]
    assert first.metadata[FEED] == {
        "content": {"text": "The first item."}, "categories": ["Politics"],
    }  # fmt: skip
    assert second.url == "https://rdf.example/2"


def test_rss_0_91_is_read() -> None:
    document = b"""<rss version="0.91"><channel><title>Old</title><item><title>Hi</title>
    <link>https://old.example/1</link><description>Old news.</description></item>
    </channel></rss>"""
    (item,) = parse_feed(document, "s").items
    assert item["url"] == "https://old.example/1"
    assert item["metadata"][FEED]["content"] == {"text": "Old news."}


def test_a_bare_ampersand_is_read_and_the_problem_recorded() -> None:
    document = RSS.replace(b"military alliance", b"military & defence alliance")
    feed = parse_feed(document, "s")
    assert len(feed.items) == 3
    assert (
        feed.items[0]["title"] == "Lithuania urges stronger military & defence alliance with Poland"
    )
    assert feed.problem is not None
    assert "not well-formed" in feed.problem


def test_well_formed_feed_has_no_problem() -> None:
    assert parse_feed(RSS, "s").problem is None


def test_atom_xhtml_content_is_kept() -> None:
    document = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>X</title>
    <entry><id>tag:x,2023:1</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">
    An <em>xhtml</em> title</div></title><updated>2023-11-24T08:00:00Z</updated>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>First paragraph.</p>
    <p>Second <b>bold</b> one.</p></div></content></entry></feed>"""
    (item,) = parse_feed(document, "s").items
    submission = Submission.model_validate(item)
    assert submission.kind == "html"  # no link: the feed's content is the article
    assert submission.html is not None
    assert "<p>First paragraph.</p>" in submission.html
    assert "<b>bold</b>" in submission.html


def test_enclosures_and_categories_are_kept() -> None:
    document = b"""<rss version="2.0"><channel><title>Pod</title><item><guid>ep-1</guid>
    <title>Episode 1</title><link>https://pod.example/1</link>
    <enclosure url="https://pod.example/1.mp3" length="12345" type="audio/mpeg"/>
    <category>World</category><category domain="x">Europe</category></item></channel></rss>"""
    (item,) = parse_feed(document, "s").items
    assert item["metadata"][FEED] == {
        "enclosures": [{"url": "https://pod.example/1.mp3", "type": "audio/mpeg", "length": 12345}],
        "categories": ["World", "Europe"],
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Παρ, 24 Νοε 2023 10:30:00 +0200", "2023-11-24T08:30:00+00:00"),  # Greek
        ("Fr, 24 Nov 2023 10:30:00 +0100", "2023-11-24T10:30:00+01:00"),  # German day
        ("2023-11-24 10:30", "2023-11-24T10:30:00+00:00"),  # W3DTF without a zone
        ("Fri, 24 Nov 2023 10:30:00 EST", "2023-11-24T10:30:00-05:00"),
    ],
)
def test_localised_and_loose_dates_are_read(raw: str, expected: str) -> None:
    rss = f"<rss><channel><item><guid>g</guid><pubDate>{raw}</pubDate><description>Body"
    rss += "</description></item></channel></rss>"
    (item,) = parse_feed(rss.encode(), "s").items
    assert item["published_at"] == expected


def test_the_language_hint_becomes_the_declared_language() -> None:
    (item,) = parse_feed(ATOM, "s", language="ru").items
    assert item["language"] == "ru"


def test_more_items_than_allowed_are_refused() -> None:
    items = b"".join(b"<item><guid>%d</guid></item>" % i for i in range(1001))
    with pytest.raises(FeedError, match="at most 1000"):
        parse_feed(b"<rss version='2.0'><channel>" + items + b"</channel></rss>", "s")
