"""`python -m tasks_app.engine parse INPUT [--config JSON] [--out DIR]`,
`python -m tasks_app.engine extract INPUT --schema SCHEMA.json [--config JSON] [--topics T.json --topic NAME]`,
`python -m tasks_app.engine split INPUT --topics TOPICS.json [--config JSON]`.

INPUT is a document, or (extract/split) a ParseOutputResponse `.json` saved from `parse`. Prints the
ParseOutputResponse / ExtractOutputResponse / Split output JSON on stdout. Any failure is one line on
stderr and exit code 2 (bad input or configuration) or 1 (an engine bug), never a traceback.

The model endpoint comes from the server's variables, CHUNKR_LLM_BASE_URL, CHUNKR_LLM_API_KEY, CHUNKR_LLM_MODEL
and CHUNKR_LLM_TIMEOUT (an extract/split `--config` with its own `llm.base_url` replaces them all).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .assets import DirectorySink
from .config import ParseConfig, ParseOptions
from .errors import EngineError
from .extract import ExtractOptions, run_extraction, split_document, validate_extraction_schema
from .extract.split import validate_topics
from .parallel import default_workers
from .pipeline import parse_document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks_app.engine")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="parse a document and print ParseOutputResponse JSON")
    p.add_argument("input")
    p.add_argument("--config", help="ParseConfiguration as JSON, or @file.json", default=None)
    p.add_argument("--out", help="directory for page images, crops and the PDF rendition", default=None)
    p.add_argument("--dpi", type=int, default=144, help="page images of PDFs; image inputs keep their own resolution")
    p.add_argument("--workers", type=int, default=0, help="processes for long documents (default: one per core)")
    e = sub.add_parser("extract", help="extract structured data; prints ExtractOutputResponse JSON")
    e.add_argument("input")
    e.add_argument("--schema", required=True, help="JSON Schema file, or inline JSON")
    e.add_argument("--config", default=None, help="JSON or @file: system_prompt, error_handling, llm{...}, "
                   "parse_configuration")  # fmt: skip
    e.add_argument("--topics", default=None, help="topics JSON file; with --topic, extract from that topic only")
    e.add_argument("--topic", default=None)
    s = sub.add_parser("split", help="assign pages to topics; prints the Split output JSON")
    s.add_argument("input")
    s.add_argument("--topics", required=True, help="JSON file (or inline JSON): [{name, description}]")
    s.add_argument("--config", default=None)
    args = parser.parse_args(argv)
    if args.command in ("extract", "split"):
        return _extract_main(args)
    return _report(lambda: _parse_main(args))


def _parse_main(args: argparse.Namespace) -> tuple[dict, list[str]]:
    config = ParseConfig.from_dict(_json_arg(args.config, "--config") or {})
    src = Path(args.input)
    if not src.is_file():
        raise _Usage(f"input file not found: {args.input}")
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="engine-out-"))
    sink = DirectorySink(out)
    options = ParseOptions(
        config=config, dpi=args.dpi, file_name=src.name, workers=args.workers or default_workers(), **_parse_llm()
    )
    result = parse_document(src, options, sink)
    return result.to_dict(sink.url_for), list(result.warnings)


def _report(run: Callable[[], tuple[dict, list[str]]]) -> int:
    """Run a command; print its JSON on stdout and warnings on stderr, or one error line (exit 2: bad input or
    configuration, 1: an engine bug), never a traceback."""
    try:
        body, warnings = run()
    except _Usage as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    except EngineError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)  # noqa: T201
        return 2
    except Exception as exc:  # noqa: BLE001 - the CLI promises one line, not a traceback
        print(f"error: internal error ({type(exc).__name__}: {exc})".splitlines()[0], file=sys.stderr)  # noqa: T201
        return 1
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)  # noqa: T201
    json.dump(body, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


class _Usage(Exception):
    pass


def _llm_env() -> dict[str, object]:
    """The CHUNKR_LLM_* variables the server reads, as an extract config's `llm` object ({} when unset)."""
    url = os.environ.get("CHUNKR_LLM_BASE_URL", "").strip()
    if not url:
        return {}
    if not url.startswith(("http://", "https://")):
        raise _Usage("CHUNKR_LLM_BASE_URL must be an http(s) URL")
    out: dict[str, object] = {"base_url": url}
    for key in ("api_key", "model"):
        value = os.environ.get(f"CHUNKR_LLM_{key.upper()}", "").strip()
        if value:
            out[key] = value
    timeout = os.environ.get("CHUNKR_LLM_TIMEOUT", "").strip()
    if timeout:
        try:
            out["timeout"] = float(timeout)
        except ValueError:
            raise _Usage(f"CHUNKR_LLM_TIMEOUT must be a number of seconds (got {timeout!r})") from None
        if out["timeout"] <= 0:
            raise _Usage("CHUNKR_LLM_TIMEOUT must be positive")
    return out


def _parse_llm() -> dict[str, object]:
    """ParseOptions keywords for the endpoint in the environment."""
    names = {"base_url": "llm_base_url", "api_key": "llm_api_key", "model": "llm_model", "timeout": "llm_timeout_s"}
    return {names[k]: v for k, v in _llm_env().items()}


def _json_arg(raw: str | None, what: str) -> object:
    """Inline JSON, @file, or a path to a JSON file."""
    if raw is None:
        return None
    text = raw
    if raw.startswith("@") or not raw.lstrip().startswith(("{", "[")):
        path = Path(raw[1:] if raw.startswith("@") else raw)
        if not path.is_file():
            raise _Usage(f"{what} file not found: {path}")
        text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Usage(f"{what} is not valid JSON ({exc.msg} at line {exc.lineno})") from None


def _parse_output(src: Path, cfg: dict) -> dict:
    if src.suffix.lower() == ".json":
        try:
            data = json.loads(src.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _Usage(f"{src.name} is not a ParseOutputResponse JSON file ({exc})") from None
        if isinstance(data, dict) and isinstance(data.get("output"), dict):
            data = data["output"]  # a whole task response
        return data
    config = ParseConfig.from_dict(cfg.get("parse_configuration") or {})
    out = Path(tempfile.mkdtemp(prefix="engine-out-"))
    options = ParseOptions(config=config, file_name=src.name, workers=default_workers(), **_parse_llm())
    result = parse_document(src, options, DirectorySink(out))
    return result.to_dict(DirectorySink(out).url_for)


def _extract_main(args: argparse.Namespace) -> int:
    return _report(lambda: _extract_run(args))


def _extract_run(args: argparse.Namespace) -> tuple[dict, list[str]]:
    cfg = _json_arg(args.config, "--config") or {}
    if not isinstance(cfg, dict):
        raise _Usage("--config must be a JSON object")
    src = Path(args.input)
    if not src.is_file():
        raise _Usage(f"input file not found: {args.input}")
    opts_cfg = {k: v for k, v in cfg.items() if k != "parse_configuration"}
    llm = opts_cfg.get("llm")
    if llm is None or (isinstance(llm, dict) and not llm.get("base_url")):
        # The environment's endpoint, unless the config names its own (never its key sent to another URL).
        opts_cfg["llm"] = {**_llm_env(), **(llm or {})}
    options = ExtractOptions.from_dict(opts_cfg)
    topics = _json_arg(args.topics, "--topics")
    if args.command == "extract":
        schema = _json_arg(args.schema, "--schema")
        validate_extraction_schema(schema)  # fail fast, before parsing
        if args.topic is not None and topics is None:
            raise _Usage("--topic needs --topics")
        output = _parse_output(src, cfg)
        if args.topic is not None:
            split = split_document(output, topics, options)
            chosen = next((t for t in split["topics"] if t["name"] == args.topic), None)
            if chosen is None:
                raise _Usage(f"--topic {args.topic!r} is not one of the topics")
            options = ExtractOptions.from_dict({**opts_cfg, "pages": chosen["pages"] or [0x7FFFFFFF]})
        body = run_extraction(output, schema, options)
    else:
        validate_topics(topics)
        body = split_document(_parse_output(src, cfg), topics, options)
    return body, list(options.warnings)
