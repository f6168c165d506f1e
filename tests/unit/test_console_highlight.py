"""The console marks what enrichment found at the document's offsets, in well-formed HTML,
for any text (Cyrillic, markup characters) and any overlap."""

from __future__ import annotations

from html.parser import HTMLParser

from api.console.highlight import body_html, render, spans


class _Checker(HTMLParser):
    """Fails on a closing tag that does not close the innermost open one; keeps the text."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, tag
        assert self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parsed(html: str) -> _Checker:
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.stack == []
    return checker


BODY = "Міністр Ґабріелюс Ландсберґіс заявив: «Литва <та> Польща & НАТО»."
DOCUMENT = {
    "body": BODY,
    "blocks": [{"kind": "paragraph", "start": 0, "end": len(BODY)}],
    "entities": [
        {
            "key": "per:landsbergis",
            "type": "PER",
            "canonical": "Ґабріелюс Ландсберґіс",
            "mentions": [{"start": 8, "end": 29, "text": "Ґабріелюс Ландсберґіс"}],
        },
        {
            "key": "country:LT",
            "type": "LOC",
            "canonical": "Литва",
            "mentions": [{"start": BODY.index("Литва"), "end": BODY.index("Литва") + 5}],
        },
    ],
    "quotes": [
        {
            "text": "…",
            "start": BODY.index("«"),
            "end": BODY.index("»") + 1,
            "speaker": "Ландсберґіс",
        }
    ],
    # crosses the quote's end on purpose
    "amounts": [{"value": 1, "text": "x", "start": BODY.index("НАТО"), "end": len(BODY)}],
}


def test_the_body_keeps_every_character_and_nests_entities_inside_quotes() -> None:
    html = body_html(DOCUMENT)
    checker = _parsed(str(html))
    assert "".join(checker.text) == BODY  # nothing lost, nothing doubled, markup escaped
    assert "&lt;та&gt;" in html
    assert "&amp;" in html
    assert '<a class="hl ent ent-PER" href="/entities/per%3Alandsbergis"' in html
    assert 'title="quote by Ландсберґіс">«<a class="hl ent ent-LOC"' in html


def test_a_span_that_crosses_another_is_split_not_misnested() -> None:
    text = "abcdefgh"
    marks = spans(
        {
            "quotes": [{"start": 1, "end": 5, "speaker": "S"}],
            "amounts": [{"value": 1, "start": 3, "end": 7}],
        }
    )
    html = str(render(text, 0, marks))
    assert "".join(_parsed(html).text) == text
    assert html.count('class="hl amount"') == 2  # one piece inside the quote, one after


def test_marks_are_clipped_to_their_block() -> None:
    body = "First block.\n\nSecond block."
    document = {
        "body": body,
        "blocks": [
            {"kind": "subheading", "start": 0, "end": 12},
            {"kind": "paragraph", "start": 14, "end": len(body)},
        ],
        "dates_mentioned": [{"text": "x", "start": 6, "end": 20, "resolved": False}],
    }
    html = str(body_html(document))
    assert html.startswith('<h3 class="block block-subheading">First <span class="hl date"')
    assert "".join(_parsed(html).text) == "First block.\nSecond block."


def test_title_mentions_are_not_marked_in_the_body() -> None:
    from api.console.highlight import spans

    document = {
        "entities": [
            {
                "key": "loc:warsaw",
                "type": "LOC",
                "canonical": "Warsaw",
                "mentions": [
                    {"start": 0, "end": 6, "text": "Warsaw", "field": "title"},
                    {"start": 10, "end": 16, "text": "Warsaw"},
                ],
            }
        ]
    }
    assert [(s.start, s.end) for s in spans(document)] == [(10, 16)]
