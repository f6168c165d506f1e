"""SimHash fingerprints for near-duplicate detection: 64 bits over word 3-shingles, so two
versions of a story that differ in a few words differ in a few bits."""

from __future__ import annotations

import hashlib
import re

SIMHASH_ENRICHER = ("simhash.word3", "1")
_WORD = re.compile(r"\w+")
_BITS = 64


def simhash(text: str) -> int:
    """A signed 64-bit fingerprint (it is stored in a PostgreSQL bigint)."""
    words = _WORD.findall(text.casefold())
    shingles = [" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))]
    weights = [0] * _BITS
    for shingle in shingles:
        value = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for bit in range(_BITS):
            weights[bit] += 1 if value >> bit & 1 else -1
    unsigned = sum(1 << bit for bit in range(_BITS) if weights[bit] > 0)
    return unsigned - (1 << _BITS) if unsigned >= 1 << (_BITS - 1) else unsigned


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & ((1 << _BITS) - 1)).bit_count()
