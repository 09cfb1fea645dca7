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

Pages stream through `LeafFinder.add_page` one at a time (with the next page as look-ahead, for a
label at the foot of a page whose value starts the next one); each field keeps only its best
`TOP_K` scored candidates and the first few pieces of fallback evidence, so memory stays flat
however long the document is. `finish` then runs the global assignment over what was kept.
"""

from __future__ import annotations

import heapq
import re
from dataclasses import dataclass, field
from typing import Any

from . import labels as lb
from .coerce import Coerced, coerce_text, coerce_words, currency_of, normalize, parse_date
from .document import CHECK_OFF, CHECK_ON, Line, Page, Phrase, Word
from .output import Found, KeyPath
from .schema import Node, iter_leaves

_MIN_LABEL = 75.0
_HIGH_LABEL = 88.0
TOP_K = 32  # scored candidates kept per field (the assignment needs a few spares when words clash)
_EVIDENCE_K = 32  # fallback matches kept per field (earlier ones may be taken by labelled fields)
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


@dataclass(slots=True)
class _Pages:
    """The page being read and the one after it (a value may start the next page)."""

    lines: list[Line]
    height: float
    next_lines: list[Line] | None = None

    def lines_of(self, page: int) -> list[Line]:
        if self.lines and self.lines[0].page == page:
            return self.lines
        return self.next_lines or []


def _best_under(ln: Line, p: Phrase, h: float) -> Phrase | None:
    best, best_ov = None, 0.0
    for q in ln.phrases:
        ov = min(q.x1, p.x1) - max(q.x0, p.x0)
        if ov > best_ov or (best is None and abs(q.x0 - p.x0) < 1.5 * h):
            best, best_ov = q, max(ov, 0.0)
    return best


def _below(pages: _Pages, p: Phrase, max_gap: float = 2.2) -> Phrase | None:
    h = max(1.0, p.y1 - p.y0)
    for ln in pages.lines:
        if ln.y0 <= p.y1 - 0.3 * h:
            continue
        if ln.y0 - p.y1 > max_gap * h:
            return None
        best = _best_under(ln, p, h)
        if best is not None:
            return best
    if pages.next_lines and pages.height and p.y1 > 0.8 * pages.height:
        # Nothing under a label at the foot of the page: its value may open the next page.
        return _best_under(pages.next_lines[0], p, h)
    return None


def _block_from(pages: _Pages, first: Phrase, limit: int = 6) -> list[Phrase]:
    block = [first]
    h = max(1.0, first.y1 - first.y0)
    for _ in range(limit - 1):
        last = block[-1]
        nxt = None
        for ln in pages.lines_of(last.page):
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


def candidates(page: Page, next_page: Page | None = None) -> list[Cand]:
    """Every label/value pairing on one page (a value under a label at its foot may be on the next)."""
    out: list[Cand] = []
    pages = _Pages(page.lines, page.height, next_page.lines if next_page is not None else None)
    for line in page.lines:
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
                    out.extend(_label_cands(pages, line, lab_words, p, right, colon=True))
            elif lb.looks_like_label(p.text):
                out.extend(_label_cands(pages, line, words, p, right, colon=False))
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
    pages: _Pages,
    line: Line,
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
    if len(line.phrases) >= 3 and not colon:
        # A header cell of a table: its "value" below is the first row, weaker than a labelled field.
        w_below = 0.8
    if right is not None:
        if right.x0 - p.x1 > 14 * max(1.0, p.y1 - p.y0):
            w_right *= 0.95  # receipts put values far right; still the value, a little less sure
        out.append(Cand(label, lab_words, right.words, "right", w_right))
        block = _block_from(pages, right)
        out.append(Cand(label, lab_words, right.words, "block", w_right, lines=[q.words for q in block]))
    below = _below(pages, lab_phrase)
    if below is not None and not any(_is_colon(w) for w in below.words[:-1]):
        value_words = below.words
        if _is_colon(value_words[-1]):
            return out
        out.append(Cand(label, lab_words, value_words, "below", w_below))
        block = _block_from(pages, below)
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


def _score_leaf(day_first: bool | None, f: Field, c: Cand) -> tuple[float, Any, list[Word], float, float] | None:
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
            got = coerce_text(text, node, day_first)
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
    got: Coerced | None = coerce_words(texts, node, day_first)
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


@dataclass(slots=True)
class _Evidence:
    """Document-level evidence for one field's fallback, gathered page by page, bounded."""

    kind: str  # email, phone, currency, title, vendor, parties, date
    first: list[Found] = field(default_factory=list)  # the first matches in reading order


class LeafFinder:
    """Leaf fields (outside arrays of objects) over a stream of pages.

    `add_page(page, next_page)` scores the page's candidates against every field and keeps each
    field's best TOP_K; `finish()` gives each field its best candidate while no two fields take the
    same words (greedy, best score first), then falls back to document-level evidence.
    """

    def __init__(self, root: Node, day_first: bool | None) -> None:
        self.day_first = day_first
        self.fields = [_field(path, node) for path, node in iter_leaves(root)]
        self.best: list[list[tuple]] = [[] for _ in self.fields]  # min-heaps of scored candidates
        self.evidence: dict[int, _Evidence] = {}
        for fi, f in enumerate(self.fields):
            kind = _fallback_kind(f)
            if kind is not None:
                self.evidence[fi] = _Evidence(kind)
        self._cand_count = 0
        self._prev: Page | None = None
        self._first_page = True
        self._parties: Found | None = None
        self._parties_done = not any(e.kind == "parties" for e in self.evidence.values())

    def add_page(self, page: Page, next_page: Page | None = None) -> None:
        if self.fields:
            for c in candidates(page, next_page):
                ci = self._cand_count
                self._cand_count += 1
                order = -c.value_words[0].order if c.value_words else 0
                for fi, f in enumerate(self.fields):
                    got = _score_array(self.day_first, f, c) if f.node.kind == "array" else _score_leaf(
                        self.day_first, f, c)  # fmt: skip
                    if got is None:
                        continue
                    score, value, words, ls, strength = got
                    # Best first: score, then the earlier value, then the earlier candidate.
                    entry = (score, order, -ci, value, words, ls, strength)
                    heap = self.best[fi]
                    if len(heap) < TOP_K:
                        heapq.heappush(heap, entry)
                    elif entry[:3] > heap[0][:3]:
                        heapq.heapreplace(heap, entry)
        if self.evidence:
            self._gather(page, next_page)
        self._prev = page
        self._first_page = False

    def finish(self) -> dict[KeyPath, Found]:
        # Ties (same score, same value position) go to the field listed first in the schema.
        scored = [
            (score, order, -fi, neg_ci, value, words, ls, strength)
            for fi, heap in enumerate(self.best)
            for score, order, neg_ci, value, words, ls, strength in heap
        ]
        scored.sort(key=lambda t: t[:4], reverse=True)
        taken_words: set[int] = set()
        found: dict[KeyPath, Found] = {}
        for score, _, neg_fi, _ci, value, words, ls, strength in scored:
            f = self.fields[-neg_fi]
            if f.path in found or score <= 0:
                continue
            ids = {id(w) for w in words}
            if ids & taken_words:
                continue
            taken_words |= ids
            found[f.path] = Found(value, list(words), high=ls >= _HIGH_LABEL and strength >= 0.95)
        for fi, f in enumerate(self.fields):
            ev = self.evidence.get(fi)
            if f.path in found or ev is None:
                continue
            fb = self._resolve(ev, taken_words)
            if fb is not None:
                found[f.path] = fb
                taken_words |= {id(w) for w in fb.words}
        return found

    # ------------------------------------------------------------ fallback evidence, page by page

    def _gather(self, page: Page, next_page: Page | None) -> None:
        for fi, ev in self.evidence.items():
            node = self.fields[fi].node
            if ev.kind in ("currency", "title", "vendor", "parties") and ev.first:
                continue  # only the first match counts, taken or not
            if len(ev.first) >= _EVIDENCE_K:
                continue
            if ev.kind == "email":
                ev.first.extend(_email_matches(page, node, _EVIDENCE_K - len(ev.first)))
            elif ev.kind == "phone":
                ev.first.extend(_phone_matches(page, _EVIDENCE_K - len(ev.first)))
            elif ev.kind == "currency":
                ev.first.extend(_currency_match(page, node))
            elif ev.kind in ("title", "vendor") and self._first_page:
                line = _largest_line(page, skip_doc_words=ev.kind == "vendor")
                got = _line_found(line, node) if line else None
                ev.first.extend([got] if got else [])
            elif ev.kind == "date":
                ev.first.extend(_introduced_dates(self._prev, page, next_page, self.day_first, node,
                                                  _EVIDENCE_K - len(ev.first)))  # fmt: skip
        if not self._parties_done:
            self._parties = _parties(self._prev, page, final=next_page is None)
            if self._parties is not None:
                self._parties_done = True
                for ev in self.evidence.values():
                    if ev.kind == "parties":
                        ev.first.append(self._parties)

    @staticmethod
    def _resolve(ev: _Evidence, taken: set[int]) -> Found | None:
        if ev.kind in ("email", "phone"):
            return next((fd for fd in ev.first if not any(id(w) in taken for w in fd.words)), None)
        if ev.kind == "date":
            # As when reading the words in order: a date whose first word is taken is passed over.
            return next((fd for fd in ev.first if id(fd.words[0]) not in taken), None)
        return ev.first[0] if ev.first else None


def _score_array(day_first: bool | None, f: Field, c: Cand) -> tuple | None:
    node = f.node
    ls = lb.label_score(f.phrases, f.desc, c.label)
    if ls < _MIN_LABEL or node.items is None:
        return None
    if c.kind == "group":
        return _score_group(f, c, ls)
    if c.kind not in ("inline", "right", "below"):
        return None
    got = _split_list(c.value_words, node.items, day_first)
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


def _fallback_kind(f: Field) -> str | None:
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
    if node.kind == "string" and node.fmt in ("date", "date-time"):
        concepts = set()
        for p in f.phrases:
            concepts |= lb.concepts(p)
        if concepts & {"effective_date", "issue_date", "signature_date"} or f.desc & {"agreement", "effective"}:
            return "date"
    return None


def _email_matches(page: Page, node: Node, limit: int) -> list[Found]:
    out = []
    for w in page.words:
        if _EMAIL.match(w.text.strip("<>(),;")) is not None:
            got = coerce_text(w.text.strip("<>(),;"), node)
            if got is not None:
                out.append(Found(got[0], [w], high=False))
                if len(out) >= limit:
                    break
    return out


def _phone_matches(page: Page, limit: int) -> list[Found]:
    out = []
    for ln in page.lines:
        for p in ln.phrases:
            if _PHONE.match(p.text) and sum(c.isdigit() for c in p.text) >= 7:
                out.append(Found(p.text, list(p.words), high=False))
                if len(out) >= limit:
                    return out
    return out


def _currency_match(page: Page, node: Node) -> list[Found]:
    for w in page.words:
        cur = currency_of(w.text)
        if cur:
            got = coerce_text(cur, node)
            if got is not None:
                return [Found(got[0], [w], high=False)]
    return []


def _largest_line(page: Page, skip_doc_words: bool) -> Line | None:
    """The largest text in the top part of the (first) page: a title or a letterhead."""
    lines = page.lines
    if not lines:
        return None
    page_h = page.height or max(ln.y1 for ln in lines)
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


def _parties(prev: Page | None, page: Page, final: bool) -> Found | None:
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


def _introduced_dates(
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
