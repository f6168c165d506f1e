"""The submission contract: what is accepted, what is refused, what is cleaned."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import pytest
from pydantic import ValidationError

from newsflow.contract import Submission, json_bytes


def test_minimal_text_submission() -> None:
    submission = Submission.from_json(b'{"source": "feed", "text": "Title\\n\\nBody."}')
    assert submission.kind == "text"
    assert submission.authors == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"source": "s"}', "one of `text`, `html` or `url` is required"),
        (b'{"source": "s", "text": "a", "html": "b"}', "only one of `text` or `html`"),
        (b'{"source": "s", "text": "   "}', "`text` is empty"),
        (b'{"source": "", "text": "a"}', "at least 1 character"),
        (b'{"source": "s", "text": "a", "url": "javascript:alert(1)"}', "absolute http(s) URL"),
        (b'{"source": "s", "text": "a", "url": "http://user:pw@host/"}', "credentials"),
        (b'{"source": "s", "text": "a", "language": "English"}', "pattern"),
        (b'{"source": "s", "text": "a", "extra": 1}', "Extra inputs are not permitted"),
    ],
)
def test_refused_with_a_message_that_says_why(body: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Submission.from_json(body)


def test_nul_and_lone_surrogates_are_cleaned_not_refused() -> None:
    body = b'{"source": "s", "text": "a\\u0000b \\ud800 c", "metadata": {"k": "\\udfff"}}'
    submission = Submission.from_json(body)
    assert submission.text == "ab \ufffd c"
    assert submission.metadata == {"k": "\ufffd"}


def test_metadata_nesting_is_bounded() -> None:
    nested = b'{"a":' * 20 + b"1" + b"}" * 20
    with pytest.raises(ValidationError, match="nested deeper"):
        Submission.from_json(b'{"source": "s", "text": "a", "metadata": ' + nested + b"}")


def test_pathological_nesting_is_a_validation_error_not_a_crash() -> None:
    with pytest.raises(ValidationError):
        Submission.from_json(b'{"source": "s", "text": "a", "metadata": ' + b"[" * 100_000)


def test_naive_published_at_is_read_as_utc() -> None:
    submission = Submission.from_json(
        b'{"source": "s", "text": "a", "published_at": "2023-11-24T10:00:00"}'
    )
    assert submission.published_at is not None
    assert submission.published_at.tzinfo == UTC


def test_integers_beyond_64_bits_are_kept_and_serialised() -> None:
    """Found by the generated-request test: a huge integer in metadata broke the enqueue."""
    submission = Submission.from_json(
        b'{"source": "s", "text": "a", "metadata": {"n": 99999999999999999999}}'
    )
    assert json_bytes(submission.metadata) == b'{"n":99999999999999999999}'


def test_nesting_limit_is_the_same_with_and_without_anything_to_clean() -> None:
    """from_json skips the cleaning walk when the body escapes no NUL: the depth it
    refuses must not move. Seven levels of metadata pass, eight do not, either way."""
    for levels, accepted in ((7, True), (8, False)):
        nested = b'{"a":' * levels + b'"v"' + b"}" * levels
        for text in (b'"a"', b'"a\\u0000"'):  # nothing to clean / a NUL to drop
            body = b'{"source": "s", "text": ' + text + b', "metadata": ' + nested + b"}"
            if accepted:
                assert Submission.from_json(body).text == "a"
            else:
                with pytest.raises(ValidationError, match="nested deeper"):
                    Submission.from_json(body)


def test_depth_check_refuses_what_the_cleaning_walk_refuses() -> None:
    from newsflow.contract import _check_depth, _clean

    random = __import__("random").Random(7)

    def generate(depth: int) -> Any:
        roll = random.random()
        if depth > 12 or roll < 0.3:
            return random.choice([1, "x", None, [], {}])
        if roll < 0.65:
            return {str(i): generate(depth + 1) for i in range(random.randint(0, 3))}
        return [generate(depth + 1) for _ in range(random.randint(0, 3))]

    for _ in range(3000):
        value = {"source": "s", "metadata": generate(1)}
        refused = []
        for check in (_clean, _check_depth):
            try:
                check(value)
                refused.append(False)
            except ValueError:
                refused.append(True)
        assert refused[0] == refused[1], value


@pytest.mark.parametrize(
    "body",
    [
        '{"source": "s", "external_id": "e", "text": "Заголовок\\n\\nТекст — статті 🙂"}',
        '{"source": "s", "html": "<p>x</p>", "metadata": {"k": ["a", {"b": 1.5}]}}',
        '{"source": "s", "url": "https://example.com/a", "authors": ["A", "B"]}',
    ],
)
def test_fast_validation_gives_what_the_full_cleaning_gives(body: str) -> None:
    assert Submission.from_json(body.encode()) == Submission.model_validate(json.loads(body))


@pytest.mark.parametrize(
    ("value", "cleaned"),
    [
        ("plain ascii", "plain ascii"),
        ("кирилиця 🙂", "кирилиця 🙂"),
        ("a\ud800b", "a\ufffdb"),
        ("é\udfff\x00", "é\ufffd"),
        ("\udbff\udc00", "\ufffd\ufffd"),  # an escaped pair stays two lone surrogates
    ],
)
def test_clean_text_finds_surrogates_as_the_pattern_does(value: str, cleaned: str) -> None:
    from newsflow.contract import clean_text

    assert clean_text(value) == cleaned
