"""Escaping document text for Markdown, shared by segment content (content.py) and table cells (tables.py)."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def md_escape(text: str) -> str:
    """Backslash-escape the characters that would start raw HTML or markup, so document text never injects tags."""
    return _MD_SPECIAL.sub(r"\\\1", text)
