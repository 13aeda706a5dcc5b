"""Chapter 01 (BPE from scratch): its config and the compression curve it draws.

`check_tokenizer_settings` is shared with chapter 02, which trains SentencePiece on the same
corpus settings.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from flan_nb.bpe import BPETokenizer
from flan_nb.errors import require
from flan_nb.tokenize import SentencePieceSettings, chars_per_token, train_sentencepiece

# 3 special ids + 256 byte pieces + the corpus's characters must fit in any vocabulary.
MIN_VOCAB_SIZE = 280


def check_tokenizer_settings(max_train_documents: int, vocab_sizes: Sequence[int]) -> None:
    """The checks chapters 01 and 02 make on their corpus and vocabulary parameters."""
    require(max_train_documents > 0,
            f"MAX_TRAIN_DOCUMENTS must be positive, got {max_train_documents}")
    require(all(isinstance(v, int) and v >= MIN_VOCAB_SIZE for v in vocab_sizes),
            f"vocabulary sizes must be ints >= {MIN_VOCAB_SIZE} (3 special ids + 256 bytes + "
            f"characters), got {list(vocab_sizes)}")


@dataclasses.dataclass(frozen=True)
class BPEChapterConfig:
    """Parameters of notebook 01 (defaults: its parameters cell)."""

    corpus: str  # "tinyworld/<size>[/<mix>]" or a text file, one document per line
    seed: int
    max_train_documents: int
    vocab_sizes: tuple[int, ...]  # the compression curve's points

    def __post_init__(self):
        object.__setattr__(self, "vocab_sizes", tuple(self.vocab_sizes))
        check_tokenizer_settings(self.max_train_documents, self.vocab_sizes)
        require(list(self.vocab_sizes) == sorted(set(self.vocab_sizes)),
                f"VOCAB_SIZES must be increasing without repeats, got {list(self.vocab_sizes)}")


def compression_curve(train_docs: Sequence[str], eval_docs: Sequence[str],
                      vocab_sizes: Sequence[int]) -> dict[str, list[float]]:
    """Characters per token at each vocabulary size: ours (one training run, its merge table
    truncated, since BPE vocabularies are nested) and SentencePiece BPE (one model per size)."""
    ours_full = BPETokenizer.train("\n".join(train_docs), max(vocab_sizes))
    first_merge_id = ours_full.vocab_size - len(ours_full.merges)
    ours, sentencepiece = [], []
    for size in vocab_sizes:
        ours_at_size = ours_full.truncated(max(0, size - first_merge_id))
        ours.append(chars_per_token(ours_at_size.encode, eval_docs))
        sp = train_sentencepiece(train_docs, SentencePieceSettings(vocab_size=size))
        sentencepiece.append(chars_per_token(sp.encode, eval_docs))
    return {"vocab_size": list(vocab_sizes), "ours": ours, "sentencepiece": sentencepiece}
