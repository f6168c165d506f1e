"""SimHash fingerprints for near-duplicate detection: 64 bits over word 3-shingles, so two
versions of a story that differ in a few words differ in a few bits."""

from __future__ import annotations

import hashlib
import re

import numpy

from worker.pipeline.article import EnrichedArticle
from worker.pipeline.enrich.enricher import Enricher

_WORD = re.compile(r"\w+")
_BITS = 64
_BIT_POSITIONS = numpy.arange(_BITS, dtype=numpy.uint64)


def simhash(text: str) -> int:
    """A signed 64-bit fingerprint (it is stored in a PostgreSQL bigint)."""
    words = _WORD.findall(text.casefold())
    shingles = [" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))]
    digests = b"".join(hashlib.blake2b(s.encode(), digest_size=8).digest() for s in shingles)
    values = numpy.frombuffer(digests, dtype=">u8").astype(numpy.uint64)
    # how many shingles set each bit: a bit of the fingerprint is set when most do
    ones = ((values[:, None] >> _BIT_POSITIONS) & numpy.uint64(1)).sum(axis=0)
    unsigned = sum(1 << bit for bit in range(_BITS) if 2 * int(ones[bit]) > len(shingles))
    return unsigned - (1 << _BITS) if unsigned >= 1 << (_BITS - 1) else unsigned


def normalised_body_hash(body: str) -> str:
    """The exact-duplicate key: the body's words, case-folded, hashed."""
    normalised = " ".join(_WORD.findall(body.casefold()))
    return hashlib.sha256(normalised.encode()).hexdigest()


def _apply(article: EnrichedArticle) -> None:
    article.simhash = simhash(article.parsed.body)


ENRICHER = Enricher("simhash.word3", "1", _apply, languages=None)


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & ((1 << _BITS) - 1)).bit_count()
