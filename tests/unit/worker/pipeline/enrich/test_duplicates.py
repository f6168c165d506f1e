"""Near-duplicates differ in few SimHash bits; different stories in many."""

from pathlib import Path

from worker.pipeline.enrich.duplicates import hamming, simhash

SEED = (Path(__file__).resolve().parents[5] / "seeds" / "000_9315569b376cac04.txt").read_text()


def test_a_lightly_edited_copy_is_close_and_another_story_is_far() -> None:
    edited = SEED.replace("10-point plan", "ten-point plan").replace(
        "Experts suggest", "Analysts say"
    )
    other = (
        "The city council approved the new budget on Tuesday after a long debate about "
        "transport, housing and two new schools, the mayor said at a press conference."
    )
    assert hamming(simhash(SEED), simhash(SEED)) == 0
    assert hamming(simhash(SEED), simhash(edited)) <= 6
    assert hamming(simhash(SEED), simhash(other)) >= 16


def test_fingerprint_fits_a_signed_bigint() -> None:
    for text in (SEED, "", "a", "ї є ґ"):
        assert -(2**63) <= simhash(text) < 2**63


def test_fingerprint_of_a_long_text_is_computed_in_bounded_memory_and_unchanged() -> None:
    import hashlib
    import re

    import numpy

    def all_at_once(text: str) -> int:  # the formula, over every shingle at once
        words = re.findall(r"\w+", text.casefold())
        shingles = [" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))]
        bits = [
            int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest()) for s in shingles
        ]
        ones = numpy.array([[(b >> bit) & 1 for bit in range(64)] for b in bits]).sum(axis=0)
        unsigned = sum(1 << bit for bit in range(64) if 2 * int(ones[bit]) > len(shingles))
        return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned

    for text in ["", "one", "one two", SEED, " ".join([SEED] * 70)]:  # 70 seeds: 3 blocks
        assert simhash(text) == all_at_once(text)


def test_canonical_url_drops_tracking_parameters_default_port_and_fragment() -> None:
    from worker.pipeline.enrich.duplicates import canonical_url

    assert (
        canonical_url("https://News.Example.com:443/world/story?utm_source=x&id=7&fbclid=z#top")
        == "https://news.example.com/world/story?id=7"
    )
    assert canonical_url("https://news.example.com/world/story?id=7&utm_medium=social") == (
        canonical_url("https://news.example.com/world/story?id=7")
    )
    assert canonical_url(None) is None
