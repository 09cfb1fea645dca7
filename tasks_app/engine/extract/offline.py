"""The offline extractor: schema fields -> label/value evidence in the parse output, no model needed.

1. Candidates (candidates.py): every place a page pairs a label with a value.
2. Each leaf field scores each candidate: label match (labels.py) x kind prior x type coercion
   strength (coerce.py); a greedy global assignment gives each field its best candidate while no
   two fields take the same words.
3. Arrays of objects come from tables: a line whose phrases match the item properties is a header;
   the lines below are cut into columns by the header positions until a totals line or a gap.
4. Typed finders and zones (finders.py), chosen from each field's name, type, format and description,
   answer where real documents print no label: the totals block, a VAT percentage, an invoice's title
   line, legal-form names, a letterhead company and its address block, governing-law, term and
   preamble clauses, dates in running text. For totals, rates, jurisdiction, term and parties they win
   over a label match; elsewhere over a label match that is not sure of itself.
5. Fields still empty fall back to document-level evidence (fallbacks.py): title, letterhead
   company, contract parties, first email/phone, currency symbols, dates in running text or heading.
6. Confidence is High only for evidence measured >= 95 % precise (finders.CONFIDENT, bench/extract_real.py),
   never for words read by OCR.

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

from . import fallbacks as fb
from . import finders as fd
from . import labels as lb
from .candidates import Cand, candidates
from .coerce import Coerced, coerce_text, coerce_words, currency_of, ocr_digits, parse_date, parse_number
from .document import Page, Word
from .fields import Field
from .output import Found, KeyPath
from .schema import Node, iter_leaves

_MIN_LABEL = 75.0
_HIGH_LABEL = 88.0
TOP_K = 32  # scored candidates kept per field (the assignment needs a few spares when words clash)
_EVIDENCE_K = 32  # fallback matches kept per field (earlier ones may be taken by labelled fields)
_TOTALS = re.compile(
    r"^(sub\s*-?\s*total|total|grand total|tax|vat|gst|hst|sales tax|balance|amount due|shipping|freight|discount|"
    r"net|gross|tip|gratuity|change|cash|card|paid|payment|deposit|less|rounding|"
    r"netto|brutto|summe|zwischensumme|gesamtbetrag|rechnungssumme|mwst|ust|tva|btw|totaal|sous-total|montant|"
    r"total ht|total ttc|taxe|taxes|r[eè]glement|solde|betaling)\b",
    re.I,
)
_ID_WORDS = frozenset({"number", "id", "code", "reference", "no", "identifier", "ref", "nr"})
# Words that qualify a party field without changing what it asks for ("billing name" is the name).
_QUALIFIERS = frozenset({"billing", "bill", "legal", "registered", "official"})
# Fields whose typed finder beats a label match that is not sure of itself (finders.py).
_FINDER_FIRST = frozenset(
    {"total", "jurisdiction", "duration", "parties", "company", "address", "rate", "doc_number", "date"}
)
# Where a label match was right < 95 % of the time on the dev sets (1 in 6 on names, addresses, totals, terms):
# such a value is never High, however well its label matched.
_LABEL_UNSURE = frozenset({"company", "address", "total", "duration", "jurisdiction", "parties"})
_FINDER_ALWAYS = frozenset(
    {"total", "rate", "jurisdiction", "duration", "parties"}
)  # the totals block knows the grand total from a subtotal
_DATE_CONCEPTS = frozenset({"issue_date", "due_date", "birth_date", "effective_date", "end_date", "signature_date"})
_AMOUNT_CONCEPTS = frozenset({"total", "subtotal", "tax", "discount", "shipping", "tip", "unit_price", "line_amount"})


# ---------------------------------------------------------------- leaf fields


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
        sub = " ".join(w for w in lb.norm_label(name).split() if w not in party_words and w not in _QUALIFIERS)
    tokens = set(lb.norm_label(name).split()) | set(lb.norm_label(node.title or "").split())
    plain = node.kind == "string" and not node.fmt and node.enum is None
    is_id = bool(tokens & _ID_WORDS) and plain
    expects = None
    if plain and not is_id:
        named = set().union(*(lb.concepts(p) for p in phrases))
        if named & _DATE_CONCEPTS or "date" in tokens:
            expects = "date"
        elif named & _AMOUNT_CONCEPTS or tokens & {"amount", "total", "subtotal", "price", "sum"}:
            expects = "amount"
    return Field(path, node, phrases, lb.description_words(node.description), party, sub, is_id, expects)


def _name_value(value: Any) -> bool:
    """A company name, not a code ('CO-123/V2A'), a bank code ('PBNKDEFF') or a heading ('SELLER TRADE NAME')."""
    if not isinstance(value, str) or not value.strip():
        return False
    text = value.strip()
    if re.search(r"\d", text) and not fd.LEGAL_FORM.search(text):
        return False
    if re.fullmatch(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?", text):
        return False
    if "@" in text or lb.norm_label(text) in ("number", "name", "nummer"):
        return False
    return "name" not in lb.norm_label(text).split()  # 'SELLER TRADE NAME' is the heading, not the name


def _party_word(party: str, label: str) -> bool:
    """'SELLER TRADE NAME', 'Verkäufer (Name)': a short heading one of whose words names the party."""
    words = lb.norm_label(label).split()
    hits = [w for w in words if len(w) >= 5 and party in lb.concepts(w)]
    rest = set(words) - set(hits)
    return 1 < len(words) <= 4 and bool(hits) and rest <= lb.NAME_WORDS


def _date_like(text: str) -> bool:
    if fd.DATE_SPAN.search(text) or parse_date(text, None) is not None:
        return True
    fixed = ocr_digits(text)
    return fixed is not None and (fd.DATE_SPAN.search(fixed) is not None or parse_date(fixed, None) is not None)


def _value_plausible(f: Field, text: str, value: Any) -> float:
    """Down-weight values that cannot be what the field asks for (0: rule it out)."""
    if f.node.kind != "string" or f.node.enum is not None or f.node.fmt:
        return 1.0
    if f.expects:
        # A date or an amount kept as text still has digits, and few words.
        if not re.search(r"\d", text) or len(text.split()) > 5:
            return 0.0
        if f.expects == "date" and not _date_like(text):
            return 0.0  # '6%' under 'Kate' (OCR's 'Rate') is no date
        if f.expects == "amount" and sum(c.isalpha() for c in re.sub(r"\b[A-Z]{2,3}\b", "", text)) > sum(
            c.isdigit() for c in text
        ):
            return 0.0  # an item's name under a 'Total' column heading is no amount; 'RM 13.30', 'EUR 5,00' are
        return 1.0
    if f.is_id and len(text.split()) > 3:
        return 0.0  # a run of words is not an identifier (a heading's next line, running text)
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
    party_hit = bool(f.party and (f.party in lb.concepts(c.label) or _party_word(f.party, c.label)))
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
        lines = c.lines
        for _ in range(2):  # 'Nummer : 12345676' between 'Verkäufer:' and the seller's name
            if len(lines) > 1 and not _name_value(" ".join(w.text for w in lines[0])):
                lines = lines[1:]
        value_words = lines[0]
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
    if party_hit and node.kind == "string" and not _name_value(got.value):
        return None  # 'Nummer' under 'Verkäufer:' is a label of the seller's block, not the seller
    strength = got.strength * _value_plausible(f, text, got.value)
    if strength <= 0:
        return None
    value = got.value
    if f.expects:
        value = _mended(f.expects, text, day_first) or value
    return ls / 100 * c.weight * strength, value, used, ls, strength


def _mended(expects: str, text: str, day_first: bool | None) -> str | None:
    """A date or amount printed through OCR noise ('1/02/D2', '4,759 .20'), as it was printed."""
    fixed = ocr_digits(text)
    if fixed is None:
        return None
    if expects == "date" and parse_date(fixed, day_first) is None:
        return None
    if expects == "amount" and parse_number(fixed) is None:
        return None
    return fixed


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
    header: list[Found] | None = None  # date: dates in the head of the first page (an issue date)


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
            kind = fb.fallback_kind(f)
            if kind is not None:
                self.evidence[fi] = _Evidence(kind, header=[] if kind == "date" and fb.is_issue_date(f) else None)
        self._cand_count = 0
        self._prev: Page | None = None
        self._first_page = True
        self._parties_done = not any(e.kind == "parties" for e in self.evidence.values())
        self.hints = {fi: h for fi, f in enumerate(self.fields) if (h := fd.field_hint(f)) is not None}
        kinds = frozenset(h.kind for h in self.hints.values())
        self.doc = fd.DocEvidence(day_first, kinds) if self.hints else None

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
        if self.doc is not None:
            self.doc.add_page(page)
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
        for fi, hint in self.hints.items():
            f = self.fields[fi]
            have = found.get(f.path)
            if have is not None and hint.kind == "company" and not _name_value(have.value):
                del found[f.path]
                have = None
            sure = have is not None and have.high
            if have is not None and hint.kind in _LABEL_UNSURE:
                have.high = False
            if hint.kind == "currency":
                _currency_code(have, f)
                continue
            if hint.kind == "date" and have is not None:
                _date_only(have, f)
            if have is not None and hint.kind not in _FINDER_FIRST or sure and hint.kind not in _FINDER_ALWAYS:
                continue
            got = self.doc.resolve(hint, f) if self.doc is not None else None
            if got is not None and have is not None and hint.kind == "date" and got.evidence == "date":
                continue  # the first date in the text is no better than a label's date
            if got is not None and hint.kind == "date":
                _date_only(got, f)
            if got is not None:
                got.high = got.evidence in fd.CONFIDENT
                found[f.path] = got
                taken_words |= {id(w) for w in got.words}
        for fi, f in enumerate(self.fields):
            ev = self.evidence.get(fi)
            if f.path in found or ev is None:
                continue
            hint = self.hints.get(fi)
            if hint is not None and hint.kind == "parties":
                continue  # the preamble finder read the same sentence, and keeps names only
            got = self._resolve(ev, taken_words)
            if got is not None:
                found[f.path] = got
                taken_words |= {id(w) for w in got.words}
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
                ev.first.extend(fb.email_matches(page, node, _EVIDENCE_K - len(ev.first)))
            elif ev.kind == "phone":
                ev.first.extend(fb.phone_matches(page, _EVIDENCE_K - len(ev.first)))
            elif ev.kind == "currency":
                ev.first.extend(fb.currency_match(page, node))
            elif ev.kind in ("title", "vendor") and self._first_page:
                line = fb.largest_line(page, skip_doc_words=ev.kind == "vendor")
                if line is not None and ev.kind == "vendor":
                    line = fb.with_legal_form(page, line)
                got = fb.line_found(line, node) if line else None
                ev.first.extend([got] if got else [])
            elif ev.kind == "date":
                ev.first.extend(fb.introduced_dates(self._prev, page, next_page, self.day_first, node,
                                                  _EVIDENCE_K - len(ev.first)))  # fmt: skip
                if ev.header is not None and self._first_page:
                    ev.header.extend(fb.header_dates(page, self.day_first, node))
        if not self._parties_done:
            named = fb.parties(self._prev, page, final=next_page is None)
            if named is not None:
                self._parties_done = True
                for ev in self.evidence.values():
                    if ev.kind == "parties":
                        ev.first.append(named)

    @staticmethod
    def _resolve(ev: _Evidence, taken: set[int]) -> Found | None:
        if ev.kind in ("email", "phone"):
            return next((fd for fd in ev.first if not any(id(w) in taken for w in fd.words)), None)
        if ev.kind == "date":
            # As when reading the words in order: a date whose first word is taken is passed over.
            got = next((fd for fd in ev.first if id(fd.words[0]) not in taken), None)
            if got is None and ev.header:
                got = next((fd for fd in ev.header if not any(id(w) in taken for w in fd.words)), None)
            return got
        return ev.first[0] if ev.first else None


def _date_only(found: Found, f: Field) -> None:
    """'25/12/2018 8:13:39 PM' -> '25/12/2018' for a date kept as printed: the words of the date, not the time. Where
    OCR ran the date into what surrounds it (':12/28/2017', '21-03-201813:29:51', '30/04/2017(9un)'), the value is
    the date's characters and the citation the word that holds them."""
    if f.node.kind != "string" or f.node.fmt or not isinstance(found.value, str):
        return
    text, starts = fd.joined(found.words)
    m = fd.DATE_SPAN.search(text)
    span = (m.start(), m.end()) if m else None
    if span is None or span == (0, len(text)):
        return
    words = fd.span_words(found.words, starts, *span)
    if words:
        found.value = text[span[0] : span[1]]
        found.words = words


def _currency_code(found: Found | None, f: Field) -> None:
    """'EURO (EUR)', '€' -> 'EUR' for a free-text currency field: the code is what a currency is named by."""
    if found is None or not isinstance(found.value, str) or f.node.enum is not None:
        return
    code = re.search(r"\b([A-Z]{3})\b", found.value)
    sym = currency_of(found.value)
    if code and code.group(1) != found.value and code.group(1) == (sym or code.group(1)):
        found.value = code.group(1)
    elif sym and sym != found.value and len(found.value) <= 3:
        found.value = sym


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
