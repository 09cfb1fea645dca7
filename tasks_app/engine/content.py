"""Per-segment HTML and Markdown.

All document text is escaped: HTML via html.escape, Markdown by backslash-escaping the characters
that would otherwise start raw HTML or markup, so extracted text can never inject tags (a
`<script>` in a PDF renders as text) wherever the content is later displayed.
"""

from __future__ import annotations

import html
import re

from .markup import md_escape
from .tables import TableGrid, to_html, to_markdown

_BULLET_RE = re.compile(
    r"^\s*([\u2022\u25cf\u25aa\u25e6\u2023\u2043\u2219\u00b7\u25a0\u25a1\u2013\u2014*+-]|"
    r"\uf0b7|\uf0a7|o(?=\s))\s+|"
    # A bullet glyph its font gives no Unicode for: U+FFFD or a private-use character, often set against the text.
    r"^\s*[\ufffd\ue000-\uf8ff]+\s*"
)
_NUMBERED_RE = re.compile(r"^\s*(\(?\d{1,3}[.)]|\(?[a-zA-Z][.)]|\(?[ivxIVX]{1,5}[.)])\s+")


def _md_lines(text: str) -> str:
    return "\n".join(md_escape(line) for line in text.splitlines())


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _html_lines(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.splitlines())


def render(segment_type: str, text: str, grid: TableGrid | None = None) -> tuple[str, str]:
    """Return (html, markdown) for one segment."""
    text = text.strip()
    if segment_type == "Table":
        if grid is not None:
            return to_html(grid), to_markdown(grid)
        return f"<table><tr><td>{_html_lines(text)}</td></tr></table>", _md_lines(text)
    if segment_type == "Title":
        t = _one_line(text)
        return f"<h1>{html.escape(t)}</h1>", f"# {md_escape(t)}" if t else ""
    if segment_type == "SectionHeader":
        t = _one_line(text)
        return f"<h2>{html.escape(t)}</h2>", f"## {md_escape(t)}" if t else ""
    if segment_type == "ListItem":
        t = _one_line(text)
        m = _NUMBERED_RE.match(t)
        if m:
            marker = m.group(1).strip("()")
            body = t[m.end() :]
            return (f"<ol><li>{html.escape(body)}</li></ol>", f"{md_escape(marker.rstrip('.)'))}. {md_escape(body)}")
        body = _BULLET_RE.sub("", t, count=1)
        return f"<ul><li>{html.escape(body)}</li></ul>", f"- {md_escape(body)}"
    if segment_type == "Picture":
        if not text:
            return "<figure></figure>", ""
        return f"<figure><p>{_html_lines(text)}</p></figure>", _md_lines(text)
    if segment_type == "Formula":
        t = _one_line(text)
        return f'<span class="formula">{html.escape(t)}</span>', md_escape(t)
    css = {
        "Caption": "caption",
        "Footnote": "footnote",
        "PageHeader": "page-header",
        "PageFooter": "page-footer",
        "PageNumber": "page-number",
    }.get(segment_type)
    if css:
        return f'<p class="{css}">{_html_lines(text)}</p>', _md_lines(text)
    if segment_type == "Page":
        paras = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
        return "".join(f"<p>{_html_lines(p)}</p>" for p in paras), "\n\n".join(_md_lines(p) for p in paras)
    return (f"<p>{_html_lines(text)}</p>" if text else "", _md_lines(text))
