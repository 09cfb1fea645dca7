"""Document-level evidence for fields no label names, gathered page by page.

Title (largest text on the first page), letterhead company (with a legal form set under it),
contract parties ("between A and B"), first email / phone, currency symbols, dates introduced in
running text ("dated ..."), and dates in the head of the first page (an unlabelled issue date, boxed
cells included). Each function reads one page (or a two-page window) so the caller can keep only
the first few matches.
"""

from __future__ import annotations

import re

from . import labels as lb
from .candidates import is_colon
from .coerce import coerce_text, currency_of, normalize, ocr_digits, parse_date
from .document import Line, Page, Phrase, Word
from .fields import Field
from .output import Found
from .schema import Node

_DOC_WORDS = frozenset(
    "invoice tax invoice receipt sales receipt statement bill quote quotation estimate purchase order credit note "
    "proforma pro forma order confirmation delivery note packing slip agreement contract".split()
)
# Stamped over a page ('SAMPLE', 'PAID'): large, but never its title or the company that issued it.
_STAMPS = frozenset(
    "sample specimen copy draft void paid unpaid overdue original duplicate confidential received cancelled "
    "canceled approved rejected".split()
)

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d()\s./-]{7,}$")
_DATE_INTRO = re.compile(
    r"\b(dated|dated as of|effective as of|effective|as of|made on|entered into on|on|commencing|commencing on|"
    r"starting|from)\s*$",
    re.I,
)


def fallback_kind(f: Field) -> str | None:
    """Which document-level evidence a field falls back to when no label names it."""
    node = f.node
    name_concepts = set()
    for p in f.phrases:
        name_concepts |= lb.concepts(p)
        for w in p.split():
            name_concepts |= lb.concepts(w) if w in ("title", "currency", "parties", "party") else set()
    words_of_name = set(" ".join(f.phrases).split())
    if node.kind == "string" and node.fmt == "email":
        return "email"
    if node.kind == "string" and ("phone" in name_concepts or "phone" in words_of_name):
        return "phone"
    if "currency" in name_concepts or "currency" in words_of_name:
        return "currency"
    if node.kind == "string" and ("title" in name_concepts or "title" in words_of_name):
        return "title"
    if f.party == "vendor" and f.sub in ("", "name", "company", "company name"):
        return "vendor"
    if (
        node.kind == "array"
        and node.items is not None
        and node.items.kind == "string"
        and (words_of_name & {"parties", "party", "signatories"})
    ):
        return "parties"
    if node.kind == "string" and (node.fmt in ("date", "date-time") or f.expects == "date"):
        concepts = set()
        for p in f.phrases:
            concepts |= lb.concepts(p)
        if concepts & {"effective_date", "issue_date", "signature_date"} or f.desc & {"agreement", "effective"}:
            return "date"
    return None


def is_issue_date(f: Field) -> bool:
    return any("issue_date" in lb.concepts(p) for p in f.phrases)


def _date_value(words: list[Word], node: Node, day_first: bool | None, text: str | None = None) -> Found | None:
    """A date field's value from its words: ISO for date formats, the printed text for plain strings."""
    printed = text if text is not None else " ".join(w.text for w in words).rstrip(".,;")
    parsed = parse_date(printed, day_first)
    if parsed is None:
        mended = ocr_digits(printed)
        parsed = parse_date(mended, day_first) if mended else None
    if parsed is None:
        return None
    dt = parsed[0]
    if node.fmt == "date-time":
        return Found(dt.isoformat(), words, high=False)
    if node.fmt == "date":
        return Found(dt.date().isoformat(), words, high=False)
    return Found(" ".join(w.text for w in words), words, high=False)


def header_dates(page: Page, day_first: bool | None, node: Node) -> list[Found]:
    """Dates in the head of the first page, top to bottom: where an unlabelled issue date sits.

    A date may be a phrase of its own or, on forms, cut into boxed cells ('1 | 2 | 02'): three
    numbers in a row, day and month of one or two digits and a year of two or four.
    """
    out: list[Found] = []
    limit = (page.height or max((ln.y1 for ln in page.lines), default=0)) * 0.45
    for ln in page.lines:
        if ln.y0 > limit:
            break
        for p in ln.phrases:
            if len(p.words) <= 4 and re.search(r"\d", p.text):
                got = _date_value(list(p.words), node, day_first)
                if got is not None:
                    out.append(got)
        ws = ln.words
        for i in range(len(ws) - 2):
            a, b, c = ws[i : i + 3]
            if (
                re.fullmatch(r"\d{1,2}", a.text)
                and re.fullmatch(r"\d{1,2}", b.text)
                and re.fullmatch(r"\d{2}|\d{4}", c.text)
            ):
                got = _date_value([a, b, c], node, day_first, f"{a.text}/{b.text}/{c.text}")
                if got is not None:
                    out.append(got)
    return out


def email_matches(page: Page, node: Node, limit: int) -> list[Found]:
    out = []
    for w in page.words:
        if _EMAIL.match(w.text.strip("<>(),;")) is not None:
            got = coerce_text(w.text.strip("<>(),;"), node)
            if got is not None:
                out.append(Found(got[0], [w], high=False))
                if len(out) >= limit:
                    break
    return out


def phone_matches(page: Page, limit: int) -> list[Found]:
    out = []
    for ln in page.lines:
        for p in ln.phrases:
            if _PHONE.match(p.text) and sum(c.isdigit() for c in p.text) >= 7:
                out.append(Found(p.text, list(p.words), high=False))
                if len(out) >= limit:
                    return out
    return out


def currency_match(page: Page, node: Node) -> list[Found]:
    for w in page.words:
        cur = currency_of(w.text)
        if cur:
            got = coerce_text(cur, node)
            if got is not None:
                return [Found(got[0], [w], high=False)]
    return []


# The first word of a document's own heading ('Invoice VT/2022/0001', 'Handelsrechnung Nr. R18-31 vom …').
_DOC_HEADS = frozenset(
    "invoice receipt statement bill quote quotation estimate order proforma credit debit rechnung gutschrift "
    "quittung lieferschein angebot facture avoir devis recu factuur creditnota offerte fattura factura".split()
)


def _doc_heading(text: str) -> bool:
    """A document's title, alone or with its number or date: never the name of who issued it."""
    words = normalize(text).split()
    if not words:
        return False
    return normalize(text) in _DOC_WORDS or words[0] in _DOC_HEADS or words[0].endswith("rechnung")


def largest_line(page: Page, skip_doc_words: bool) -> Line | None:
    """The largest text in the top part of the (first) page: a title or a letterhead.

    `skip_doc_words` (the issuer's letterhead): the document's own heading is passed over, and where nothing left
    stands out by size (word boxes differ by their glyphs: a bracket or a descender is no larger font), the first
    name on the page is the letterhead."""
    lines = page.lines
    if not lines:
        return None
    page_h = page.height or max(ln.y1 for ln in lines)
    best, best_key = None, None
    heights: list[float] = []
    first_name: Line | None = None
    for ln in lines:
        if ln.y0 > page_h * 0.45 or not any(c.isalpha() for c in ln.text):
            continue
        if skip_doc_words and normalize(ln.text) in _DOC_WORDS:
            continue
        for p in ln.phrases:
            if skip_doc_words and _doc_heading(p.text) or normalize(p.text) in _STAMPS:
                continue
            if not any(c.isalpha() for c in p.text) or is_colon(p.words[-1]):
                continue
            heights.append(p.y1 - p.y0)
            if first_name is None and _name_like(p.text):
                first_name = Line(ln.index, ln.page, p.words, [p])
            key = (round(p.y1 - p.y0, 0), -p.y0)
            if best_key is None or key > best_key:
                best, best_key = Line(ln.index, ln.page, p.words, [p]), key
    if skip_doc_words and best is not None and first_name is not None:
        median = sorted(heights)[len(heights) // 2]
        if best_key is not None and best_key[0] < 1.3 * median:
            return first_name
    return best


def _name_like(text: str) -> bool:
    """Words that could name a business: letters, no digits, not a field label or a column heading."""
    if any(ch.isdigit() for ch in text) or len(text.split()) > 6:
        return False
    return not (lb.looks_like_label(text) and lb.concepts(text))


_LEGAL_FORMS = frozenset(
    ("inc", "incorporated", "ltd", "limited", "llc", "llp", "plc", "corp", "corporation", "co", "company", "gmbh",
     "ag", "sa", "sarl", "bv", "nv", "oy", "ab", "spa", "srl", "pty ltd", "gmbh co kg", "kg")
)  # fmt: skip


def with_legal_form(page: Page, line: Line) -> Line:
    """A letterhead name with its legal form set on the line under it ('PHILIP MORRIS' / 'INCORPORATED')."""
    p = line.phrases[0]
    h = max(1.0, p.y1 - p.y0)
    for ln in page.lines:
        if ln.y0 <= p.y1 - 0.3 * h:
            continue
        if ln.y0 - p.y1 > 0.6 * h:
            break
        for q in ln.phrases:
            inside = q.x0 >= p.x0 - 0.5 * h and q.x1 <= p.x1 + 0.5 * h
            if inside and normalize(q.text) in _LEGAL_FORMS:
                words = [*p.words, *q.words]
                return Line(line.index, line.page, words, [Phrase(words, line.index)])
        break
    return line


def line_found(line: Line, node: Node) -> Found | None:
    got = coerce_text(line.text, node)
    return Found(got[0], list(line.words), high=False) if got else None


_PARTY_RX = re.compile(
    r"\bbetween\s+(?P<a>.+?)\s*(?:\([^)]*\))?\s*,?\s+and\s+(?P<b>.+?)\s*(?:\(|,|\.(?:\s|$)|$)", re.I | re.S
)


def parties(prev: Page | None, page: Page, final: bool) -> Found | None:
    """'between A and B' in running text, read over this page and the one before it.

    A match that runs to the end of the text read so far is left for the next call (with the next
    page the sentence may go on), unless this is the last page.
    """
    words = [*(prev.words if prev is not None else ()), *page.words]
    text_parts, starts = [], []
    pos = 0
    for w in words:
        starts.append(pos)
        text_parts.append(w.text)
        pos += len(w.text) + 1
    text = " ".join(text_parts)
    m = _PARTY_RX.search(text)
    if not m or (m.end() >= len(text) and not final):
        return None
    vals, used = [], []
    for g in ("a", "b"):
        s, e = m.span(g)
        ws = [w for w, st in zip(words, starts, strict=True) if st >= s and st + len(w.text) <= e + 1]
        name = m.group(g).strip(" ,;\"'“”")
        if text[e : e + 1] == "." and re.search(
            r"\b(inc|ltd|co|corp|llc|plc|l\.l\.c|n\.a|s\.a|b\.v|n\.v)$", name, re.I
        ):
            name += "."  # "Inc." keeps its dot; the regex stopped at it as a sentence end
        vals.append(name)
        used.extend(ws)
    return Found(vals, used, high=False)


def introduced_dates(
    prev: Page | None, page: Page, next_page: Page | None, day_first: bool | None, node: Node, limit: int
) -> list[Found]:
    """Dates introduced by 'dated', 'effective as of', ... in running text: this page's, in order."""
    head = prev.words[-4:] if prev is not None else []
    words = [*head, *page.words, *(next_page.words[:4] if next_page is not None else ())]
    out = []
    for i in range(len(head), len(head) + len(page.words)):
        prev_text = " ".join(x.text for x in words[max(0, i - 4) : i])
        if not _DATE_INTRO.search(prev_text):
            continue
        for n in (4, 3, 1):
            span = words[i : i + n]
            parsed = parse_date(" ".join(x.text for x in span).rstrip(".,;"), day_first)
            if parsed:
                dt, has_time, _ = parsed
                value = dt.isoformat() if node.fmt == "date-time" else dt.date().isoformat()
                out.append(Found(value, span, high=False))
                break
        if len(out) >= limit:
            break
    return out
