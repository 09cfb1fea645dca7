"""Document processing engine: bytes in, Chunkr-shaped output out. No Django imports here.

Public API::

    from tasks_app.engine import parse_document, ParseOptions, ParseConfig, DirectorySink
    result = parse_document(path, ParseOptions(config=ParseConfig.from_dict(cfg)), sink)
    output = result.to_dict(url_for=sink.url_for)   # ParseOutputResponse (API_CONTRACT §9.3)
    validate_extraction_schema(schema)                # SchemaError(.path) -> 400
    body = run_extraction(output, schema, ExtractOptions(system_prompt=...))  # ExtractOutputResponse §9.12
    split = split_document(output, topics, ExtractOptions())                  # Split output §13.5
"""

from .assets import AssetSink, DirectorySink, MemorySink, NullSink
from .codec import part_from_bytes, part_from_dict, part_to_bytes, part_to_dict
from .config import (
    SEGMENT_PROCESSING_KEYS,
    TOKENIZER_ENUMS,
    EngineLimits,
    GenerationConfig,
    ParseConfig,
    ParseOptions,
    default_generation,
)
from .content import render as render_content
from .errors import (
    Cancelled,
    ConfigError,
    ConversionFailed,
    ConverterMissing,
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    EngineError,
    ImageTooLarge,
    LlmError,
    LlmUnavailable,
    OcrUnavailable,
    PageTimeout,
    TooLarge,
    TooManyPages,
    UnsupportedFileType,
)
from .extract import (
    DEFAULT_SYSTEM_PROMPT,
    ExtractOptions,
    ParseOutputInvalid,
    SchemaError,
    run_extraction,
    split_document,
    validate_extraction_schema,
)
from .extract.split import validate_topics as validate_split_topics
from .parallel import default_workers
from .pipeline import PagesPart, assemble_result, parse_document, parse_pages
from .render import LAZY_PAGE_IMAGE, render_page_png
from .review import (
    Box,
    LeafField,
    Picked,
    ReviewValueError,
    empty_value,
    leaf_fields,
    path_format,
    path_parse,
    template_results,
    tree_get,
    tree_set,
    value_from_text,
    words_in_boxes,
)
from .sniff import SUPPORTED_FILE_TYPES, FileInfo, sniff
from .types import BBox, Cell, CellStyle, Chunk, OcrResult, Page, ParseResult, Segment

__all__ = [
    "PagesPart",
    "assemble_result",
    "parse_pages",
    "part_from_bytes",
    "part_from_dict",
    "part_to_bytes",
    "part_to_dict",
    "DEFAULT_SYSTEM_PROMPT",
    "ExtractOptions",
    "LlmError",
    "ParseOutputInvalid",
    "SchemaError",
    "run_extraction",
    "split_document",
    "validate_extraction_schema",
    "validate_split_topics",
    "AssetSink",
    "BBox",
    "Cancelled",
    "Cell",
    "CellStyle",
    "Chunk",
    "ConfigError",
    "ConversionFailed",
    "ConverterMissing",
    "CorruptDocument",
    "DirectorySink",
    "EmptyDocument",
    "EncryptedDocument",
    "EngineError",
    "EngineLimits",
    "FileInfo",
    "GenerationConfig",
    "ImageTooLarge",
    "LlmUnavailable",
    "MemorySink",
    "NullSink",
    "OcrResult",
    "OcrUnavailable",
    "Page",
    "PageTimeout",
    "ParseConfig",
    "ParseOptions",
    "ParseResult",
    "SUPPORTED_FILE_TYPES",
    "Segment",
    "TooLarge",
    "TooManyPages",
    "UnsupportedFileType",
    "default_workers",
    "parse_document",
    "render_page_png",
    "LAZY_PAGE_IMAGE",
    "SEGMENT_PROCESSING_KEYS",
    "TOKENIZER_ENUMS",
    "default_generation",
    "render_content",
    "Box",
    "LeafField",
    "Picked",
    "ReviewValueError",
    "empty_value",
    "leaf_fields",
    "path_format",
    "path_parse",
    "template_results",
    "tree_get",
    "tree_set",
    "value_from_text",
    "words_in_boxes",
    "sniff",
]
