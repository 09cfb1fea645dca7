"""Structured extraction and topic split over a parse output (API_CONTRACT §3.2, §9.12-9.14, §13.5).

Public API::

    from tasks_app.engine import ExtractOptions, run_extraction, split_document, validate_extraction_schema
    validate_extraction_schema(schema)                          # SchemaError(path, problem) -> 400
    body = run_extraction(parse_output, schema, ExtractOptions())  # ExtractOutputResponse dict
    split = split_document(parse_output, [{"name": ..., "description": ...}], ExtractOptions())

`parse_output` is the ParseOutputResponse dict (§9.3) with chunks included. Without `llm_base_url`
the offline extractor runs; with it, an OpenAI-compatible chat completions endpoint is used.

The offline extractor reads the parse output one page at a time (plus the next page as look-ahead):
its memory is the output plus a window, not the document. The LLM path and the split build the
whole document (they send its text).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError
from .document import Page, PageSource, ParseOutputInvalid, build_document
from .llm import LlmError, extract_llm
from .offline import LeafFinder
from .output import BuiltRows, Findings, assemble
from .rows import TableRows
from .schema import Node, SchemaError, validate_extraction_schema
from .split import split_pages

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


def _array_object_nodes(node: Node, path: tuple = ()) -> list[tuple[tuple, Node]]:
    if node.kind == "object":
        out = []
        for key, child in node.properties.items():
            out.extend(_array_object_nodes(child, (*path, key)))
        return out
    if node.kind == "array" and node.items is not None and node.items.kind == "object":
        return [(path, node)]
    return []


def extract_offline(pages: Iterable[Page], root: Node, day_first: bool | None, build_rows: bool = True) -> Findings:
    """Leaves and table rows from pages streamed in order; a page is let go once the next is read.

    With `build_rows`, table rows go into output form as they are read (Findings.built); the LLM
    path asks for them as found (Findings.rows), to merge them with the model's.
    """
    built = {path: BuiltRows() for path, _ in _array_object_nodes(root)} if build_rows else {}
    leaves = LeafFinder(root, day_first)
    tables = {path: TableRows(path, node, day_first, built.get(path)) for path, node in _array_object_nodes(root)}
    prev: Page | None = None
    for page in pages:
        for table in tables.values():
            for line in page.lines:
                table.feed(line, page.height)
        if prev is not None:
            leaves.add_page(prev, page)
        prev = page
    if prev is not None:
        leaves.add_page(prev, None)
    rows = {path: t.finish() for path, t in tables.items()}
    return Findings(leaves=leaves.finish(), rows={} if build_rows else rows, built=built)


def run_extraction(parse_output: dict[str, Any], schema: dict[str, Any], options: ExtractOptions | None = None) -> dict:
    """ExtractOutputResponse body (`results`, `citations`, `metrics`) for one parse output."""
    options = options or ExtractOptions()
    root = validate_extraction_schema(schema)
    pages = set(options.pages) if options.pages else None
    if options.llm_base_url:
        doc = build_document(parse_output, pages)

        def offline() -> Findings:
            return extract_offline(doc.page_list, root, doc.day_first, build_rows=False)

        findings = extract_llm(doc, root, options, offline=offline)
    else:
        source = PageSource(parse_output, pages)
        findings = extract_offline(source, root, source.day_first)
    return assemble(root, findings)


def split_document(parse_output: dict[str, Any], topics: Any, options: ExtractOptions | None = None) -> dict:
    """Split output (§13.5): `{"topics": [{"name", "pages", "confidence"}], "unassigned_pages": [...]}`."""
    options = options or ExtractOptions()
    doc = build_document(parse_output)
    return split_pages(doc, topics, options)


__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "ExtractOptions",
    "LlmError",
    "ParseOutputInvalid",
    "SchemaError",
    "run_extraction",
    "split_document",
    "validate_extraction_schema",
]
