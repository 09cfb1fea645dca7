"""How an extraction or a split runs: the system prompt, error handling, the optional LLM endpoint, the pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

DEFAULT_SYSTEM_PROMPT = (
    "You are an expert at structured data extraction. You will be given parsed text from a document and should "
    "convert it into the given structure."
)


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    """Run options. LLM settings arrive here (never from the environment); no base URL = offline."""

    system_prompt: str | None = None
    error_handling: str = "Fail"  # Fail | Continue (API_CONTRACT §8.1)
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout_s: float = 60.0
    llm_max_retries: int = 2
    llm_context_chars: int = 48_000  # per request; longer documents are mapped in parts, then merged
    llm_temperature: float = 0.0
    pages: tuple[int, ...] | None = None  # restrict to these 1-based pages (per-topic extraction)
    warnings: list[str] = field(default_factory=list, compare=False)

    def __post_init__(self) -> None:
        if self.error_handling not in ("Fail", "Continue"):
            raise ConfigError(f"error_handling: must be one of Fail, Continue (got {self.error_handling!r})")
        if self.llm_timeout_s <= 0:
            raise ConfigError("llm.timeout: must be positive")
        if self.llm_context_chars < 200:
            raise ConfigError("llm.context_chars: must be at least 200")
        if self.llm_base_url is not None and not self.llm_base_url.startswith(("http://", "https://")):
            raise ConfigError("llm.base_url: must be an http(s) URL")

    @classmethod
    def from_dict(cls, raw: Any) -> ExtractOptions:
        """From a JSON config: {system_prompt, error_handling, pages, llm: {base_url, api_key, model, timeout,
        max_retries, context_chars, temperature}}; a wrong value raises ConfigError naming its path."""
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise ConfigError("config: must be a JSON object")
        kw: dict[str, Any] = {}
        for key in ("system_prompt", "error_handling"):
            val = raw.get(key)
            if val is not None and not isinstance(val, str):
                raise ConfigError(f"{key}: must be a string")
            if val is not None:
                kw[key] = val
        pages = raw.get("pages")
        if pages is not None:
            if not isinstance(pages, list) or not all(isinstance(p, int) and p >= 1 for p in pages):
                raise ConfigError("pages: must be an array of page numbers (1-based)")
            kw["pages"] = tuple(pages)
        llm = raw.get("llm") or {}
        if not isinstance(llm, dict):
            raise ConfigError("llm: must be an object")
        specs = {
            "base_url": ("llm_base_url", str),
            "api_key": ("llm_api_key", str),
            "model": ("llm_model", str),
            "timeout": ("llm_timeout_s", (int, float)),
            "max_retries": ("llm_max_retries", int),
            "context_chars": ("llm_context_chars", int),
            "temperature": ("llm_temperature", (int, float)),
        }
        for key, val in llm.items():
            if key not in specs:
                raise ConfigError(f"llm.{key}: unknown setting (expected one of {', '.join(specs)})")
            attr, typ = specs[key]
            if val is None:
                continue
            if not isinstance(val, typ) or isinstance(val, bool):
                raise ConfigError(f"llm.{key}: has the wrong type")
            kw[attr] = val
        return cls(**kw)

    @property
    def prompt(self) -> str:
        return self.system_prompt or DEFAULT_SYSTEM_PROMPT
