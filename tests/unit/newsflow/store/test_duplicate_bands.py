"""The SimHash band lookup: any two fingerprints within 3 bits share a band (so the
indexed lookup finds every near duplicate), bands are what PostgreSQL's expressions give
for signed bigints, and fingerprints far apart rarely share one."""

from __future__ import annotations

import random

from newsflow.store.duplicates import BAND_BITS, BANDS, NEAR_BITS, bands


def _signed(unsigned: int) -> int:
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned


def _flip(fingerprint: int, positions: list[int]) -> int:
    unsigned = fingerprint & ((1 << 64) - 1)
    for position in positions:
        unsigned ^= 1 << position
    return _signed(unsigned)


def test_fingerprints_within_three_bits_always_share_a_band() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        fingerprint = _signed(rng.getrandbits(64))
        flipped = _flip(fingerprint, rng.sample(range(64), rng.randint(0, NEAR_BITS)))
        assert set(enumerate(bands(fingerprint))) & set(enumerate(bands(flipped)))


def test_four_bits_spread_over_the_bands_can_share_none() -> None:
    # the pigeonhole bound is tight: one bit in each band, and no band is left alike
    fingerprint = 0x0123_4567_89AB_CDEF
    flipped = _flip(fingerprint, [band * BAND_BITS for band in range(BANDS)])
    assert not set(enumerate(bands(fingerprint))) & set(enumerate(bands(flipped)))


def test_bands_of_a_negative_fingerprint_are_its_twos_complement_16_bit_pieces() -> None:
    # PostgreSQL: (simhash >> 16*n) & 65535 on a bigint, arithmetic shift
    assert bands(-1) == (0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF)
    assert bands(_signed(0x8000_0000_0000_0001)) == (0x0001, 0x0000, 0x0000, 0x8000)
    assert all(0 <= band < 1 << BAND_BITS for band in bands(_signed(random.getrandbits(64))))


def test_unrelated_fingerprints_rarely_share_a_band() -> None:
    rng = random.Random(11)
    pairs = 10_000
    shared = sum(
        bool(
            set(enumerate(bands(_signed(rng.getrandbits(64)))))
            & set(enumerate(bands(_signed(rng.getrandbits(64)))))
        )
        for _ in range(pairs)
    )
    # 4 bands of 16 bits: about 4 / 65536 of random pairs are compared at all
    assert shared < pairs * 0.002
