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
