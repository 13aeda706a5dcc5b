"""Chapter 01 on the smoke profile: the classic merges and a compression curve."""

import pytest


@pytest.mark.notebook
def test_bpe_chapter_records_classic_merges_and_compression(run_smoke):
    metrics = run_smoke("01_bpe").metrics()
    assert metrics["classic_merges"] == [["u", "g"], ["u", "n"], ["h", "ug"]]
    curve = metrics["compression_curve"]
    assert curve["vocab_size"] == [400, 500]
    # More vocabulary compresses more, for both tokenizers; both compress (> 1 char per token).
    assert curve["ours"][1] > curve["ours"][0] > 1.0
    assert curve["sentencepiece"][1] > curve["sentencepiece"][0] > 1.0
