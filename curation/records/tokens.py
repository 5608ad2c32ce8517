"""Token counting for release statistics and shard limits, by the tokenizer a release spec names.

    counter = token_counter("hf:Qwen/Qwen2.5-7B-Instruct")  # the student's tokenizer (Hub id or local folder)
    counter = token_counter("file:tokenizer.json")           # a `tokenizers` JSON file
    counter = token_counter("pretokens:gpt2")                # offline, no download: GPT-2 pre-tokens
    counter.count(["some text", "more"])                     # -> [2, 1]

``hf:``/``file:`` use the Rust ``tokenizers`` library's batch encoding (no special tokens added), so counts
are the ones the model sees. ``pretokens:gpt2`` counts the pieces of GPT-2's pre-tokenization regex (words with
their leading space, digit runs, punctuation runs, whitespace): it needs nothing but the standard library and
is a lower bound on any BPE count of the same text (a BPE vocabulary only ever splits a pre-token further); the
card says which was used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

# Token-length histogram bins (upper edges), log-spaced so short problems and 30k-token traces both show; the
# release statistics count into them and the card's plot labels them.
TOKEN_BIN_EDGES = (0, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072)

KINDS = ("hf", "file", "pretokens")

# GPT-2's pattern with \p{L}/\p{N} spelled in `re`: letters are [^\W\d_], digits \d.
_GPT2_PRETOKEN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+""")


class TokenizerError(ValueError):
    """The tokenizer named in a spec cannot be used; the message says how to fix the name or install it."""


class TokenCounter(Protocol):
    name: str

    def count(self, texts: Sequence[str]) -> list[int]:
        """The number of tokens of each text."""


def check_tokenizer_name(name: str) -> None:
    """Raise TokenizerError unless ``name`` has a known ``kind:`` prefix and something after it."""
    kind, _, rest = name.partition(":")
    if kind not in KINDS or not rest:
        raise TokenizerError(
            f"{name!r} is not a tokenizer name; write hf:<hub id or folder> (e.g. hf:Qwen/Qwen2.5-7B-Instruct), "
            "file:<tokenizer.json> or pretokens:gpt2"
        )
    if kind == "pretokens" and rest != "gpt2":
        raise TokenizerError(f"{name!r}: the only pre-tokenizer is pretokens:gpt2")


class PretokenCounter:
    """Counts GPT-2 pre-tokens with the standard library (deterministic, offline)."""

    name = "pretokens:gpt2"

    def count(self, texts: Sequence[str]) -> list[int]:
        # subn counts matches without building the list of pieces findall would.
        subn = _GPT2_PRETOKEN.subn
        return [subn("", text)[1] for text in texts]


class RustTokenizerCounter:
    """Counts tokens with a ``tokenizers.Tokenizer`` (batch encoding, no special tokens)."""

    def __init__(self, name: str, tokenizer):
        self.name = name
        self._tokenizer = tokenizer
        # encode_batch_fast skips offsets; older tokenizers releases only have encode_batch.
        self._encode = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)

    def count(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(encoding.ids) for encoding in self._encode(list(texts), add_special_tokens=False)]


def token_counter(name: str, base: Path | None = None) -> TokenCounter:
    """The counter a spec's ``tokenizer:`` names; relative ``file:`` paths resolve against ``base``."""
    check_tokenizer_name(name)
    kind, _, rest = name.partition(":")
    if kind == "pretokens":
        return PretokenCounter()
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise TokenizerError(
            f"{name}: counting with a model tokenizer needs the `tokenizers` package; "
            "pip install 'verifiable-qft[train]' (or just tokenizers), or use pretokens:gpt2"
        ) from None
    if kind == "file":
        path = Path(rest)
        if base is not None and not path.is_absolute():
            path = base / path
        if not path.is_file():
            raise TokenizerError(f"{name}: no such tokenizer file {path}")
        return RustTokenizerCounter(name, Tokenizer.from_file(str(path)))
    local = Path(rest) / "tokenizer.json"
    if local.is_file():
        return RustTokenizerCounter(name, Tokenizer.from_file(str(local)))
    try:
        return RustTokenizerCounter(name, Tokenizer.from_pretrained(rest))
    except Exception as exc:  # tokenizers raises plain Exception for download failures
        raise TokenizerError(
            f"{name}: cannot load the tokenizer from the Hub ({exc}); run once with network access so it is "
            "cached, or point hf: at a local folder holding tokenizer.json"
        ) from None
