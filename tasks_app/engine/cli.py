"""`python -m tasks_app.engine parse INPUT [--config JSON] [--out DIR]`.

Prints the ParseOutputResponse JSON on stdout. Any failure is one line on stderr and exit code 2
(bad input or configuration) or 1 (an engine bug), never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from .assets import DirectorySink
from .config import ParseConfig, ParseOptions
from .errors import EngineError
from .parallel import default_workers
from .pipeline import parse_document


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks_app.engine")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("parse", help="parse a document and print ParseOutputResponse JSON")
    p.add_argument("input")
    p.add_argument("--config", help="ParseConfiguration as JSON, or @file.json", default=None)
    p.add_argument("--out", help="directory for page images, crops and the PDF rendition", default=None)
    p.add_argument("--dpi", type=int, default=144)
    p.add_argument("--workers", type=int, default=0, help="processes for long documents (default: one per two cores)")
    args = parser.parse_args(argv)
    try:
        raw = args.config
        if raw and raw.startswith("@"):
            raw = Path(raw[1:]).read_text(encoding="utf-8")
        try:
            cfg = json.loads(raw) if raw else {}
        except json.JSONDecodeError as exc:
            print(f"error: --config is not valid JSON ({exc.msg})", file=sys.stderr)  # noqa: T201
            return 2
        config = ParseConfig.from_dict(cfg)
        src = Path(args.input)
        if not src.is_file():
            print(f"error: input file not found: {args.input}", file=sys.stderr)  # noqa: T201
            return 2
        out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="engine-out-"))
        sink = DirectorySink(out)
        result = parse_document(
            src,
            ParseOptions(config=config, dpi=args.dpi, file_name=src.name, workers=args.workers or default_workers()),
            sink,
        )
    except EngineError as exc:
        print(f"error: {exc.user_message}", file=sys.stderr)  # noqa: T201
        return 2
    except Exception as exc:  # noqa: BLE001 - the CLI promises one line, not a traceback
        print(f"error: internal error ({type(exc).__name__}: {exc})".splitlines()[0], file=sys.stderr)  # noqa: T201
        return 1
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)  # noqa: T201
    json.dump(result.to_dict(sink.url_for), sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
