"""parse(submission) -> ParsedArticle: by kind of submission, then the sender's fields,
which win over what was found."""

from __future__ import annotations

from newsflow.contract import Submission
from worker.pipeline.article import ParsedArticle
from worker.pipeline.parse.html import parse_html
from worker.pipeline.parse.text import parse_text


def parse(submission: Submission) -> ParsedArticle:
    if submission.html is not None:
        article = parse_html(submission.html, url=submission.url)
    else:
        article = parse_text(submission.text or "", title=submission.title)
    return apply_sender_fields(article, submission)


def apply_sender_fields(article: ParsedArticle, submission: Submission) -> ParsedArticle:
    """The sender knows best: its fields replace guesses, and say so in provenance."""
    declared = {
        "title": submission.title,
        "published_at": submission.published_at,
        "authors": submission.authors or None,
        "url": submission.url,
    }
    for name, value in declared.items():
        if value:
            setattr(article, name, value)
            article.provenance[name] = "sender"
    if submission.language:
        article.declared_language = submission.language
        article.provenance["language"] = "sender"
    return article
