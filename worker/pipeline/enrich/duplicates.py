"""SimHash fingerprints for near-duplicate detection: 64 bits over word 3-shingles, so two
versions of a story that differ in a few words differ in a few bits."""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import deque
from collections.abc import Iterator

import courlan
import numpy

from worker.pipeline.article import EnrichedArticle
from worker.pipeline.enrich.enricher import Enricher

_WORD = re.compile(r"\w+")
_BITS = 64
_BIT_POSITIONS = numpy.arange(_BITS, dtype=numpy.uint64)
_BLOCK = 10_000


def simhash(text: str) -> int:
    """A signed 64-bit fingerprint (it is stored in a PostgreSQL bigint)."""
    shingles = _shingles(text)
    count = 0
    ones = numpy.zeros(_BITS, dtype=numpy.uint64)  # how many shingles set each bit
    # in blocks: the bits of all a body's shingles at once were 512 bytes a shingle (1.3 GB
    # for a 5 MB body of short words)
    while block := list(itertools.islice(shingles, _BLOCK)):
        count += len(block)
        digests = b"".join(hashlib.blake2b(s.encode(), digest_size=8).digest() for s in block)
        values = numpy.frombuffer(digests, dtype=">u8").astype(numpy.uint64)
        ones += ((values[:, None] >> _BIT_POSITIONS) & numpy.uint64(1)).sum(axis=0)
    # a bit of the fingerprint is set when most shingles set it
    unsigned = sum(1 << bit for bit in range(_BITS) if 2 * int(ones[bit]) > count)
    return unsigned - (1 << _BITS) if unsigned >= 1 << (_BITS - 1) else unsigned


def normalised_body_hash(body: str) -> str:
    """The exact-duplicate key: the body's words, case-folded, hashed."""
    normalised = " ".join(_WORD.findall(body.casefold()))
    return hashlib.sha256(normalised.encode()).hexdigest()


def _apply(article: EnrichedArticle) -> None:
    article.simhash = simhash(article.parsed.body)


ENRICHER = Enricher("simhash.word3", "1", _apply, languages=None)


def _shingles(text: str) -> Iterator[str]:
    """Each run of three words, or the text's one or two words (one empty shingle for none)."""
    words: deque[str] = deque(maxlen=3)
    whole = True
    for word in _WORD.finditer(text.casefold()):
        words.append(word.group())
        if len(words) == 3:
            whole = False
            yield " ".join(words)
    if whole:
        yield " ".join(words)


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & ((1 << _BITS) - 1)).bit_count()


def canonical_url(url: str | None) -> str | None:
    """The URL duplicates are found by: lower-case host, no default port, no fragment, no
    tracking parameters (utm_*, fbclid, …), query parameters sorted (courlan)."""
    if not url:
        return None
    try:
        return str(courlan.normalize_url(url, strict=True))
    except (ValueError, AttributeError):
        return None
