"""The submission contract: what is accepted, what is refused, what is cleaned."""

from __future__ import annotations

from datetime import UTC

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
