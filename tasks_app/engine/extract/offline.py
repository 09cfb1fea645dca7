"""The offline extractor: schema fields -> label/value evidence in the parse output, no model needed.

1. Candidates: every place the page pairs a label with a value: `Label: value` on a line (several
   per line too), a label with a value to its right or directly below (form fields, key-value grids,
   table header over its first cell), blocks of lines under a label (addresses), checkboxes.
2. Each leaf field scores each candidate: label match (labels.py) x kind prior x type coercion
   strength (coerce.py); a greedy global assignment gives each field its best candidate while no
   two fields take the same words.
3. Arrays of objects come from tables: a line whose phrases match the item properties is a header;
   the lines below are cut into columns by the header positions until a totals line or a gap.
4. Fields no label names fall back to document-level evidence: title (largest text on page 1),
   letterhead company, contract parties ("between A and B"), first email/phone, currency symbols.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from . import labels as lb
from .coerce import Coerced, coerce_text, coerce_words, currency_of, normalize, parse_date
from .document import CHECK_OFF, CHECK_ON, Document, Line, Phrase, Word
from .output import Found, KeyPath
from .schema import Node, iter_leaves

_MIN_LABEL = 75.0
_HIGH_LABEL = 88.0
_TOTALS = re.compile(
    r"^(sub\s*-?\s*total|total|grand total|tax|vat|gst|hst|sales tax|balance|amount due|shipping|freight|discount|"
    r"net|gross|tip|gratuity|change|cash|card|paid|payment|deposit|less|rounding)\b",
    re.I,
)
_DOC_WORDS = frozenset(
    "invoice tax invoice receipt sales receipt statement bill quote quotation estimate purchase order credit note "
    "proforma pro forma order confirmation delivery note packing slip agreement contract".split()
)
_ID_WORDS = frozenset({"number", "id", "code", "reference", "no", "identifier", "ref", "nr"})


@dataclass(slots=True)
class Cand:
    label: str
    label_words: list[Word]
    value_words: list[Word]
    kind: str  # inline, right, below, block, check, group
    weight: float
    lines: list[list[Word]] | None = None  # block: value words per line
    checked: bool | None = None  # check: the box state
    options: list[tuple[bool, list[Word]]] | None = None  # group: every option


# ---------------------------------------------------------------- candidates


def _is_colon(w: Word) -> bool:
    return w.text.endswith(":") and len(w.text) > 1 or w.text == ":"


def _strip_colon(text: str) -> str:
    return text.rstrip().rstrip(":").strip()


def _split_glued(p: Phrase) -> list[Word]:
    """'Date:2024-01-05' is one text-layer word; cut it into label and value words."""
    out: list[Word] = []
    for w in p.words:
        m = re.match(r"^([A-Za-z][A-Za-z .#]{1,30}:)(\S.*)$", w.text)
        if m and not re.match(r"^\d{1,2}:\d{2}", m.group(2)):
            cut = w.x0 + (w.x1 - w.x0) * len(m.group(1)) / len(w.text)
            out.append(Word(m.group(1), w.x0, w.y0, cut, w.y1, w.page, w.seg, w.order, w.line))
            out.append(Word(m.group(2), cut, w.y0, w.x1, w.y1, w.page, w.seg, w.order, w.line))
        else:
            out.append(w)
    return out


def _below(doc: Document, lines_by_page: dict[int, list[Line]], p: Phrase, max_gap: float = 2.2) -> Phrase | None:
    h = max(1.0, p.y1 - p.y0)
    page_lines = lines_by_page[p.page]
    for ln in page_lines:
        if ln.y0 <= p.y1 - 0.3 * h:
            continue
        if ln.y0 - p.y1 > max_gap * h:
            return None
        best, best_ov = None, 0.0
        for q in ln.phrases:
            ov = min(q.x1, p.x1) - max(q.x0, p.x0)
            if ov > best_ov or (best is None and abs(q.x0 - p.x0) < 1.5 * h):
                best, best_ov = q, max(ov, 0.0)
        if best is not None:
            return best
    return None


def _block_from(doc: Document, lines_by_page: dict[int, list[Line]], first: Phrase, limit: int = 6) -> list[Phrase]:
    block = [first]
    h = max(1.0, first.y1 - first.y0)
    for _ in range(limit - 1):
        last = block[-1]
        nxt = None
        for ln in lines_by_page[last.page]:
            if ln.y0 <= last.y1 - 0.3 * h:
                continue
            if ln.y0 - last.y1 > 0.9 * h:
                break
            # Lines of other columns interleave (their baselines differ a little): skip them.
            nxt = next((q for q in ln.phrases if abs(q.x0 - first.x0) < 1.5 * h), None)
            if nxt is not None:
                break
        if nxt is None or _is_colon(nxt.words[-1]) or any(_is_colon(w) for w in nxt.words[:4]):
            break
        block.append(nxt)
    return block


def candidates(doc: Document) -> list[Cand]:
    out: list[Cand] = []
    lines_by_page: dict[int, list[Line]] = {}
    for ln in doc.lines:
        lines_by_page.setdefault(ln.page, []).append(ln)
    for line in doc.lines:
        if any(w.text in CHECK_ON or w.text in CHECK_OFF for w in line.words):
            out.extend(_checkbox_cands(line))
        phrases = line.phrases
        for pi, p in enumerate(phrases):
            words = _split_glued(p)
            colons = [i for i, w in enumerate(words) if _is_colon(w)]
            right = phrases[pi + 1] if pi + 1 < len(phrases) else None
            if colons:
                out.extend(_inline_cands(words, colons))
                if colons[-1] == len(words) - 1:
                    start = colons[-2] + 1 if len(colons) > 1 else 0
                    lab_words = words[start:]
                    out.extend(_label_cands(doc, lines_by_page, lab_words, p, right, colon=True))
            elif lb.looks_like_label(p.text):
                out.extend(_label_cands(doc, lines_by_page, words, p, right, colon=False))
    return out


def _inline_cands(words: list[Word], colons: list[int]) -> list[Cand]:
    out = []
    bounds = [*colons, len(words)]
    prev_start = 0
    for k, ci in enumerate(colons):
        nxt = bounds[k + 1]
        if ci == len(words) - 1:
            break
        # The value runs to the next label; where that label starts is uncertain: offer each cut.
        label_words = words[prev_start : ci + 1]
        cuts = [nxt] if nxt == len(words) else range(max(ci + 2, nxt - 4), nxt + 1)
        for cut in cuts:
            value = words[ci + 1 : cut if nxt != len(words) else nxt]
            if nxt != len(words) and cut == nxt:
                continue
            if value:
                label = _strip_colon(" ".join(w.text for w in label_words))
                out.append(Cand(label, label_words, value, "inline", 1.0))
        if nxt != len(words):
            # Next label's start: assume the shortest alphabetic run before its colon.
            j = nxt
            s = j
            while s - 1 > ci + 1 and re.match(r"^[A-Za-z#.&/()-]+:?$", words[s - 1].text) and j - s < 3:
                s -= 1
            prev_start = s
    return out


def _label_cands(
    doc: Document,
    lines_by_page: dict[int, list[Line]],
    lab_words: list[Word],
    p: Phrase,
    right: Phrase | None,
    colon: bool,
) -> list[Cand]:
    label = _strip_colon(" ".join(w.text for w in lab_words))
    if not label:
        return []
    out = []
    w_right = 1.0 if colon else 0.9
    w_below = 0.96 if colon else 0.88
    lab_phrase = Phrase(lab_words, p.line)
    if len(doc.lines[p.line].phrases) >= 3 and not colon:
        # A header cell of a table: its "value" below is the first row, weaker than a labelled field.
        w_below = 0.8
    if right is not None:
        if right.x0 - p.x1 > 14 * max(1.0, p.y1 - p.y0):
            w_right *= 0.95  # receipts put values far right; still the value, a little less sure
        out.append(Cand(label, lab_words, right.words, "right", w_right))
        block = _block_from(doc, lines_by_page, right)
        out.append(Cand(label, lab_words, right.words, "block", w_right, lines=[q.words for q in block]))
    below = _below(doc, lines_by_page, lab_phrase)
    if below is not None and not any(_is_colon(w) for w in below.words[:-1]):
        value_words = below.words
        if _is_colon(value_words[-1]):
            return out
        out.append(Cand(label, lab_words, value_words, "below", w_below))
        block = _block_from(doc, lines_by_page, below)
        out.append(Cand(label, lab_words, value_words, "block", w_below, lines=[q.words for q in block]))
    return out


def _checkbox_cands(line: Line) -> list[Cand]:
    words = line.words
    marks = [i for i, w in enumerate(words) if w.text in CHECK_ON or w.text in CHECK_OFF]
    options: list[tuple[bool, list[Word]]] = []
    for k, mi in enumerate(marks):
        end = marks[k + 1] if k + 1 < len(marks) else len(words)
        opt = words[mi + 1 : end]
        # An option's text ends at a wide gap (the next field on the same line).
        for j in range(1, len(opt)):
            if opt[j].x0 - opt[j - 1].x1 > 1.5 * max(1.0, opt[j].h):
                opt = opt[:j]
                break
        if opt:
            options.append((words[mi].text in CHECK_ON, [words[mi], *opt]))
    out = []
    for checked, ws in options:
        label = _strip_colon(" ".join(w.text for w in ws[1:]))
        out.append(Cand(label, ws[1:], ws, "check", 1.0, checked=checked))
    prefix = words[: marks[0]] if marks else []
    if prefix and options:
        label = _strip_colon(" ".join(w.text for w in prefix))
        picked = [ws for checked, ws in options if checked]
        value = [w for ws in picked for w in ws]
        out.append(Cand(label, prefix, value, "group", 1.0, options=options))
    return out


# ---------------------------------------------------------------- leaf fields


@dataclass(slots=True)
class Field:
    path: KeyPath
    node: Node
    phrases: list[str]
    desc: frozenset[str]
    party: str | None
    sub: str  # field name without the party word ("address", "name", "")
    is_id: bool


def _field(path: KeyPath, node: Node) -> Field:
    name = str(path[-1]) if path else node.name
    parents = tuple(str(p) for p in path[:-1])
    phrases = lb.field_phrases(name, node.title, parents)
    party = lb.is_party(name, parents)
    sub = ""
    if party:
        party_words = set()
        for text in (*parents[-1:], name):
            for w in lb.norm_label(text).split():
                if party in lb.concepts(w) or party in lb.concepts(lb.norm_label(text)):
                    party_words.add(w)
        sub = " ".join(w for w in lb.norm_label(name).split() if w not in party_words)
    tokens = set(lb.norm_label(name).split()) | set(lb.norm_label(node.title or "").split())
    is_id = bool(tokens & _ID_WORDS) and node.kind == "string" and not node.fmt and node.enum is None
    return Field(path, node, phrases, lb.description_words(node.description), party, sub, is_id)


def _value_plausible(f: Field, text: str, value: Any) -> float:
    """Down-weight values that cannot be what the field asks for."""
    if f.node.kind != "string" or f.node.enum is not None or f.node.fmt:
        return 1.0
    if f.is_id and not re.search(r"\d", text):
        return 0.5
    if lb.looks_like_label(text) and lb.concepts(text) and not f.party:
        return 0.7
    if re.fullmatch(r"[\d\s.,:/$€£%-]+", text) and not f.is_id and not f.sub.endswith(("phone", "code", "zip")):
        # A bare number or date is rarely a name or a description.
        return 0.8
    return 1.0


def _score_leaf(doc: Document, f: Field, c: Cand) -> tuple[float, Any, list[Word], float, float] | None:
    """-> (score, value, value words, label score, coercion strength)."""
    node = f.node
    ls = lb.label_score(f.phrases, f.desc, c.label)
    party_hit = bool(f.party and f.party in lb.concepts(c.label))
    if party_hit:
        ls = max(ls, 94.0)
    if ls < _MIN_LABEL:
        return None
    if c.kind == "check":
        if node.kind != "boolean":
            return None
        return ls / 100 * c.weight, bool(c.checked), c.value_words, ls, 1.0
    if c.kind == "group":
        return _score_group(f, c, ls)
    value_words = c.value_words
    if c.kind == "block":
        if not party_hit or not c.lines:
            return None
        if f.sub in ("address", "addr", "location"):
            if len(c.lines) < 2:
                return None
            value_words = [w for ln in c.lines[1:] for w in ln]
            text = ", ".join(" ".join(w.text for w in ln) for ln in c.lines[1:])
            got = coerce_text(text, node, doc.day_first)
            if got is None:
                return None
            return ls / 100 * c.weight, got[0], value_words, ls, got[1]
        if f.sub not in ("", "name", "company", "company name", "full name"):
            return None
        value_words = c.lines[0]
    elif f.party and f.sub in ("address",) and not party_hit:
        pass
    elif party_hit and f.sub not in ("", "name", "company", "company name", "full name"):
        # "Bill To" labels a block; its other parts (email, phone) are found by format below.
        return None
    texts = [w.text for w in value_words]
    got: Coerced | None = coerce_words(texts, node, doc.day_first)
    if got is None:
        return None
    used = value_words[got.start : got.end]
    text = " ".join(w.text for w in used)
    if node.kind == "string" and node.enum is None and not node.fmt and text.endswith(":"):
        return None
    strength = got.strength * _value_plausible(f, text, got.value)
    return ls / 100 * c.weight * strength, got.value, used, ls, strength


def _score_group(f: Field, c: Cand, ls: float) -> tuple | None:
    node = f.node
    picked = [(ws[0], ws[1:]) for checked, ws in c.options or [] if checked]
    if node.kind == "array" and node.items is not None:
        vals, words = [], []
        for mark, ws in picked:
            got = coerce_text(" ".join(w.text for w in ws), node.items)
            if got is not None:
                vals.append(got[0])
                words.extend([mark, *ws])
        return (ls / 100 * c.weight, vals, words, ls, 1.0) if vals else None
    if len(picked) != 1:
        if node.kind == "boolean" and not picked and c.options:
            return None
        return None
    mark, ws = picked[0]
    text = " ".join(w.text for w in ws)
    got = coerce_text(text, node)
    if got is None:
        return None
    return ls / 100 * c.weight * got[1], got[0], [mark, *ws], ls, got[1]


def _split_list(text_words: list[Word], node: Node, day_first: bool | None) -> tuple[list[Any], list[Word]] | None:
    """'paid, eu; urgent' -> ['paid', 'eu', 'urgent'] with the words of each item."""
    items: list[list[Word]] = [[]]
    for w in text_words:
        t = w.text
        if t.lower() in ("and", "&") and items[-1]:
            items.append([])
            continue
        stripped = t.rstrip(",;")
        if stripped:
            items[-1].append(w)
        if t.endswith((",", ";")):
            items.append([])
    vals, used = [], []
    for ws in items:
        if not ws:
            continue
        got = coerce_text(" ".join(w.text.rstrip(",;") for w in ws), node, day_first)
        if got is None:
            return None
        vals.append(got[0])
        used.extend(ws)
    return (vals, used) if vals else None


def extract_leaves(doc: Document, root: Node, cands: list[Cand]) -> dict[KeyPath, Found]:
    fields = [_field(path, node) for path, node in iter_leaves(root)]
    scored = []
    for fi, f in enumerate(fields):
        for ci, c in enumerate(cands):
            if f.node.kind == "array":
                got = _score_array(doc, f, c)
            else:
                got = _score_leaf(doc, f, c)
            if got is not None:
                score, value, words, ls, strength = got
                scored.append(
                    (score, -c.value_words[0].order if c.value_words else 0, fi, ci, value, words, ls, strength)
                )
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
    taken_words: set[int] = set()
    found: dict[KeyPath, Found] = {}
    for score, _, fi, _ci, value, words, ls, strength in scored:
        f = fields[fi]
        if f.path in found or score <= 0:
            continue
        ids = {id(w) for w in words}
        if ids & taken_words:
            continue
        taken_words |= ids
        found[f.path] = Found(value, list(words), high=ls >= _HIGH_LABEL and strength >= 0.95)
    for f in fields:
        if f.path not in found:
            fb = _fallback(doc, f, taken_words)
            if fb is not None:
                found[f.path] = fb
                taken_words |= {id(w) for w in fb.words}
    return found


def _score_array(doc: Document, f: Field, c: Cand) -> tuple | None:
    node = f.node
    ls = lb.label_score(f.phrases, f.desc, c.label)
    if ls < _MIN_LABEL or node.items is None:
        return None
    if c.kind == "group":
        return _score_group(f, c, ls)
    if c.kind not in ("inline", "right", "below"):
        return None
    got = _split_list(c.value_words, node.items, doc.day_first)
    if got is None:
        return None
    vals, words = got
    return ls / 100 * c.weight, vals, words, ls, 1.0


# ---------------------------------------------------------------- document-level fallbacks


_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d()\s./-]{7,}$")
_DATE_INTRO = re.compile(
    r"\b(dated|dated as of|effective as of|effective|as of|made on|entered into on|on|commencing|commencing on|"
    r"starting|from)\s*$",
    re.I,
)


def _fallback(doc: Document, f: Field, taken: set[int]) -> Found | None:
    node = f.node
    name_concepts = set()
    for p in f.phrases:
        name_concepts |= lb.concepts(p)
        for w in p.split():
            name_concepts |= lb.concepts(w) if w in ("title", "currency", "parties", "party") else set()
    words_of_name = set(" ".join(f.phrases).split())
    if node.kind == "string" and node.fmt == "email":
        return _first_match(doc, f, taken, lambda t: _EMAIL.match(t.strip("<>(),;")) is not None, node)
    if node.kind == "string" and ("phone" in name_concepts or "phone" in words_of_name):
        return _first_phrase_match(doc, f, taken, _PHONE, node)
    if "currency" in name_concepts or "currency" in words_of_name:
        for w in doc.words:
            cur = currency_of(w.text)
            if cur:
                got = coerce_text(cur, node)
                if got is not None:
                    return Found(got[0], [w], high=False)
        return None
    if node.kind == "string" and ("title" in name_concepts or "title" in words_of_name):
        line = _largest_line(doc, skip_doc_words=False)
        return _line_found(line, node) if line else None
    if f.party == "vendor" and f.sub in ("", "name", "company", "company name"):
        line = _largest_line(doc, skip_doc_words=True)
        return _line_found(line, node) if line else None
    if (
        node.kind == "array"
        and node.items is not None
        and node.items.kind == "string"
        and (words_of_name & {"parties", "party", "signatories"})
    ):
        return _parties(doc)
    if node.kind == "string" and node.fmt in ("date", "date-time"):
        return _introduced_date(doc, f, taken)
    return None


def _first_match(doc: Document, f: Field, taken: set[int], pred: Any, node: Node) -> Found | None:
    for w in doc.words:
        if id(w) not in taken and pred(w.text):
            got = coerce_text(w.text.strip("<>(),;"), node)
            if got is not None:
                return Found(got[0], [w], high=False)
    return None


def _first_phrase_match(doc: Document, f: Field, taken: set[int], rx: re.Pattern, node: Node) -> Found | None:
    for ln in doc.lines:
        for p in ln.phrases:
            if any(id(w) in taken for w in p.words):
                continue
            if rx.match(p.text) and sum(c.isdigit() for c in p.text) >= 7:
                return Found(p.text, list(p.words), high=False)
    return None


def _largest_line(doc: Document, skip_doc_words: bool) -> Line | None:
    if not doc.pages:
        return None
    first = doc.pages[0]
    lines = [ln for ln in doc.lines if ln.page == first]
    if not lines:
        return None
    page_h = doc.page_sizes.get(first, (0, 0))[1] or max(ln.y1 for ln in lines)
    best, best_key = None, None
    for ln in lines:
        if ln.y0 > page_h * 0.45 or not any(c.isalpha() for c in ln.text):
            continue
        if skip_doc_words and normalize(ln.text) in _DOC_WORDS:
            continue
        for p in ln.phrases:
            if skip_doc_words and normalize(p.text) in _DOC_WORDS:
                continue
            if not any(c.isalpha() for c in p.text) or _is_colon(p.words[-1]):
                continue
            key = (round(p.y1 - p.y0, 0), -p.y0)
            if best_key is None or key > best_key:
                best, best_key = Line(ln.index, ln.page, p.words, [p]), key
    return best


def _line_found(line: Line, node: Node) -> Found | None:
    got = coerce_text(line.text, node)
    return Found(got[0], list(line.words), high=False) if got else None


_PARTY_RX = re.compile(
    r"\bbetween\s+(?P<a>.+?)\s*(?:\([^)]*\))?\s*,?\s+and\s+(?P<b>.+?)\s*(?:\(|,|\.(?:\s|$)|$)", re.I | re.S
)


_SUFFIX = re.compile(r"\b(inc|ltd|co|corp|llc|plc|l\.l\.c|n\.a|s\.a|b\.v|n\.v)$", re.I)


def _parties(doc: Document) -> Found | None:
    words = doc.words
    text_parts, starts = [], []
    pos = 0
    for w in words:
        starts.append(pos)
        text_parts.append(w.text)
        pos += len(w.text) + 1
    text = " ".join(text_parts)
    m = _PARTY_RX.search(text)
    if not m:
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


def _introduced_date(doc: Document, f: Field, taken: set[int]) -> Found | None:
    """A date introduced by 'dated', 'effective as of', ... in running text."""
    concepts = set()
    for p in f.phrases:
        concepts |= lb.concepts(p)
    if not concepts & {"effective_date", "issue_date", "signature_date"} and not f.desc & {"agreement", "effective"}:
        return None
    words = doc.words
    for i, w in enumerate(words):
        if id(w) in taken:
            continue
        prev = " ".join(x.text for x in words[max(0, i - 4) : i])
        if not _DATE_INTRO.search(prev):
            continue
        for n in (4, 3, 1):
            span = words[i : i + n]
            parsed = parse_date(" ".join(x.text for x in span).rstrip(".,;"), doc.day_first)
            if parsed:
                dt, has_time, _ = parsed
                value = dt.isoformat() if f.node.fmt == "date-time" else dt.date().isoformat()
                return Found(value, span, high=False)
    return None
