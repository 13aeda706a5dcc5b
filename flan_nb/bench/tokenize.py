"""`flan-nb bench tokenize`: our teaching BPE against SentencePiece on the TinyWorld corpus
(characters per token, encoding speed and training time, measured in one run)."""

from __future__ import annotations

from flan_nb import tinyworld
from flan_nb.tokenize import compare_tokenizers, split_documents


def benchmark(quick: bool = False) -> dict:
    """Both tokenizers trained and timed on the same corpus (`quick`: the smoke world)."""
    size = "smoke" if quick else "book"
    train_docs, eval_docs = split_documents(tinyworld.build(seed=0, size=size).corpus)
    result = compare_tokenizers(train_docs, eval_docs, vocab_size=600 if quick else 2000)
    return {"corpus": f"tinyworld/{size}", **result}
