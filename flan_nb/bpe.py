"""Byte-pair encoding from scratch: the teaching tokenizer of chapter 01.

Data path, stage 3 of 6: tasks -> templates -> **tokenize** (this is its from-scratch teaching
version) -> mixture/packing/pipeline -> model/train -> evaluate.

`learn_bpe` learns merges from word frequencies, exactly as Sennrich et al. (2016) describe: start
from characters, repeatedly merge the most frequent adjacent pair. `BPETokenizer` wraps it into a
tokenizer that trains on text and round-trips any string losslessly: characters never seen in
training fall back to their UTF-8 bytes (`<0xNN>` tokens), as SentencePiece's byte fallback does.

Tie rule: when several pairs are equally frequent, the pair that sorts first as a tuple of strings
(`(left, right)`, Python's string order) wins. It does not depend on dictionary order, so the merge
table is a pure function of the word counts.

Text must consist of Unicode scalar values: a lone surrogate (e.g. `"\\ud800"`, which Python strings
can hold but UTF-8 cannot encode) has no bytes to fall back to, so `train` and `encode` reject it
with a `UserError` rather than invent bytes that would not decode back to the same string.

Ids follow the project convention: pad 0, eos 1, unk 2, then the 256 byte tokens, then the base
characters (sorted), then one id per merge in the order learned.
"""

from __future__ import annotations

import heapq
import json
import numbers
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable

from flan_nb.errors import UserError

Pair = tuple[str, str]

PAD_ID, EOS_ID, UNK_ID = 0, 1, 2
SPECIAL_TOKENS = ("<pad>", "</s>", "<unk>")
BYTE_TOKENS = tuple(f"<0x{b:02X}>" for b in range(256))

# Pre-tokenization: a word keeps the single space before it (so " the" and "the" differ, as in
# GPT-2), digits and punctuation runs are their own chunks, other whitespace runs stay whole.
# Merges never cross a chunk boundary.
CHUNK_PATTERN = re.compile(r" ?[^\W\d_]+| ?\d+| ?[^\w\s]+|\s+(?!\S)|\s+|_+")


def split_chunks(text: str) -> list[str]:
    """Text -> pre-tokenization chunks whose concatenation is exactly `text`."""
    chunks = CHUNK_PATTERN.findall(text)
    assert "".join(chunks) == text, "pre-tokenization must be lossless"
    return chunks


def count_pairs(word_freqs: dict[str, int]) -> Counter[Pair]:
    """Adjacent symbol pairs of every word, weighted by the word's count."""
    counts: Counter[Pair] = Counter()
    for word, freq in word_freqs.items():
        symbols = list(word)
        for pair in zip(symbols, symbols[1:]):
            counts[pair] += freq
    return counts


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_word_freqs(word_freqs) -> dict[str, int]:
    """`word_freqs` as a plain dict, or a UserError naming its first bad entry."""
    if not isinstance(word_freqs, dict):
        raise UserError(f"word_freqs must be a dict {{word: count}}, got "
                        f"{type(word_freqs).__name__}; e.g. Counter(words)")
    for word, freq in word_freqs.items():
        if not isinstance(word, str) or not word:
            raise UserError(f"word_freqs has the key {word!r}: words must be non-empty strings")
        # A zero, negative or fractional count would silently skew or empty the pair counts.
        if not _is_int(freq) or freq < 1:
            raise UserError(f"word_freqs[{word!r}] is {freq!r}: counts must be positive "
                            f"integers (drop words that do not occur)")
    return {word: int(freq) for word, freq in word_freqs.items()}


def learn_bpe(word_freqs: dict[str, int], num_merges: int) -> list[Pair]:
    """Learn up to `num_merges` merges from `{word: count}`; stops early when no pair is left.

    Each merge joins the most frequent adjacent pair of symbols (ties: smallest pair first, see the
    module docstring). Pair counts are updated incrementally, only for words containing the merged
    pair, and a lazy max-heap finds the best pair, so thousands of merges take seconds.
    """
    if not _is_int(num_merges) or num_merges < 0:
        raise UserError(f"num_merges must be a non-negative integer, got {num_merges!r}")
    word_freqs = _check_word_freqs(word_freqs)
    words = [list(word) for word in word_freqs]
    freqs = list(word_freqs.values())
    pair_counts = count_pairs(word_freqs)
    pair_words: dict[Pair, set[int]] = defaultdict(set)
    for index, symbols in enumerate(words):
        for pair in zip(symbols, symbols[1:]):
            pair_words[pair].add(index)
    # heapq is a min-heap: (-count, pair) pops the highest count, then the smallest pair.
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)
    merges: list[Pair] = []
    while len(merges) < num_merges and heap:
        neg_count, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -neg_count or neg_count == 0:
            continue  # stale heap entry: the count changed since it was pushed
        merges.append(pair)
        changed: set[Pair] = set()
        for index in list(pair_words.pop(pair, ())):
            old = words[index]
            for p in zip(old, old[1:]):
                pair_counts[p] -= freqs[index]
                changed.add(p)
            new = merge_pair(old, pair)
            words[index] = new
            for p in zip(new, new[1:]):
                pair_counts[p] += freqs[index]
                pair_words[p].add(index)
                changed.add(p)
        for p in changed:
            if pair_counts[p] > 0:
                heapq.heappush(heap, (-pair_counts[p], p))
            else:
                pair_counts.pop(p, None)
    return merges


def merge_pair(symbols: list[str], pair: Pair) -> list[str]:
    """Replace every non-overlapping occurrence of `pair` (left to right) by its concatenation."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
            out.append(pair[0] + pair[1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def vocabulary_after(word_freqs: dict[str, int], merges: list[Pair]) -> list[str]:
    """Base characters plus one symbol per merge, sorted (the classic presentation)."""
    base = {ch for word in word_freqs for ch in word}
    return sorted(base | {a + b for a, b in merges})


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_text(text, what: str) -> None:
    """A UserError unless `text` is a str that UTF-8 can encode (no surrogate code points)."""
    if not isinstance(text, str):
        raise UserError(f"{what} takes one str, got {type(text).__name__}; to use several "
                        f"documents, join them first, e.g. \"\\n\".join(docs)")
    bad = _SURROGATE.search(text)
    if bad:
        raise UserError(f"{what}: the text has U+{ord(bad.group()):04X} at index {bad.start()}, "
                        f"a surrogate, not a valid Unicode scalar value; clean the text first, "
                        f"e.g. text.encode('utf-8', 'replace').decode('utf-8')")


class BPETokenizer:
    """A trained BPE tokenizer: `encode(text) -> ids`, `decode(ids) -> text`, lossless."""

    def __init__(self, base_chars: Iterable[str], merges: list[Pair]):
        self.base_chars = sorted(set(base_chars))
        self.merges = list(merges)
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        pieces = list(SPECIAL_TOKENS) + list(BYTE_TOKENS) + self.base_chars
        pieces += [a + b for a, b in self.merges]
        self.pieces = pieces
        # A merged string can equal a base character or an earlier merge (different merge paths
        # to the same string); the first id wins, which keeps encode -> decode exact either way.
        self.piece_to_id: dict[str, int] = {}
        for index, piece in enumerate(pieces):
            if index >= len(SPECIAL_TOKENS) + len(BYTE_TOKENS):
                self.piece_to_id.setdefault(piece, index)
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def train(cls, text: str, vocab_size: int) -> "BPETokenizer":
        """Learn merges on `text` until the vocabulary has `vocab_size` entries (or no pair is left)."""
        _check_text(text, "BPETokenizer.train")
        if not _is_int(vocab_size):
            raise UserError(f"vocab_size must be an integer, got {vocab_size!r}")
        word_freqs = Counter(split_chunks(text))
        base = {ch for word in word_freqs for ch in word}
        reserved = len(SPECIAL_TOKENS) + len(BYTE_TOKENS) + len(base)
        if vocab_size < reserved:
            raise UserError(f"vocab_size {vocab_size} is smaller than the {reserved} reserved "
                            f"entries (3 special, 256 bytes, {len(base)} characters)")
        return cls(base, learn_bpe(dict(word_freqs), vocab_size - reserved))

    def truncated(self, num_merges: int) -> "BPETokenizer":
        """The same tokenizer with only its first `num_merges` merges (a smaller vocabulary)."""
        return BPETokenizer(self.base_chars, self.merges[:num_merges])

    @property
    def vocab_size(self) -> int:
        return len(self.pieces)

    def _encode_chunk(self, chunk: str) -> list[int]:
        symbols = list(chunk)
        while len(symbols) > 1:
            ranked = [(self.ranks.get(p, len(self.ranks)), i)
                      for i, p in enumerate(zip(symbols, symbols[1:]))]
            rank, _ = min(ranked)
            if rank == len(self.ranks):
                break
            symbols = merge_pair(symbols, self.merges[rank])
        ids = []
        for symbol in symbols:
            if symbol in self.piece_to_id:
                ids.append(self.piece_to_id[symbol])
            else:  # unseen character: its UTF-8 bytes
                ids.extend(len(SPECIAL_TOKENS) + b for b in symbol.encode("utf-8"))
        return ids

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` (no eos appended)."""
        _check_text(text, "BPETokenizer.encode")
        ids: list[int] = []
        for chunk in split_chunks(text):
            cached = self._cache.get(chunk)
            if cached is None:
                cached = self._cache[chunk] = self._encode_chunk(chunk)
            ids.extend(cached)
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """Text of `ids`; special tokens decode to nothing, byte tokens to their bytes."""
        out = bytearray()
        first_piece = len(SPECIAL_TOKENS) + len(BYTE_TOKENS)
        for token in ids:
            if token < len(SPECIAL_TOKENS):
                continue
            if token < first_piece:
                out.append(token - len(SPECIAL_TOKENS))
            else:
                out.extend(self.pieces[token].encode("utf-8"))
        return out.decode("utf-8", errors="replace")

    def save(self, path: str | Path) -> None:
        data = {"base_chars": self.base_chars, "merges": [list(m) for m in self.merges]}
        Path(path).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "BPETokenizer":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(data["base_chars"], [tuple(m) for m in data["merges"]])
