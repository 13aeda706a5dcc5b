"""SentencePiece tokenization: the tokenizer every model in the book uses.

Data path, stage 3 of 6: tasks -> templates -> **tokenize** -> mixture/packing/pipeline ->
model/train -> evaluate.

The paper's LaMDA-PT uses a 32k SentencePiece vocabulary. We train BPE or unigram SentencePiece
models on the book's corpus, with the project's ids (pad 0, eos 1, unk 2, no bos) and settings that
make encode -> decode lossless on any text: identity normalization, extra whitespace kept, and byte
fallback for characters never seen in training. Trained models are cached on disk under a key made
of the training settings and a hash of the corpus, so a notebook trains once and loads afterwards.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import time
from pathlib import Path
from typing import Iterable, Sequence

import sentencepiece as spm

from flan_nb import tinyworld
from flan_nb.bpe import BPETokenizer
from flan_nb.errors import UserError, require
from flan_nb.runs import repo_root

PAD_ID, EOS_ID, UNK_ID = 0, 1, 2
MODEL_TYPES = ("bpe", "unigram")
CACHE_ENV = "FLAN_NB_CACHE"


def cache_dir() -> Path:
    """Where trained tokenizers are kept (`$FLAN_NB_CACHE`, default `<repo>/.cache/flan_nb`)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else repo_root() / ".cache" / "flan_nb"


@dataclasses.dataclass(frozen=True)
class SentencePieceSettings:
    """The training settings that define a SentencePiece model (and its cache key)."""

    vocab_size: int = 2000
    model_type: str = "bpe"
    character_coverage: float = 1.0
    max_sentences: int = 300_000  # sentences sampled for training (speed on big corpora)
    seed: int = 0

    def __post_init__(self):
        require(self.model_type in MODEL_TYPES,
                f"model_type must be one of {MODEL_TYPES}, got {self.model_type!r}")
        require(isinstance(self.vocab_size, int) and self.vocab_size >= 280,
                f"vocab_size must be an int >= 280 (room for 256 byte pieces), "
                f"got {self.vocab_size!r}")
        require(0.9 <= self.character_coverage <= 1.0,
                f"character_coverage must be in [0.9, 1], got {self.character_coverage}")


class Tokenizer:
    """A loaded SentencePiece model with the project's id conventions."""

    pad_id, eos_id, unk_id = PAD_ID, EOS_ID, UNK_ID

    def __init__(self, model_proto: bytes, settings: SentencePieceSettings | None = None):
        self.model_proto = model_proto
        self.settings = settings
        self.sp = spm.SentencePieceProcessor(model_proto=model_proto)

    @property
    def vocab_size(self) -> int:
        return self.sp.get_piece_size()

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` (no eos appended)."""
        return self.sp.encode(text)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of many texts in one call (much faster than a Python loop)."""
        return self.sp.encode(list(texts))

    def decode(self, ids: Iterable[int]) -> str:
        return self.sp.decode([int(i) for i in ids if int(i) not in (PAD_ID, EOS_ID)])

    def pieces(self, text: str) -> list[str]:
        """The pieces of `text` as strings (for display)."""
        return self.sp.encode(text, out_type=str)

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(self.model_proto)

    @classmethod
    def load(cls, path: str | Path) -> "Tokenizer":
        path = Path(path)
        if not path.is_file():
            raise UserError(f"tokenizer model {str(path)!r} not found")
        return cls(path.read_bytes())


def _sentences(texts: Iterable[str]) -> Iterable[str]:
    """Training lines: SentencePiece trains on lines, so documents are split at newlines."""
    for text in texts:
        for line in text.split("\n"):
            if line.strip():
                yield line


def train_sentencepiece(texts: Iterable[str], settings: SentencePieceSettings) -> Tokenizer:
    """Train a SentencePiece model on `texts` (in memory; see `load_or_train` for the cache)."""
    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(_sentences(texts)),
            model_writer=model,
            vocab_size=settings.vocab_size,
            model_type=settings.model_type,
            character_coverage=settings.character_coverage,
            input_sentence_size=settings.max_sentences,
            shuffle_input_sentence=True,
            seed_sentencepiece_size=100_000,
            pad_id=PAD_ID, eos_id=EOS_ID, unk_id=UNK_ID, bos_id=-1,
            # Lossless round trip: no normalization, keep every space, bytes for unseen chars.
            normalization_rule_name="identity",
            remove_extra_whitespaces=False,
            allow_whitespace_only_pieces=True,
            byte_fallback=True,
            split_digits=True,
            # Unigram prunes a seed vocabulary down to vocab_size; on a small corpus it may not
            # find that many pieces, and then keeps what it found (BPE has no such limit to hit).
            hard_vocab_limit=settings.model_type == "bpe",
            num_threads=os.cpu_count() or 1,
            minloglevel=2,
        )
    except RuntimeError as err:
        hint = ("raise vocab_size: it must hold 3 special ids, 256 bytes and every character"
                if "smaller than required" in str(err) else
                "lower vocab_size: the corpus has too few distinct pieces for it")
        raise UserError(f"SentencePiece training failed at vocab_size {settings.vocab_size}: "
                        f"{hint} ({err})") from None
    return Tokenizer(model.getvalue(), settings)


def corpus_fingerprint(texts: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:16]


def load_or_train(texts: Sequence[str], settings: SentencePieceSettings,
                  directory: str | Path | None = None) -> Tokenizer:
    """The cached model for (settings, corpus) if present, else train and cache it."""
    directory = Path(directory) if directory else cache_dir() / "tokenizers"
    key = hashlib.sha256(json.dumps(
        {"settings": dataclasses.asdict(settings), "corpus": corpus_fingerprint(texts)},
        sort_keys=True).encode()).hexdigest()[:16]
    path = directory / f"sp-{settings.model_type}-{settings.vocab_size}-{key}.model"
    if path.is_file():
        try:
            return Tokenizer(path.read_bytes(), settings)
        except Exception:  # a corrupt cache entry is retrained, never trusted
            path.unlink()
    tokenizer = train_sentencepiece(texts, settings)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    tokenizer.save(tmp)
    os.replace(tmp, path)
    return tokenizer


def corpus_tokenizer(corpus: str, vocab_size: int, seed: int = 0,
                     model_type: str = "bpe") -> Tokenizer:
    """The SentencePiece tokenizer of a corpus (see `load_corpus`), trained once and cached."""
    settings = SentencePieceSettings(vocab_size=vocab_size, model_type=model_type, seed=seed)
    return load_or_train(load_corpus(corpus, seed=seed), settings)


def tinyworld_tokenizer(vocab_size: int = 2000, size: str = "book", seed: int = 0,
                        model_type: str = "bpe") -> Tokenizer:
    """The SentencePiece tokenizer trained on the TinyWorld corpus (cached)."""
    return corpus_tokenizer(f"tinyworld/{size}", vocab_size, seed, model_type)


def chars_per_token(encode, texts: Sequence[str]) -> float:
    """Compression: characters per token of `encode` over `texts`."""
    chars = sum(len(t) for t in texts)
    tokens = sum(len(encode(t)) for t in texts)
    return chars / max(tokens, 1)


def _mb_per_s(encode, texts: Sequence[str]) -> float:
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    start = time.perf_counter()
    for text in texts:
        encode(text)
    return megabytes / (time.perf_counter() - start)


def compare_tokenizers(train_docs: Sequence[str], eval_docs: Sequence[str],
                       vocab_size: int) -> dict:
    """Our teaching BPE against SentencePiece BPE, trained on the same documents at the same
    vocabulary size, measured on held-out documents: training time, speed, compression."""
    start = time.perf_counter()
    ours = BPETokenizer.train("\n".join(train_docs), vocab_size)
    ours_train_s = time.perf_counter() - start
    start = time.perf_counter()
    sp = train_sentencepiece(train_docs, SentencePieceSettings(vocab_size=vocab_size))
    sp_train_s = time.perf_counter() - start
    # A fresh copy of ours, so its per-chunk cache starts cold like SentencePiece.
    ours_speed = _mb_per_s(BPETokenizer(ours.base_chars, ours.merges).encode, eval_docs)
    sp_speed = _mb_per_s(sp.encode, eval_docs)
    return {
        "vocab_size": vocab_size,
        "eval_mb": round(sum(len(t.encode("utf-8")) for t in eval_docs) / 1e6, 3),
        "ours_train_s": round(ours_train_s, 3),
        "sentencepiece_train_s": round(sp_train_s, 3),
        "ours_mb_per_s": round(ours_speed, 3),
        "sentencepiece_mb_per_s": round(sp_speed, 3),
        "ours_over_sentencepiece_speed": round(ours_speed / sp_speed, 3),
        "ours_chars_per_token": round(chars_per_token(ours.encode, eval_docs), 3),
        "sentencepiece_chars_per_token": round(chars_per_token(sp.encode, eval_docs), 3),
    }


def split_documents(documents: Sequence[str], eval_fraction: float = 0.1,
                    max_train: int | None = None) -> tuple[list[str], list[str]]:
    """Documents -> (train, held-out eval): the last `eval_fraction` is held out."""
    num_eval = max(1, int(len(documents) * eval_fraction))
    train = list(documents[: len(documents) - num_eval])
    return (train[:max_train] if max_train else train), list(documents[-num_eval:])


def load_corpus(corpus: str, seed: int = 0) -> list[str]:
    """Documents of `corpus`: "tinyworld/<size>" or "tinyworld/<size>/<mix>" (generated; the
    mixes are `flan_nb.tinyworld.documents.CORPUS_MIXES`) or a UTF-8 text file with one
    document per line (for real data at paper scale)."""
    if corpus.startswith("tinyworld/"):
        size, mix = tinyworld.parse_corpus(corpus)
        return tinyworld.corpus(seed=seed, size=size, mix=mix)
    path = Path(corpus)
    if not path.is_file():
        raise UserError(f"corpus {corpus!r} is neither 'tinyworld/<size>[/<mix>]' nor an "
                        f"existing text file (one document per line)")
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
