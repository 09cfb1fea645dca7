"""ParseConfiguration parsing (API_CONTRACT.md §8.1–8.5) and engine run options.

`ParseConfig.from_dict` merges a partial request dict with the defaults field by field and raises
`ConfigError` naming the offending field path; `to_dict` echoes the merged result for responses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError
from .types import SEGMENT_TYPES

# The contract's processing keys are the segment types (decision 7 adds SectionHeader), in sorted order.
SEGMENT_PROCESSING_KEYS: tuple[str, ...] = tuple(sorted(SEGMENT_TYPES))
_KEY_LOOKUP = {k.lower(): k for k in SEGMENT_PROCESSING_KEYS}

TOKENIZER_ENUMS: tuple[str, ...] = ("Word", "Cl100kBase", "XlmRobertaBase", "BertBaseUncased")
_TOKENIZER_LOOKUP = {t.lower(): t for t in TOKENIZER_ENUMS}

_ENUMS: dict[str, tuple[str, ...]] = {
    "error_handling": ("Fail", "Continue"),
    "ocr_strategy": ("All", "Auto"),
    "pipeline": ("Azure", "Chunkr"),
    "segmentation_strategy": ("LayoutAnalysis", "Page"),
    "crop_image": ("All", "Auto"),
    "format": ("Html", "Markdown"),
    "strategy": ("Auto", "LLM", "Ignore"),
}


def _enum(value: Any, name: str, path: str) -> str:
    allowed = _ENUMS[name]
    if isinstance(value, str):
        for a in allowed:
            # Case-insensitive: SDKs and hand-written JSON disagree on "Html" vs "HTML".
            if a.lower() == value.lower():
                return a
    raise ConfigError(f"{path}: must be one of {', '.join(allowed)} (got {value!r})")


def _bool_or_none(value: Any, path: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise ConfigError(f"{path}: must be true, false or null (got {value!r})")


def _norm_key(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


@dataclass(frozen=True, slots=True)
class GenerationConfig:
    """One segment type's processing, fully resolved (no nulls except the deprecated llm prompt)."""

    crop_image: str = "Auto"
    description: bool = False
    extended_context: bool = False
    format: str = "Markdown"
    strategy: str = "Auto"
    llm: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "crop_image": self.crop_image,
            "description": self.description,
            "extended_context": self.extended_context,
            "format": self.format,
            "strategy": self.strategy,
            "llm": self.llm,
        }


def default_generation(segment_type: str) -> GenerationConfig:
    """Per-type defaults. Decision: strategy defaults to Auto everywhere (the reference server's
    LLM default for Table/Formula/Page would make every table fail without an LLM endpoint)."""
    return GenerationConfig(
        crop_image="All" if segment_type == "Picture" else "Auto",
        format="Html" if segment_type == "Table" else "Markdown",
    )


def _parse_generation(raw: Any, base: GenerationConfig, path: str) -> GenerationConfig:
    if raw is None:
        return base
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be an object or null")
    vals = base.to_dict()
    for k, v in raw.items():
        p = f"{path}.{k}"
        if k in ("crop_image", "format", "strategy"):
            if v is not None:
                vals[k] = _enum(v, k, p)
        elif k in ("description", "extended_context"):
            b = _bool_or_none(v, p)
            if b is not None:
                vals[k] = b
        elif k == "llm":
            if v is not None and not isinstance(v, str):
                raise ConfigError(f"{p}: must be a string or null")
            vals[k] = v
        # Unknown keys (legacy html/markdown/embed_sources) are accepted and ignored.
    return GenerationConfig(**vals)


def parse_tokenizer(raw: Any, path: str = "chunk_processing.tokenizer") -> dict[str, str]:
    """Normalise to the externally tagged form {"Enum": name} or {"String": hf_id}."""
    if isinstance(raw, str):
        if not raw.strip():
            raise ConfigError(f"{path}: must not be empty")
        enum = _TOKENIZER_LOOKUP.get(raw.strip().lower())
        return {"Enum": enum} if enum else {"String": raw.strip()}
    if isinstance(raw, dict) and len(raw) == 1:
        ((tag, value),) = raw.items()
        if tag == "Enum":
            enum = _TOKENIZER_LOOKUP.get(str(value).lower()) if isinstance(value, str) else None
            if not enum:
                raise ConfigError(f"{path}.Enum: must be one of {', '.join(TOKENIZER_ENUMS)} (got {value!r})")
            return {"Enum": enum}
        if tag == "String":
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{path}.String: must be a non-empty tokenizer id")
            return {"String": value.strip()}
    raise ConfigError(f'{path}: must be {{"Enum": ...}}, {{"String": ...}} or a string (got {raw!r})')


def tokenizer_name(tokenizer: dict[str, str]) -> str:
    return next(iter(tokenizer.values()))


@dataclass(frozen=True, slots=True)
class ChunkProcessing:
    ignore_headers_and_footers: bool | None = None
    target_length: int = 4096
    tokenizer: dict[str, str] = field(default_factory=lambda: {"Enum": "Word"})

    def to_dict(self) -> dict[str, Any]:
        return {
            "ignore_headers_and_footers": self.ignore_headers_and_footers,
            "target_length": self.target_length,
            "tokenizer": dict(self.tokenizer),
        }


def _parse_chunk_processing(raw: Any) -> ChunkProcessing:
    path = "chunk_processing"
    if raw is None:
        return ChunkProcessing()
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be an object")
    ihf = _bool_or_none(raw.get("ignore_headers_and_footers"), f"{path}.ignore_headers_and_footers")
    tl = raw.get("target_length", 4096)
    if tl is None:
        tl = 4096
    if isinstance(tl, bool) or not isinstance(tl, int) or not 0 <= tl <= 2**31 - 1:
        raise ConfigError(f"{path}.target_length: must be an integer between 0 and 2147483647 (got {tl!r})")
    tok = raw.get("tokenizer")
    tokenizer = {"Enum": "Word"} if tok is None else parse_tokenizer(tok, f"{path}.tokenizer")
    return ChunkProcessing(ignore_headers_and_footers=ihf, target_length=tl, tokenizer=tokenizer)


@dataclass(frozen=True, slots=True)
class ParseConfig:
    chunk_processing: ChunkProcessing = field(default_factory=ChunkProcessing)
    error_handling: str = "Fail"
    ocr_strategy: str = "All"
    pipeline: str = "Chunkr"
    segmentation_strategy: str = "LayoutAnalysis"
    segment_processing: dict[str, GenerationConfig] = field(
        default_factory=lambda: {k: default_generation(k) for k in SEGMENT_PROCESSING_KEYS}
    )
    # Echo-only extras the contract lets clients send (llm_processing, high_resolution, ...).
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> ParseConfig:
        if d is None:
            d = {}
        if not isinstance(d, dict):
            raise ConfigError("configuration: must be an object")
        kw: dict[str, Any] = {"chunk_processing": _parse_chunk_processing(d.get("chunk_processing"))}
        for name in ("error_handling", "ocr_strategy", "pipeline", "segmentation_strategy"):
            if d.get(name) is not None:
                kw[name] = _enum(d[name], name, name)
        kw["segment_processing"] = _parse_segment_processing(d.get("segment_processing"))
        extras = {}
        for k in ("llm_processing", "high_resolution", "expires_in", "input_file_url"):
            if k in d:
                extras[k] = d[k]
        if extras.get("llm_processing") is not None:
            extras["llm_processing"] = _parse_llm_processing(extras["llm_processing"])
        kw["extras"] = extras
        return cls(**kw)

    def generation(self, segment_type: str) -> GenerationConfig:
        gc = self.segment_processing.get(segment_type) or default_generation(segment_type)
        if segment_type in ("PageHeader", "PageFooter") and self.chunk_processing.ignore_headers_and_footers:
            return GenerationConfig(**{**gc.to_dict(), "strategy": "Ignore"})
        return gc

    def to_dict(self) -> dict[str, Any]:
        d = {
            "chunk_processing": self.chunk_processing.to_dict(),
            "error_handling": self.error_handling,
            "ocr_strategy": self.ocr_strategy,
            "pipeline": self.pipeline,
            "segment_processing": {k: v.to_dict() for k, v in self.segment_processing.items()},
            "segmentation_strategy": self.segmentation_strategy,
        }
        d.update(self.extras)
        return d


_LLM_PROCESSING_KEYS = ("llm_model_id", "model_id", "fallback_strategy", "max_completion_tokens", "temperature")


def _parse_llm_processing(raw: Any) -> dict[str, Any]:
    """LlmProcessing (API_CONTRACT §8.7; the legacy SDK spells the model key `model_id`): stored and echoed as given,
    once every field is of its type."""
    path = "llm_processing"
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be an object or null")
    for key, value in raw.items():
        if key not in _LLM_PROCESSING_KEYS:
            raise ConfigError(f"{path}.{key}: unknown field (expected one of {', '.join(_LLM_PROCESSING_KEYS)})")
        if value is None:
            continue
        if key in ("llm_model_id", "model_id") and (not isinstance(value, str) or len(value) > 200):
            raise ConfigError(f"{path}.{key}: must be a model name (a string of at most 200 characters)")
        if key == "fallback_strategy" and not (
            value in ("None", "Default")
            or (isinstance(value, dict) and list(value) == ["Model"] and isinstance(value["Model"], str))
        ):
            raise ConfigError(f'{path}.fallback_strategy: must be "None", "Default" or {{"Model": "<model id>"}}')
        if key == "max_completion_tokens" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError(f"{path}.max_completion_tokens: must be a positive integer")
        if key == "temperature" and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 2
        ):
            raise ConfigError(f"{path}.temperature: must be a number from 0 to 2")
    return dict(raw)


def _parse_segment_processing(raw: Any) -> dict[str, GenerationConfig]:
    path = "segment_processing"
    resolved = {k: default_generation(k) for k in SEGMENT_PROCESSING_KEYS}
    if raw is None:
        return resolved
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: must be an object or null")
    given: dict[str, Any] = {}
    for key, value in raw.items():
        canon = _KEY_LOOKUP.get(_norm_key(str(key)))
        if canon is None:
            raise ConfigError(f"{path}.{key}: unknown segment type")
        given[canon] = (key, value)
    for canon, (key, value) in given.items():
        resolved[canon] = _parse_generation(value, default_generation(canon), f"{path}.{key}")
    if "SectionHeader" not in given and "Title" in given:
        # §8.4 decision: SectionHeader falls back to the Title entry; keep its own type defaults
        # only where Title left a field unset.
        key, value = given["Title"]
        resolved["SectionHeader"] = _parse_generation(value, default_generation("SectionHeader"), f"{path}.{key}")
    return resolved


@dataclass(frozen=True, slots=True)
class EngineLimits:
    """Resource guards. Sizes in bytes/pixels; the time budget in seconds per page."""

    max_bytes: int = 200 * 1024 * 1024
    max_pages: int = 2000
    max_image_pixels: int = 100_000_000
    page_time_budget_s: float = 120.0
    convert_timeout_s: float = 300.0


@dataclass(frozen=True, slots=True)
class ParseOptions:
    config: ParseConfig = field(default_factory=ParseConfig)
    limits: EngineLimits = field(default_factory=EngineLimits)
    dpi: int = 144  # page images of PDF/office/text pages; an image input's pages keep its own resolution
    file_name: str | None = None
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_model: str | None = None
    llm_timeout_s: float = 60.0  # per request
    llm_max_retries: int = 2
    # "lazy": pages get no stored image at parse time (except scans the engine turned upright); the sink's `defer`
    # records the key and the caller renders it from document.pdf on first use (render_page_png). "eager" (the CLI)
    # writes every image.
    page_images: str = "eager"
    llm_concurrency: int = 4  # model requests in flight per page (so per pool process, with `workers`)
    workers: int = 1  # processes for long documents (see .parallel); 1 keeps everything in this process
