"""RSS and Atom documents become one submission each item; hostile XML stays harmless."""

from __future__ import annotations

import pytest

from newsflow.contract import Submission
from newsflow.feeds import UNUSABLE_DATE, FeedError, parse_feed

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
    items = parse_feed(RSS, "example-rss")

    assert [item.get("external_id") for item in items] == [
        "lt-pl-001", "https://news.example/budget", "https://news.example/only-link",
    ]  # fmt: skip
    first = Submission.model_validate(items[0])
    assert first.kind == "html"
    assert first.title == "Lithuania urges stronger military alliance with Poland"
    assert first.url == "https://news.example/lt-pl"
    assert first.authors == ["Jane Doe"]
    assert first.published_at is not None
    assert first.published_at.isoformat() == "2023-11-24T10:30:00+02:00"
    assert Submission.model_validate(items[1]).kind == "text"
    assert Submission.model_validate(items[2]).kind == "url"  # the worker fetches it


def test_atom_entries_become_submissions() -> None:
    (entry,) = parse_feed(ATOM, "example-atom")
    submission = Submission.model_validate(entry)
    assert submission.external_id == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert submission.url == "https://atom.example/ru/1"
    assert submission.authors == ["Иван Петров"]
    assert submission.html == "<p>Министр финансов заявил, что бюджет вырастет.</p>"
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


def test_entities_are_not_expanded_nor_fetched() -> None:
    billion_laughs = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        b'<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><item><title>&c;</title><description>&x;</description>"
        b"<link>https://e.example/1</link></item></channel></rss>"
    )
    (item,) = parse_feed(billion_laughs, "s")
    assert "root:" not in str(item)
    assert len(str(item)) < 1000


def test_text_after_an_entity_reference_is_kept() -> None:
    # without resolving entities (see newsflow/feeds.py), one a DTD declares is a child node
    rss = b"""<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
    "http://my.netscape.com/publish/formats/rss-0.91.dtd">
    <rss version="0.91"><channel><item><guid>g</guid>
    <title>Tom &amp; Jerry &#38; caf&eacute; win &madeup; again</title>
    <description>Caf&eacute; owners &#8212; and <b>their</b> guests.</description>
    </item></channel></rss>"""
    (item,) = parse_feed(rss, "s")
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
    (item,) = parse_feed(rss.encode(), "s")
    assert "published_at" not in item
    assert item["metadata"] == {UNUSABLE_DATE: raw}
    assert Submission.model_validate(item).published_at is None


def test_an_atom_date_out_of_range_is_dropped() -> None:
    atom = ATOM.replace(b"2023-11-24T08:00:00Z", b"9999-12-31T23:59:59-14:00")
    (item,) = parse_feed(atom, "s")
    assert "published_at" not in item
    assert item["metadata"] == {UNUSABLE_DATE: "9999-12-31T23:59:59-14:00"}
