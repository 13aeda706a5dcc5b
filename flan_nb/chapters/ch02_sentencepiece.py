"""Chapter 02 (SentencePiece): its config. The comparison it prints is the tokenizer stage's
own (`flan_nb.tokenize.compare_tokenizers`, also `flan-nb bench tokenize`)."""

from __future__ import annotations

import dataclasses

from flan_nb.chapters.ch01_bpe import check_tokenizer_settings


@dataclasses.dataclass(frozen=True)
class SentencePieceChapterConfig:
    """Parameters of notebook 02 (defaults: its parameters cell)."""

    corpus: str  # "tinyworld/<size>[/<mix>]" or a text file, one document per line
    seed: int
    max_train_documents: int
    vocab_size: int

    def __post_init__(self):
        check_tokenizer_settings(self.max_train_documents, (self.vocab_size,))
