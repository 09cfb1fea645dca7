"""Where rendered assets (page images, crops, the PDF rendition) go.

The engine only produces bytes under stable keys ("pages/0001-144dpi.png"); the caller's sink stores
them and `url_for` later turns keys into URLs, so the same result can be served presigned or as data URLs.
With lazy page images the engine `defer`s a page image instead: the key is recorded, and the caller renders
it with `render_page_png` from the stored "document.pdf" when someone first asks for it.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Protocol


class AssetSink(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> str:
        """Store `data` under `key`; return the key to record in the result (normally `key`)."""
        ...

    def defer(self, key: str, content_type: str) -> str:
        """Record `key` as produced later, on demand; return what `put` would have returned."""
        ...


class DirectorySink:
    """Writes assets below a directory; used by the CLI and tests."""

    def __init__(self, path: str | Path) -> None:
        self.root = Path(path).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, key: str, data: bytes, content_type: str) -> str:
        target = (self.root / key).resolve()
        if self.root not in target.parents:
            raise ValueError(f"asset key escapes the sink directory: {key!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return key

    def defer(self, key: str, content_type: str) -> str:
        return key

    def url_for(self, key: str) -> str:
        return (self.root / key).as_uri()


class MemorySink:
    """Keeps assets in a dict; handy for tests and for `base64_urls` responses."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[bytes, str]] = {}

    def put(self, key: str, data: bytes, content_type: str) -> str:
        self.items[key] = (data, content_type)
        return key

    def defer(self, key: str, content_type: str) -> str:
        return key

    def url_for(self, key: str) -> str:
        data, ctype = self.items[key]
        return f"data:{ctype};base64,{base64.b64encode(data).decode('ascii')}"


class NullSink:
    """Discards assets (the key still resolves to a placeholder)."""

    def put(self, key: str, data: bytes, content_type: str) -> str:
        return key

    def defer(self, key: str, content_type: str) -> str:
        return key

    def url_for(self, key: str) -> str:
        return key
