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
from typing import Any

from .document import Page, PageSource, ParseOutputInvalid, build_document
from .llm import LlmError, extract_llm
from .offline import LeafFinder
from .options import DEFAULT_SYSTEM_PROMPT, ExtractOptions
from .output import BuiltRows, Findings, assemble
from .rows import TableRows
from .schema import Node, SchemaError, validate_extraction_schema
from .split import split_pages


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
