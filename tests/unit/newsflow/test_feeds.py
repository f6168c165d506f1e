"""RSS and Atom documents become one submission each item; hostile XML stays harmless."""

from __future__ import annotations

import pytest

from newsflow.contract import Submission
from newsflow.feeds import FeedError, parse_feed

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
