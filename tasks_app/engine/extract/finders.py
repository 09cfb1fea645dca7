"""Typed value finders and document zones: values that no label names, found by what they look like and where.

Real documents mostly do not label their values: a receipt's shop name is its first line and its address
the lines under it; a contract names its parties in the preamble ("between A and B"), its governing law in a
clause ("the laws of the State of New York") and its term in words ("two (2) years"); an invoice's total is
the largest amount in its totals block. The schema says which of these a field is (`field_hint`: its name,
title, type, format and description, with position words such as "first line" or "at the end"); each finder
reads the parse output's lines and words page by page (`DocEvidence.add_page`, a bounded amount kept per
page) and answers with the exact words it read, so citations stay word-precise.

Every finding carries the kind of evidence it rests on (`Found.evidence`); `CONFIDENT` lists the kinds whose
measured precision on the development sets is at least 95 % (bench/extract_real.py), the only ones that
may say High.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from . import labels as lb
from .coerce import coerce_text, normalize, parse_date, parse_number
from .document import Line, Page, Phrase, Word
from .fields import Field
from .output import Found

# Evidence kinds whose precision measured >= 95 % (see docs/BENCHMARKS.md, issue 16).
# jurisdiction-2: "governed by ... the laws of the State of X" (205/207 on kleister-nda-train); title-number: the
# number on an invoice's title line (14/14 on invoices-dev); rate: the one percentage beside a tax word (11/11).
CONFIDENT: frozenset[str] = frozenset({"jurisdiction-2", "title-number", "rate"})

LEGAL_FORM = re.compile(
    r"(?:,?\s+|\b)(inc|incorporated|corp|corporation|co|company|llc|l\.l\.c|llp|l\.l\.p|lp|l\.p|ltd|limited|plc|"
    r"gmbh|mbh|ag|kg|gmbh\s*&\s*co\.?\s*kg|se|sa|s\.a|sas|s\.a\.s|sarl|s\.a\.r\.l|eurl|bv|b\.v|bvba|nv|n\.v|"
    r"srl|s\.r\.l|spa|s\.p\.a|oy|ab|asa|pty|pty\s+ltd|s[do]n\.?\s*b[hn]d|bhd|berhad|s/b|sb|enterprise|enterprises|trading|"
    r"holdings|group|l\.?p\.?)\.?\s*$",
    re.I,
)
_DOC_WORDS = frozenset(
    "invoice tax invoice receipt official receipt cash receipt sales receipt cash bill simplified tax invoice "
    "statement bill quote quotation estimate credit note facture rechnung factuur agreement contract page".split()
)

# ---------------------------------------------------------------- what the schema asks for

_POS_TOP = re.compile(r"\b(first line|top|header|heading|letterhead|at the start|beginning|logo)\b", re.I)
_POS_END = re.compile(r"\b(at the end|final|bottom|last|foot|end of)\b", re.I)


@dataclass(slots=True)
class Hint:
    kind: str  # company, address, total, rate, jurisdiction, duration, parties, date
    position: str | None = None  # top, end
    concepts: frozenset[str] = frozenset()


def _words_of(f: Field) -> set[str]:
    text = " ".join([*f.phrases, f.node.title or ""])
    return set(lb.norm_label(text).split())


def field_hint(f: Field) -> Hint | None:
    """The typed finder that fits a field, from its name, title, type, format and description."""
    node = f.node
    desc = (node.description or "").lower()
    words = _words_of(f)
    named: set[str] = set()
    for p in f.phrases:
        named |= lb.concepts(p)
        for w in p.split():
            named |= lb.concepts(w) if len(w) > 3 else set()
    position = "top" if _POS_TOP.search(desc) else "end" if _POS_END.search(desc) else None
    concepts = frozenset(named)
    if node.kind == "array":
        if node.items is not None and node.items.kind == "string" and words & {"party", "parties", "signatories"}:
            return Hint("parties", position, concepts)
        return None
    if node.kind not in ("string", "number", "integer") or node.enum is not None:
        return None
    if words & {"jurisdiction", "law"} or "governing_law" in named or re.search(r"\blaws?\b.*\bgovern", desc):
        return Hint("jurisdiction", position, concepts)
    if node.kind == "string" and (words & {"term", "duration", "period"}) and not (words & {"payment", "terms"}):
        return Hint("duration", position, concepts)
    if "currency" in words or "currency" in named:
        return Hint("currency", position, concepts)
    if words & {"address", "addr"} or "address" in named:
        return Hint("address", position, concepts)
    if words & {"rate", "percent", "percentage"} or "tax_rate" in named or "percent" in desc:
        return Hint("rate", position, concepts)
    if "total" in named or words & {"total"}:
        return Hint("total", position, concepts)
    if f.is_id and (named & {"invoice_number", "receipt_number"} or words & {"invoice", "receipt", "bill"}):
        return Hint("doc_number", position, concepts)
    if node.kind == "string" and (node.fmt in ("date", "date-time") or f.expects == "date" or "date" in words):
        return Hint("date", position, concepts)
    orgish = {"company", "issuer", "merchant", "shop", "store", "seller", "vendor", "supplier", "business"}
    if node.kind == "string" and (words & orgish or f.party == "vendor") and f.sub in ("", "name", "company"):
        return Hint("company", position, concepts)
    return None


# ---------------------------------------------------------------- text over words


def joined(words: list[Word]) -> tuple[str, list[int]]:
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w.text) + 1
    return " ".join(w.text for w in words), starts


def span_words(words: list[Word], starts: list[int], s: int, e: int) -> list[Word]:
    return [w for w, st in zip(words, starts, strict=True) if st < e and st + len(w.text) > s]


# ---------------------------------------------------------------- the document's title line

TITLE_LINE = re.compile(
    r"^\s*(?:[\w-]*rechnung|invoice|tax invoice|facture|factuur|avoir|credit note|gutschrift|bill|receipt|nota)\b"
    # a qualifier word before the type code or 'Nr.': 'Teilrechnung Bau (875) Nr. 210111'
    r"(?:\s+[A-Za-zÄÖÜäöüß]{2,20}(?=\s+\(\d+\))|\s+[A-Za-zÄÖÜäöüß]{2,20}(?=\s+(?:nr|no|n°)\.?\s))?"
    r"\s*(?:\(\d+\)\s*)?(?:nr\.?|no\.?|n°|number|nummer|num[eé]ro|#)?\s*:?\s*"
    r"(?P<id>[A-Z0-9][\w\-/.]*\d[\w\-/]*)(?:\s+(?:vom|du|of|dated|van|from|le|issued(?:\s+(?:at|on))?)\s+(?P<date>.{6,24}?))?"
    r"(?:\s+[-–]\s+[^\W\d_]{3,20})?\s*$",  # '… vom 01.12.2025 - RECHNUNG': the type's name repeated
    re.I,
)


@dataclass(slots=True)
class TitleLine:
    """'Rechnung Nr. TX-471102 vom 30.10.2019', 'Invoice FA-2017-0008': the document's number (and date)."""

    number: Found
    date: Found | None


def title_line(page: Page, day_first: bool | None) -> TitleLine | None:
    limit = (page.height or max((ln.y1 for ln in page.lines), default=0)) * 0.5
    for ln in page.lines:
        if ln.y0 > limit:
            break
        for p in ln.phrases if len(ln.phrases) > 1 else [ln]:
            text, starts = joined(p.words)
            m = TITLE_LINE.match(text)
            if not m or parse_date(m.group("id"), day_first) is not None:
                continue
            ident = m.group("id").rstrip(".")
            words = span_words(p.words, starts, m.start("id"), m.start("id") + len(ident))
            date = None
            if m.group("date"):
                parsed = parse_date(m.group("date").rstrip("."), day_first)
                if parsed is not None:
                    dws = span_words(p.words, starts, m.start("date"), m.end("date"))
                    date = Found(parsed[0].date().isoformat(), dws, evidence="title-date")
            return TitleLine(Found(ident, words, evidence="title-number"), date)
    return None


# ---------------------------------------------------------------- amounts and totals

_AMOUNT = re.compile(r"^[-(]?(?:RM|\$|€|£|EUR|USD|GBP)?[-(]?\d{1,3}(?:[.,' ]\d{3})*[.,]\d{2}\)?(?:€|\$|£|-)?$", re.I)
_TOTAL_WORDS = re.compile(
    r"\b(total|grand total|amount due|balance due|amount payable|brutto|bruttosumme|bruttobetrag|"
    r"gesamtbruttobetrag|gesamtbetrag|gesamtsumme|endbetrag|"
    r"zahlbetrag|rechnungsbetrag|rechnungssumme|ttc|net a payer|totaal|te betalen|montant total|nett total|"
    r"net total|rounded|payable|summe|endsumme|gesamt|total general|rounding)\b"
)
_NOT_TOTAL = re.compile(
    r"\b(sub ?total|subtotaal|total (qty|quantity|item|items|discount|savings|tax|gst|vat|tva|ht|excl|net)|"
    r"netto|ht|excl|excluding|hors|before|tax|gst|vat|tva|mwst|ust|btw|rounding adj\w*|change|cash|tendered|"
    r"qty|quantity|items?|saving|discount|paid|accepted)\b"
)


# 'Total incl. VAT', 'TOTAL TTC', 'Summe brutto': a total line despite its tax word
_TAX_INCLUDED = re.compile(r"\b(incl|inkl|inclusive|including|ttc|brutto)\b")


_CURRENCY_WORDS = frozenset({"RM", "$", "€", "£", "EUR", "USD", "GBP", "-"})


@dataclass(slots=True)
class _Total:
    rank: float
    value: float
    words: list[Word]
    order: int
    rounding: bool = False  # labelled 'Rounding' alone: the rounded total, or the adjustment itself ('0.01')
    printed: str | None = None  # the amount's characters, where OCR ran them into the label ('Tota1RM15.40')


def _beside(lines: list[Line], at: int) -> list[Word] | None:
    """The amount of a label line that has none, when OCR put it on a line of its own just above or below (a skewed
    receipt): an amount-only line next to it, to its right, overlapping it in height."""
    ln = lines[at]
    best: tuple[float, list[Word]] | None = None
    for k in (at - 1, at + 1):
        if not 0 <= k < len(lines):
            continue
        other = lines[k]
        amt = _line_amount(other)
        if amt is None or amt[-1] is not other.words[-1]:
            continue
        if any(w.text.upper() not in _CURRENCY_WORDS for w in other.words[: other.words.index(amt[0])]):
            continue  # an amount-only line ('RM 15.40')
        if other.page != ln.page or amt[0].x0 < ln.words[-1].x0:
            continue
        slack = 0.5 * max(ln.height, other.height)
        off = abs((other.y0 + other.y1) - (ln.y0 + ln.y1)) / 2
        if other.y0 <= ln.y1 + slack and other.y1 >= ln.y0 - slack and (best is None or off < best[0]):
            best = (off, amt)
    return best[1] if best else None


_OCR_HYPHEN_AMOUNT = re.compile(r"^\d{1,4}-\d{2}$")  # '19-80': OCR's hyphen for a decimal point


def _line_amount(ln: Line) -> list[Word] | None:
    ws = ln.words
    for i in range(len(ws) - 1, -1, -1):
        t = ws[i].text
        if _AMOUNT.match(t) or ws[i].ocr and _OCR_HYPHEN_AMOUNT.match(t):
            j = i
            if j > 0 and ws[j - 1].text.upper() in ("RM", "$", "€", "£", "EUR", "USD", "GBP", "-"):
                j -= 1
            return ws[j : i + 1] if ws[j].text == "-" else ws[i : i + 1]
        if i < len(ws) - 1 and i < len(ws) - 3:
            break
    return None


# 'Grand Tota1RM15.40': OCR ran a total's label (its l read as 1) into its amount
_GLUED_TOTAL = re.compile(r"^(?P<label>[^\W\d_]*tota[l1])(?P<amount>(?:RM|\$|€|£)?\d{1,3}(?:,\d{3})*\.\d{2})$", re.I)


# 'IUIAL', 'TUTAL', 'SUBIOTAL': OCR reading a thin typeface's T as I and O as U (on words OCR read)
_OCR_TOTAL = re.compile(r"^(?i:(sub-?)?)(?=[A-Z01]{5}$)[TI][OU0][TI]A[L1I]$")


_TAX_TOTAL = re.compile(r"\b(tax|gst|vat|tva|mwst|ust|btw|sst)\s+total\b")


def _label_of(words: list[Word]) -> str:
    return normalize(
        " ".join(
            _OCR_TOTAL.sub(lambda m: (m.group(1) or "") + "TOTAL", w.text.strip(":")) if w.ocr else w.text
            for w in words
        )
    )


def totals(page: Page) -> list[_Total]:
    """Amounts on lines whose words say total (multilingual), not a subtotal, a tax or a tendered amount."""
    out = []
    for at, ln in enumerate(page.lines):
        last = ln.words[-1] if ln.words else None
        glued = _GLUED_TOTAL.match(last.text) if last is not None and last.ocr else None
        if glued is not None:
            label = normalize(" ".join([*(w.text for w in ln.words[:-1]), glued["label"][:-1] + "l"]))
            value = parse_number(glued["amount"].replace("RM", ""))
            if _TOTAL_WORDS.search(label) and not _NOT_TOTAL.search(label) and value is not None:
                out.append(_Total(1.0, value, [last], last.order, printed=glued["amount"]))
            continue
        if not _TOTAL_WORDS.search(_label_of(ln.words)):
            continue
        amt = _line_amount(ln)
        if amt is None and len(ln.phrases) >= 2:
            under = _header_row_totals(page.lines, at)
            if under:
                out.extend(under)
                continue
        if amt is None:
            amt = _beside(page.lines, at)
            label = _label_of(ln.words)
        else:
            if amt[0] in ln.words[:1]:
                continue
            label = _label_of(ln.words[: ln.words.index(amt[0])])
        if amt is None:
            continue
        if not _TOTAL_WORDS.search(label) or _TAX_TOTAL.search(label):
            continue  # 'TAX TOTAL: 0.85' totals the tax, whatever else the receipt prints
        # 'Total 6% supplies: 69.36': a total per tax rate is a breakdown, not the total paid
        bad = bool(_NOT_TOTAL.search(label) or re.search(r"\d\s?%", ln.text)) and not _TAX_INCLUDED.search(label)
        printed = " ".join(w.text for w in amt)
        if _OCR_HYPHEN_AMOUNT.match(printed):
            printed = printed.replace("-", ".")
        value = parse_number(printed.replace("RM", ""))
        if value is None:
            continue
        rank = 0.5 if bad else 1.25 if re.search(r"\bround", label) else 1.0
        out.append(
            _Total(rank, value, amt, amt[0].order, rounding=not _TOTAL_WORDS.search(label.replace("rounding", "")))
        )
    return out


def _header_row_totals(lines: list[Line], at: int) -> list[_Total]:
    """'TOTAL HT | TOTAL TVA | TOTAL TTC' over '100,00 | 10,00 | 110,00': a row of total labels with their amounts
    on a line just under them (text beside the row may sit between in reading order), each amount under its
    label. Each label is ranked as a total line of its own would be."""
    ln = lines[at]
    h = max(1.0, ln.height)
    heads = [p for p in ln.phrases if _TOTAL_WORDS.search(_label_of(p.words))]
    if len(heads) < 2:
        return []
    x0, x1 = heads[0].x0 - h, heads[-1].x1 + h
    amounts: list[Phrase] = []
    for below in lines[at + 1 : at + 6]:
        inside = [p for p in below.phrases if x0 <= p.x0 < x1]  # text running in from the left is not the row's
        if below.page != ln.page or inside and min(p.y0 for p in inside) - ln.y1 > 3.5 * h:  # a boxed row: padding
            break
        if not inside:
            continue  # a line of the text beside the row
        amounts = [p for p in inside if _AMOUNT.match(p.text.replace(" ", "")) or _line_amount_of(p) is not None]
        if len(amounts) < 2 or len(amounts) != len(inside):
            return []  # the row's next line under it is not its amounts
        break
    if not amounts:
        return []
    out = []
    for p in heads:
        label = _label_of(p.words)
        if _TAX_TOTAL.search(label):
            continue
        under = [q for q in amounts if min(q.x1, p.x1) - max(q.x0, p.x0) > 0]
        amt = _line_amount_of(under[0]) if len(under) == 1 else None
        value = parse_number(" ".join(w.text for w in amt).replace("RM", "")) if amt else None
        if amt is None or value is None:
            continue
        bad = bool(_NOT_TOTAL.search(label)) and not _TAX_INCLUDED.search(label)
        out.append(_Total(0.5 if bad else 1.0, value, amt, amt[0].order))
    return out


def _line_amount_of(p: Phrase) -> list[Word] | None:
    return _line_amount(Line(p.line, p.page, p.words, [p]))


# ---------------------------------------------------------------- percentages

_PERCENT = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d{1,2})?)\s?%")
_TAX_WORDS = re.compile(r"\b(vat|tax|gst|sst|mwst|ust|umsatzsteuer|mehrwertsteuer|tva|btw|iva|steuer|taux)\b", re.I)


def rates(page: Page) -> list[Found]:
    """Percentages on a line with a tax word, or in a column headed by one ('USt.' over '7 %' in an item row)."""
    out = []
    heads: list[tuple[float, float]] = []  # x-ranges of tax-word header cells seen above
    for ln in page.lines:
        text, starts = joined(ln.words)
        if not _TAX_WORDS.search(normalize(text)):
            for m in _PERCENT.finditer(text):
                ws = span_words(ln.words, starts, m.start(), m.end())
                cx = (ws[0].x0 + ws[-1].x1) / 2 if ws else -1.0
                v = parse_number(m.group(1))
                if ws and v is not None and v <= 30 and any(x0 - 10 <= cx <= x1 + 10 for x0, x1 in heads):
                    out.append(Found(v, ws, evidence="rate-column"))
            continue
        heads.extend((p.x0, p.x1) for p in ln.phrases if _TAX_WORDS.search(normalize(p.text)) and len(p.words) <= 3)
        for m in _PERCENT.finditer(text):
            v = parse_number(m.group(1))
            if v is None or v > 30:
                continue
            out.append(Found(v, span_words(ln.words, starts, m.start(), m.end()), evidence="rate"))
    return out


# ---------------------------------------------------------------- companies and addresses (receipt/letter head)


def _letters(text: str) -> float:
    return sum(c.isalpha() for c in text) / max(1, len(text.replace(" ", "")))


_DOC_WORDS_GLUED = re.compile("(?:" + "|".join(sorted(_DOC_WORDS, key=len, reverse=True)) + ")+")


def _is_doc_word(text: str) -> bool:
    """'INVOICE', and 'TAXINVOICE', 'TAX INVOICE' (doc words only, OCR may run them together)."""
    norm = normalize(text)
    return norm in _DOC_WORDS or _DOC_WORDS_GLUED.fullmatch(norm.replace(" ", "")) is not None


# "(417940-M)", "822737-X": a registration number after the name
_REG_NO = re.compile(r"\s*(?:[\(\[][^()]*\d[^()]*[\)\]]|\b(?=[0-9A-Z]*\d)[0-9A-Z]{5,}-[A-Z]\b)[\s.,;]*$")
# A bracketed registration number inside the line, what follows it no part of the name (a former name, 'FKA ...')
_REG_MID = re.compile(r"\s*[\(\[](?=[^()]*\d{5})[0-9A-Z-]{5,14}[\)\]]")
# A registration number on a line of its own, under the name it registers: '(0005583085-K)', '(1179227A)'.
_REG_ONLY = re.compile(
    r"^[\(\[]?\s*(?:co\.?\s*(?:reg\.?|no\.?)\s*:?\s*)?(?=[\w-]*\d{5})[0-9A-Z-]{5,14}\s*[\)\]]?$", re.I
)


def _name_part(text: str) -> float:
    """Letters among the letters and digits ('MR. D.I.Y. (M)' is all letters, whatever its stops and brackets)."""
    letters = sum(c.isalpha() for c in text)
    return letters / max(1, letters + sum(c.isdigit() for c in text))


# What OCR makes of a Malaysian legal form's letters ('SON BHD', 'Sdh Bhd', '5/B'), mended on OCR'd names only.
_LEGAL_OCR = (
    (re.compile(r"\b([S5])[O0]N(\.?\s*)(B[HN]D\.?)$", re.I), lambda m: f"{m.group(1)}DN{m.group(2)}{m.group(3)}"),
    (re.compile(r"\b(S)dh(\.?\s*Bhd\.?)$"), lambda m: f"{m.group(1)}dn{m.group(2)}"),
    (re.compile(r"(?<=\s)(?:5/[B8D]|S/[8D])$"), lambda m: "S/B"),
    (re.compile(r"\b(S[DO]N\.?\s*)BH[U0O](\.?)$", re.I), lambda m: f"{m.group(1)}BHD{m.group(2)}"),
)


def mend_legal_form(name: str) -> str:
    """'MOONLIGHT CAKE HOUSE SON BHD' -> '... SDN BHD', '99 SPEED MART 5/B' -> '... S/B': the legal form at the end.

    Brackets too: a space OCR lost around them ('BAKERIES (KL)SDN BHD', 'ENTERPRISE(SETIA'), and a closing one read
    as a brace ('BEMED (SP}')."""
    for pattern, repl in _LEGAL_OCR:
        name = pattern.sub(repl, name)
    if name.count("(") > name.count(")") and name.count("}") == name.count("(") - name.count(")"):
        name = name.replace("}", ")")
    name = re.sub(r"(?<=[^\W\d_])\((?=[^\W\d_])", " (", name)
    name = re.sub(r"(?<=[^\W\d_])\)(?=[^\W\d_])", ") ", name)
    return re.sub(r"\b5(DN\.?\s*BHD)", r"S\1", name)


_LEGAL_REST = re.compile(r"(?:(?:co|company|&|and|\(m\)|\(malaysia\))\.?\s*)*", re.I)


def company_line(lines: list[Line], top: bool) -> tuple[Line, str] | None:
    """The issuer's name in the head of the first page: a line ending in a legal form, else the first name-like line."""
    # A registration number after the name ("99 SPEED MART S/B (519537-X)") does not make the line less of a name.
    head = [
        ln
        for ln in lines[:10]
        if _letters(_REG_NO.sub("", ln.text)) >= 0.6 and len(ln.text) >= 3 and not _is_doc_word(ln.text)
    ]
    legal = [
        ln
        for ln in head[:8]
        if (m := LEGAL_FORM.search(_REG_NO.sub("", ln.text).rstrip(" .,")))
        and len(ln.words) <= 8
        and _name_part(ln.text[: m.start()]) > 0.5
        and len(ln.text[: m.start()].strip()) >= 2
    ]
    for at, ln in enumerate(lines[1:10], start=1):
        # "POPULAR BOOK" / "CO. (M) SDN BHD": a legal form alone on its line finishes the name above it.
        m = LEGAL_FORM.search(_REG_NO.sub("", ln.text).rstrip(" .,"))
        prev = lines[at - 1]
        if (
            m is not None
            and _LEGAL_REST.fullmatch(ln.text[: m.start()].strip())
            and (not legal or lines.index(legal[0]) > at)
            and prev in head
            and not re.search(r"\d", prev.text)
            and len(prev.words) <= 5
        ):
            return Line(prev.index, prev.page, [*prev.words, *ln.words], [*prev.phrases, *ln.phrases]), "company-legal"
    if legal:
        ln = legal[0]
        at = lines.index(ln)
        words, phrases = list(ln.words), list(ln.phrases)
        while at > 0:
            # A name broken over lines: "AIK HUAT HARDWARE" / "ENTERPRISE (SETIA" / "ALAM) SDN BHD": a bracket
            # closed that the line above opened, or a line that starts with a legal form's word ('ENTERPRISE').
            prev = lines[at - 1]
            broken = ln.text.count(")") > ln.text.count("(") and prev.text.count("(") > prev.text.count(")")
            lead = re.match(r"[^\W\d_]+", words[0].text)  # 'ENTERPRISE(SETIA': its first word
            first = lead is not None and LEGAL_FORM.match(" " + lead.group(0)) is not None
            if not (broken or first) or prev not in head or re.search(r"\d", prev.text) or prev in legal:
                break
            if first and len(prev.words) > 5:
                break
            words, phrases, at = [*prev.words, *words], [*prev.phrases, *phrases], at - 1
            ln = prev
        return Line(ln.index, ln.page, words, phrases), "company-legal"
    if head and top:
        # A line with its registration number printed under it is the company's name, whatever is printed above it.
        for at, ln in enumerate(lines[:6]):
            if ln in head and at + 1 < len(lines) and _REG_ONLY.match(lines[at + 1].text.strip()):
                return ln, "company-first"
        return head[0], "company-first"
    return None


_ORG = re.compile(
    r"(?P<name>[A-Z0-9ÄÖÜÉ](?:[\w'’.&-]*,?\s+){1,6}?(?:GmbH(?:\s*&\s*Co\.?\s*KG)?|AG|KG|SE|"
    r"SARL|S\.?A\.?R\.?L\.?|SAS|S\.A\.S\.|S\.A\.|SA|Ltd\.?|Limited|Inc\.?|LLC|L\.L\.C\.|BV|B\.V\.|BVBA|NV|N\.V\.|"
    r"Sdn\.?\s*Bhd\.?|Pty\.?\s*Ltd\.?|plc|PLC|LLP|S\.r\.l\.|S\.p\.A\.|Oy|AB|e\.\s?K\.))(?![\w])"
)
_SEPARATORS = re.compile(r"\s+[•·|–-]\s+|\s{3,}")


@dataclass(slots=True)
class OrgHit:
    key: str
    found: Found
    top: bool


def org_hits(page: Page) -> list[OrgHit]:
    """Names with a legal form ('Hetzner Online GmbH', 'Au bon moulin SARL'), each piece of a line on its own."""
    out = []
    height = page.height or max((ln.y1 for ln in page.lines), default=1.0)
    for ln in page.lines:
        for p in ln.phrases:
            text, starts = joined(p.words)
            pos = 0
            for piece in _SEPARATORS.split(text):
                at = text.find(piece, pos)
                pos = at + len(piece)
                m = _ORG.match(piece.strip())
                if not m or _letters(m.group("name")) < 0.6 or len(m.group("name").split()) < 2:
                    continue
                if ":" in m.group("name") or _is_doc_word(m.group("name")):
                    continue
                s = at + (len(piece) - len(piece.lstrip()))
                ws = span_words(p.words, starts, s, s + len(m.group("name")))
                if ws:
                    name = _clean_party(m.group("name"))
                    out.append(OrgHit(normalize(name), Found(name, ws, evidence="org"), ln.y0 < 0.3 * height))
    return out


_ADDR_STOP = re.compile(
    r"\b(tel|telephone|phone|fax|hp|h/p|email|e-mail|gst|sst|reg|invoice|receipt|cashier|date|tax|website|"
    r"www|http|bill|table|order|counter|member|slip|check|roc|document|reg\.?\s*no|company\s*no|no\.?\s*:)\b|@",
    re.I,
)
_REG_LINE = re.compile(
    r"^\(?[\w\s.:-]*\d{4,}[\w\s.-]*\)?$|^\(.*\)$|co\.?\s*reg|company\s*no|roc\b"
    r"|^[a-z]{1,4}\.?\s*no\.?\s*:?\s*\(?[\w-]*\d{4,}[\w-]*\)?$",  # 'BR No.: (124525-H)'
    re.I,
)
_POSTCODE = re.compile(r"\b\d{5}\b")
# A five-digit number after 'LOT', 'NO', 'P.T.' or '#' numbers a plot or a unit ('LOT P.T. 33198'), not a postcode.
_POSTCODE_PLACE = re.compile(
    r"(?<!\d)(?<![#\-/])(?<!\blot\s)(?<!\bno\s)(?<!\bno\.\s)(?<!\bp\.t\.\s)(?<!\bpt\s)\d{5}\b", re.I
)
_POSTCODE_CITY = re.compile(r"^\d{4,5}\s+[^\W\d]{3,}")  # '15000 KHEMISSET', '10115 Berlin': not a registration number
# 'GST/TAX NO: 000988880896', 'GST ID: …', 'SST REG NO …': between a shop's name and its address on many receipts
_TAX_ID_LINE = re.compile(r"^\W*(?:gst|sst|vat|tax|gst\s*/\s*tax)\b[^:]{0,20}:?\s*[\w-]*\d{6,}", re.I)
# A telephone number ('03-3271 9872', '+603-3362 4137', '016-5498845'), whatever OCR made of its label ('Te1', 'lel').
_PHONE = re.compile(r"(?<![\w/.-])(?:\+?\d{2,3}[-\s]?)?\(?0\d{1,3}\)?-\s?\d{3,4}[\s-]?\d{3,5}(?![\w/-])|\+\d{6,}")
# Where the shop's contact details start on the address's own line ('... Johor. Tel No.: 07-387 3322').
_CONTACT_AT = re.compile(r"\s(?:te[l1]|tel\.?\s*no|phone|fax|h/?p|e-?mail)\b\.?\s*(?:no\.?\s*)?:", re.I)
# 'Pay By: CASH', 'Order : 17': a label and its value, not an address line ('NO: G3', 'LOT NO.: 4F-27' are).
_LABEL_LINE = re.compile(r"^(?!\s*(?:lot|no|unit|blk|block|suite)\b)[^\W\d][\w\s./#]{0,24}?\s?:", re.I)
# Street, building and district words (several languages): a line naming a mall or a street before the numbered
# address line belongs to the address ('GUARDIAN GIANT BREM MALL' / 'G-19 LEVEL G').
_ADDR_WORDS = re.compile(
    r"\b(jalan|jln|lorong|lrg|persiaran|lebuh|lebuhraya|taman|tmn|kampung|kg|bandar|kawasan|seksyen|mukim|"
    r"mall|plaza|centre|center|complex|kompleks|menara|wisma|bangunan|building|tower|arcade|village|square|"
    r"street|road|avenue|lane|boulevard|highway|drive|floor|level|suite|unit|block|blk|lot|"
    r"st|rd|ave|blvd|dr|ln|hwy|pkwy|"
    r"rue|avenue|boulevard|bd|chemin|place|all[ée]e|avenida|calle|carrer|via|viale|piazza|corso|autoroute|route|"
    r"[^\W\d]*(?:stra(?:ss|ß)e|weg|gasse|platz|allee|damm|ring|ufer|laan|straat|plein|gracht|dijk|kade))\b"
    r"|[^\W\d]+str\.(?!\w)",  # 'Hauptstr. 5'
    re.I,
)


_HOUSE_NO = re.compile(r"^\W*(?:no\.?:?\s*)?[\w-]*\d[\w/-]*\s*,", re.I)  # '109, SS21/1A,', 'No. 8,'


def _addr_end(text: str) -> bool:
    """A postcode line ends the address (a lone state or country word may still follow)."""
    return bool(_POSTCODE_PLACE.search(text)) and not re.search(r"\d{5}\s*$", text.strip().rstrip(",."))


# A country's name is an address's last part: nothing after it belongs to the address.
_COUNTRY_END = re.compile(
    r"\b(malaysia|singapore|indonesia|thailand|philippines|vietnam|brunei|china|hong kong|taiwan|japan|korea|india|"
    r"australia|new zealand|united kingdom|uk|ireland|usa|u\.s\.a|united states|canada|mexico|brazil|germany|"
    r"deutschland|france|belgique|belgium|belgi[eë]|nederland|netherlands|luxembourg|schweiz|suisse|switzerland|"
    r"[öo]sterreich|austria|espa[ñn]a|spain|italia|italy|portugal|maroc|morocco)\W*$",
    re.I,
)


# The country names above that are one plain word ('malaysia', 'germany'), for names cut short
_COUNTRY_WORDS = tuple(c for c in _COUNTRY_END.pattern.split("(", 1)[1].split("|") if c.isalpha())


def _country_end(text: str) -> bool:
    """The address ends with a country, its name written out or cut short with a stop where the paper ran out
    ('KUALA LUMPUR, MALAYSI.')."""
    if _COUNTRY_END.search(text):
        return True
    m = re.search(r"(?:^|[\s,])([^\W\d_]{5,})\.$", text.strip())
    return m is not None and any(c.startswith(m.group(1).lower()) for c in _COUNTRY_WORDS)


def _addr_tail(ln: Line) -> bool:
    """A line the address may run on to after its postcode line: a state, a second postcode and town, a branch."""
    text = ln.text.strip()
    if _ADDR_STOP.search(text) or _is_doc_word(text) or parse_date(text, None) is not None or ":" in text:
        return False
    if _PHONE.search(text):
        return False
    return len(ln.words) <= 4 and _letters(text) >= 0.5


def address_block(lines: list[Line], after: Line | None) -> list[list[Word]]:
    """The lines of a postal address under the issuer's name: to a phone/tax/date line, a postcode line closing it.

    Each line's words, a line cut where the shop's telephone starts on it."""
    start = lines.index(after) + 1 if after is not None and after in lines else 0
    block: list[list[Word]] = []
    pending: Line | None = None  # a street or building line with no number, kept if the numbered address follows
    closed = False
    for ln in lines[start : start + 10]:
        text = ln.text
        if closed:
            if _country_end(joined(block[-1])[0]) or not _addr_tail(ln):
                break
            block.append(list(ln.words))
            break
        if not block and (
            (_REG_LINE.search(text.strip()) and not _POSTCODE_CITY.match(text.strip()))
            or LEGAL_FORM.search(text.rstrip(" .,"))
            or _TAX_ID_LINE.search(text)
        ):
            pending = None
            continue  # the company's registration or tax number, or its legal name under its trading name
        if not block and parse_date(text.strip(), None) is not None:
            continue  # the date printed beside or under the name, before the address ('05 Mar 2018 18:24')
        if not block and len(text.strip()) <= 2 and not any(ch.isalpha() for ch in text):
            continue  # a speck or a logo's mark OCR read as '1' between the name and the address
        cut = _CONTACT_AT.search(" " + text)
        if block and cut is not None and cut.start() > 0:
            words = list(ln.words)
            joined_text, starts = joined(words)
            keep = span_words(words, starts, 0, cut.start() - 1)
            if keep:
                block.append(keep)
            break
        if (
            _ADDR_STOP.search(text)
            or _is_doc_word(text)
            or parse_date(text.strip(), None) is not None
            or _PHONE.search(text)
            or _LABEL_LINE.search(text)
        ):
            break
        if _letters(text) < 0.2 and not _POSTCODE.search(text):
            break  # a number, not an address line ('109, SS21/1A,' is 0.25 letters)
        if block and _AMOUNT.match(ln.words[-1].text) and re.search(r"[.,]\d{2}\)?$", ln.words[-1].text):
            break  # an item and its price ('TEA 24.00')
        if not block and not re.search(r"\d", text):
            # A branch or trade name under the company ('BISTRO & CAFE'): an address has numbers. A mall's or a
            # street's name may head the numbered lines, though.
            pending = ln if _ADDR_WORDS.search(text) else None
            continue
        if not block and not (
            _ADDR_WORDS.search(text) or _POSTCODE.search(text) or "," in text or re.match(r"\W*\d", text)
        ):
            pending = None
            continue  # a branch's name with a number in it ('MPH One Utama Phase 2'), not its first address line
        if not block and pending is not None:
            block.append(list(pending.words))
        block.append(list(ln.words))
        if len(block) >= 6:
            break
        if _addr_end(text):
            closed = True
    if pending is not None and len(block) > 1 and block[0][0] is pending.words[0]:
        # A district's name over the address that its last line prints again is a heading: 'BANDAR BARU X' /
        # 'NO 15 JALAN ...' / 'BANDAR BARU X'.
        if any(normalize(joined(ws)[0]) == normalize(pending.text) for ws in block[1:]):
            block = block[1:]
    if not any(
        _POSTCODE.search(t) or _ADDR_WORDS.search(t) or _HOUSE_NO.match(t) for t in (joined(ws)[0] for ws in block)
    ):
        return []  # no postcode, street word or house number: item lines ('TEA 4.50'), not an address
    return block


_PUNCT_ONLY = re.compile(r"^[,.;:]+$")
_DIGIT_O = re.compile(r"^(?=(?:\D*\d){2})[\dOo]*[Oo][\dOo]*[,.]?$")  # '4380O', '29O,': an O among digits
_POSTCODE_D = re.compile(r"^\d{4}D[,.]?$")  # '4600D': a five-digit postcode whose last 0 OCR read as D
# 'NO.', 'JLN.', 'P.T.', 'D.E.', 'Blvd.', 'Hauptstr.': abbreviations, whose full stop is no misread comma
_ABBREV_DOT = re.compile(
    r"^(?:[^\W\d]{1,3}|(?:\w\.)+\w?|\d+[a-z]{2}|blvd|pkwy|bldg|dept|[^\W\d]*str|sect|ctr)\.$", re.I
)
_ROMAN_DOT = re.compile(r"^[IVX]{1,4}\.$")  # 'WISMA UOA II.': a numeral, not an abbreviation
# 'Leve1', 'Ma11': l read as 1 in a word with small letters (not 'No1', a number sign and its number)
_ONES_IN_WORD = re.compile(r"^(?=.*[a-z])(?:[A-Za-z]{3,}1|[A-Za-z]+11|[A-Za-z]+1[A-Za-z])[A-Za-z1]*[,.]?$")
_UNIT_O = re.compile(r"^[A-Z]{1,2}\d+O[,.]?$")  # 'G3O': a unit number ending in 0


def address_text(words: list[Word], vocab: tuple[set[str], bool] | None = None) -> str:
    """The address's words as printed, joined with spaces, with what OCR does to them mended.

    A lone comma or full stop joins the word before it ('BALAKONG , 43300'); on words OCR read, an O among
    digits is a 0 ('4380O', '29O'), as is a postcode's last D ('4600D'), and a full stop inside the address after
    a word that is no abbreviation is the comma OCR misread ('TAMAN SEGAR. 56100', '9. JALAN'). A 1 among a
    word's small letters is an l ('Leve1', 'Ma11') and a unit number's last O a 0 ('G3O'). With the head's
    words (`ocr_vocabulary`), a word's misread letter or accent is mended (`mend_ocr_word`), and a last word's
    doubled full stop is one ('KUALA LUMPUR..')."""
    out: list[str] = []
    for i, w in enumerate(words):
        text = w.text
        if out and _PUNCT_ONLY.match(text):
            out[-1] += text
            continue
        if w.ocr:
            if _DIGIT_O.match(text) or _POSTCODE_D.match(text):
                text = text[:-1].translate(_TO_ZERO) + (text[-1] if text[-1] in ",." else text[-1].translate(_TO_ZERO))
            elif _UNIT_O.match(text):
                text = re.sub(r"O(?=[,.]?$)", "0", text)
            elif _ONES_IN_WORD.match(text):
                text = text.replace("1", "l")
            elif vocab is not None:
                text = mend_ocr_word(text, *vocab)
            last = i == len(words) - 1 or all(_PUNCT_ONLY.match(v.text) for v in words[i + 1 :])
            if last and vocab is not None and re.search(r"[^\W\d_]\.\.$", text):
                text = text[:-1]
            # The town after a postcode may end a first address with its full stop ('10300 Penang.' / '10400 ...').
            town = (
                i + 1 < len(words)
                and words[i + 1].line != w.line
                and any(_POSTCODE_PLACE.search(v.text) for v in words[: i + 1] if v.line == w.line)
            )
            if (
                not last
                and not town
                and text.endswith(".")
                and not text.endswith("..")
                and (not _ABBREV_DOT.match(text) or _ROMAN_DOT.match(text))
            ):
                text = text[:-1] + ","
        out.append(text)
    return " ".join(out)


_TO_ZERO = str.maketrans({"O": "0", "o": "0", "D": "0"})

# 'MENTA[', 'ME|NTAI', 'GUARD1AN': one character of a word in capitals that OCR read as a bracket, a bar or a digit
_ODD_IN_CAPS = re.compile(r"^(?=[A-Z]*[\[\]|{}!1][A-Z]*$)[A-Z\[\]|{}!1]{3,}$")
# '1DEA': a capital I read as a 1 at the start of a word in capitals (not an ordinal, '1ST')
_LEAD_ONE = re.compile(r"^1(?!ST\b)(?=[A-Z]{3,}\b)")


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _accented(text: str) -> bool:
    return any(c.isalpha() and not c.isascii() for c in text) and _plain(text).isascii()


def ocr_vocabulary(lines: list[Line]) -> tuple[set[str], bool]:
    """The head's words in capitals (what another print of a name may be compared with), and whether its OCR'd
    words carry accents so rarely (under 1 word in 25) that an accented letter is OCR's noise ('JALAN MÄNIS')."""
    words = [w for ln in lines for w in ln.words]
    vocab = {w.text.strip(",.:;()").upper() for w in words}
    accents = sum(1 for w in words if _accented(w.text))
    return vocab, 25 * accents < max(1, len([w for w in words if w.ocr]))


def join_split_words(texts: list[str], vocab: set[str]) -> list[str]:
    """A word OCR split before its last letters ('Hardwar e'), joined where the receipt prints it whole elsewhere
    ('Thank you for shopping at ENW Hardware'). The list keeps its length (an emptied piece), so each text stays
    with its word."""
    out = list(texts)
    for i in range(1, len(out)):
        piece, prev = out[i], out[i - 1]
        if 1 <= len(piece) <= 2 and piece.isalpha() and len(prev) >= 3 and (prev + piece).upper() in vocab:
            out[i - 1], out[i] = prev + piece, ""
    return out


def mend_ocr_word(text: str, vocab: set[str], rare_accents: bool) -> str:
    """A word of a name or an address as OCR misread it, mended where the receipt settles it: a character that is
    no letter inside a word in capitals that the head prints elsewhere with a letter there ('MENTA[' under
    'SUSHI MENTAI'), an accent the head prints elsewhere without ('Tampoí' / 'Tampoi'), or on a word in capitals on
    a page whose words carry none ('MÄNIS', 'ÁLAM')."""
    core = text.strip(",.:;")
    if _accented(core) and (rare_accents and core.isupper() or _plain(core).upper() in vocab):
        text = text.replace(core, _plain(core))
        core = _plain(core)
    if _ODD_IN_CAPS.match(core):
        for i, c in enumerate(core):
            if not c.isalpha():
                near = {v for v in vocab if len(v) == len(core) and v[:i] == core[:i] and v[i + 1 :] == core[i + 1 :]}
                near = {v for v in near if v[i].isalpha()}
                if len(near) == 1:
                    text = text.replace(core, near.pop())
                break
    return text


# ---------------------------------------------------------------- contract clauses

_JURIS = re.compile(
    r"\blaws?\s+(?:of|in)\s+(?:the\s+)?(?:(?:State|Commonwealth|Province|Republic|Kingdom)\s+of\s+)?"
    r"(?P<name>[A-Z][A-Za-z]+(?:\s+(?:[A-Z][A-Za-z]+|of))*)"
    r"|\b(?P<name2>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\s+law\b"
)
_GOVERN = re.compile(r"govern|constru|interpret|enforced|applicable law|governing", re.I)
_NOT_PLACE = frozenset(
    "the this such any its his her their united agreement company state states federal applicable conflict "
    "conflicts delaware's".split()
)


def jurisdictions(words: list[Word]) -> list[tuple[int, Found]]:
    text, starts = joined(words)
    out = []
    for m in _JURIS.finditer(text):
        g = "name" if m.group("name") else "name2"
        name = m.group(g)
        parts = name.split()
        while parts and parts[-1] in ("of", "Of"):
            parts.pop()
        # "laws of the United States of America" is a country; "laws of New York State" -> New York.
        if parts and parts[-1] == "State" and len(parts) > 1:
            parts.pop()
        if not parts or parts[0].lower() in _NOT_PLACE and " ".join(parts) != "United States" and \
                not name.startswith("United"):  # fmt: skip
            continue
        if len(parts) > 4:
            parts = parts[:2]
        value = " ".join(parts)
        s = m.start(g)
        e = s + len(value)
        before = text[max(0, m.start() - 160) : m.start()]
        score = 2 if _GOVERN.search(before) else 1
        if g == "name2":
            score -= 0.5
        ws = span_words(words, starts, s, e)
        if ws:
            out.append((score, Found(value.strip(",.;"), ws, evidence=f"jurisdiction-{score}")))
    return out


_NUM_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "eighteen": 18,
    "twenty": 20, "twenty-four": 24, "thirty": 30, "thirty-six": 36, "sixty": 60, "ninety": 90,
}  # fmt: skip
_DURATION = re.compile(
    r"\b(?:(?P<w>[A-Za-z]+(?:-[A-Za-z]+)?)\s*\(\s*(?P<n>\d+(?:\.\d+)?)\s*\)|(?P<d>\d+(?:\.\d+)?)|"
    r"(?P<w2>one|two|three|four|five|six|seven|eight|nine|ten|twelve|eighteen|twenty-four|thirty-six))"
    r"[\s-]*(?P<unit>year|month|week|day)s?\b",
    re.I,
)
_TERM_CONTEXT = re.compile(
    r"\b(term of|period of|remain in (?:full )?(?:force|effect)|continue in (?:full )?(?:force|effect)|"
    r"terminate|expire|expiration|in effect for|duration|effective for)\b",
    re.I,
)
_TERM_SUBJECT = re.compile(r"\b(?:this|the)\s+(?:letter\s+)?agreement\b|\bterm\b|\bobligations?\b", re.I)
# Periods that are not the agreement's own: employment covenants, severance, standstills, options.
_OTHER_PERIOD = re.compile(
    r"\b(employ\w*|thereafter|salary|payroll|installments?|stockholder|options?|solicit\w*|compet\w*|standstill|"
    r"engagement|relationship with)\b",
    re.I,
)
_NOT_TERM = re.compile(r"\b(within|notice|prior|after receipt|days after|following|per annum|age)\b", re.I)


def durations(words: list[Word]) -> list[tuple[float, Found]]:
    text, starts = joined(words)
    out = []
    for m in _DURATION.finditer(text):
        n = m.group("n") or m.group("d")
        if n is None:
            n = _NUM_WORDS.get((m.group("w2") or "").lower())
        if n is None:
            continue
        n_val = float(n)
        unit = m.group("unit").lower()
        before = text[max(0, m.start() - 140) : m.start()]
        ends = list(re.finditer(r"[.;:]\s+(?=[A-Z0-9(])", before))
        if ends:
            before = before[ends[-1].end() :]  # the clause the period is in, not the one before it
        around = before + text[m.end() : m.end() + 40]
        score = 0.0
        if _TERM_SUBJECT.search(before):
            score += 1.0
        if _TERM_CONTEXT.search(before):
            score += 1.0
        if _NOT_TERM.search(text[max(0, m.start() - 25) : m.start()]) or _OTHER_PERIOD.search(around):
            score -= 2.0
        if unit in ("year", "month"):
            score += 0.5
        if m.group("n"):
            score += 0.25  # "two (2) years": how contracts state a term
        if n_val <= 0 or (unit == "year" and n_val > 20):
            continue
        num = f"{n_val:g}"
        value = f"{num} {unit}" + ("" if n_val == 1 else "s")
        ws = span_words(words, starts, m.start(), m.end())
        out.append((score, Found(value, ws, evidence="duration")))
    return out


_BETWEEN = re.compile(r"\b(?:by\s+and\s+)?between\b|\bPARTIES\s*:", re.I)
_PREAMBLE_END = re.compile(
    r"\b(WHEREAS|W\s?I\s?T\s?N\s?E\s?S\s?S\s?E\s?T\s?H|RECITALS|NOW,?\s+THEREFORE|BACKGROUND)\b|"
    r"(?:(?<=[a-z]{3})|(?<=[)”\"]))\.\s+(?=[A-Z1-9])"
)
_PREAMBLE_CHARS = 3000  # "between" further on is a clause, not the preamble
_TITLES = re.compile(r",?\s+(?:M\.D\.|Ph\.D\.|Esq\.?|Jr\.|Sr\.)$")
_CUT = re.compile(
    r"\(|,?\s+(?:a|an)\s+(?:[A-Z][a-z]+\s+)?(?:corporation|company|limited|partnership|individual|resident|"
    r"Delaware|Nevada|California|New|[A-Z][a-z]+)\b|,\s+(?:having|with|whose|located|residing|organized|"
    r"incorporated|its|of|on behalf)\b|\s+(?:having|with its|whose|located at|residing at|organized under)\b|"
    r",\s+(?:\d|a\s)|[\"“”]|;|\s+hereinafter\b|\s+on behalf\b",
)


def _clean_party(text: str) -> str:
    text = re.sub(r"^\s*(?:the|and|,)\s+", "", text.strip(), flags=re.I).strip(" ,;:\"“”'")
    text = _TITLES.sub("", text)
    text = re.sub(r",\s*(?=(?:inc|ltd|llc|l\.l\.c|corp|co|plc|lp|l\.p|n\.a|s\.a|b\.v|n\.v|gmbh|ag)\b\.?)", " ", text,
                  flags=re.I)  # fmt: skip
    return " ".join(text.split())


_ROLES = frozenset(
    "company the company recipient discloser disclosing party receiving party parties party each of you your me "
    "myself i we us the undersigned undersigned employee executive buyer seller purchaser consultant contractor "
    "licensor licensee investor bank client customer supplier vendor".split(" ")
)
_CONNECTORS = frozenset("of and the de du la le des van von & d/b/a for in".split())


def _name_like(name: str) -> bool:
    """A proper name: capitalised words (connectors aside), not a role ('the Company', 'you'), not a clause."""
    words = name.split()
    if not words or len(words) > 8 or len(name) < 3 or not name[0].isupper():
        return False
    if normalize(name) in _ROLES or normalize(re.sub(r"^the\s+", "", name, flags=re.I)) in _ROLES:
        return False
    for w in words:
        core = w.strip(",.;:()“”\"'’")
        if not core or core.lower() in _CONNECTORS or not core[0].isalpha():
            continue
        if not core[0].isupper():
            return False
    return True


def parties(words: list[Word]) -> Found | None:
    """Names in the preamble: 'by and between A (..., "X") and B (...)', each cut at its description."""
    text, starts = joined(words)
    m = _BETWEEN.search(text, 0, _PREAMBLE_CHARS)
    if not m:
        return None
    end_m = _PREAMBLE_END.search(text, m.end())
    end = end_m.start() if end_m else min(len(text), m.end() + 800)
    body = text[m.end() : min(end, m.end() + 1200)]
    # Split at top-level " and " (outside parentheses and quotes).
    pieces: list[tuple[int, int]] = []
    depth, last = 0, 0
    i = 0
    while i < len(body):
        c = body[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth = max(0, depth - 1)
        elif depth == 0 and body.startswith(" and ", i):
            pieces.append((last, i))
            last = i + 5
            i += 5
            continue
        i += 1
    pieces.append((last, len(body)))
    vals, used = [], []
    for s, e in pieces:
        seg = body[s:e]
        lead = len(seg) - len(seg.lstrip(" ,:"))
        cut = _CUT.search(seg, lead + 1)
        name_end = cut.start() if cut else len(seg)
        raw = seg[lead:name_end]
        name = _clean_party(raw)
        if not _name_like(name):
            continue
        base = m.end() + s + lead
        ws = span_words(words, starts, base, base + len(raw.rstrip(" ,")))
        if not ws:
            continue
        if name not in vals:
            vals.append(name)
            used.extend(ws)
        if len(vals) >= 4:
            break
    if not vals:
        return None
    return Found(vals, used, evidence="parties-preamble")


# ---------------------------------------------------------------- dates in running text

DATE_SPAN = re.compile(
    r"\b(?:\d{1,2}(?:st|nd|rd|th|er)?\.?\s+(?:day\s+of\s+|of\s+)?[A-Za-zéûä]+\.?,?\s+\d{4}|[A-Za-z]+\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{4}-\d{2}-\d{2}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|"
    r"\d{1,2}[\s\-/.](?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[A-Z]*[\s\-/.,]*\d{2,4})\b"
    # a date OCR ran into its time ('21-03-201813:29:51') or the next label ('21/05/2018Time:'): four-digit years
    # only, two would be ambiguous
    r"|\b\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)\d{2}(?=\d{1,2}:\d{2}|[A-Za-z])",
    re.I,
)
_EFFECTIVE = re.compile(
    r"(as of|dated|effective|made|made on|entered into on|made and entered into|this)\s*(?:the\s*)?$", re.I
)


_LETTER_HEAD = 60  # words: a date this close to the top of the first page dates the document


@dataclass(slots=True)
class DateHit:
    score: float
    order: int
    found: Found
    printed: str


def dates_in(words: list[Word], day_first: bool | None, first_page: bool) -> list[DateHit]:
    text, starts = joined(words)
    out = []
    for m in DATE_SPAN.finditer(text):
        printed = m.group(0).rstrip(".,")
        if re.match(r"[./\-]\d", text[m.start() + len(printed) : m.start() + len(printed) + 2]) or re.search(
            r"\d[./\-]$", text[: m.start()]
        ):
            continue  # part of a longer run of numbers: a phone number ('05.22.95.66.66'), a code
        parsed = parse_date(printed, day_first)
        if parsed is None:
            continue
        ws = span_words(words, starts, m.start(), m.start() + len(printed))
        if not ws:
            continue
        before = text[max(0, m.start() - 40) : m.start()]
        after = text[m.end() : m.end() + 60]
        score = 0.0
        if _EFFECTIVE.search(before):
            score += 2.0
        if re.search(r"effective date|\"?effective\"?\s*\)", after, re.I):
            score += 2.0
        if first_page:
            score += 0.5
            if ws[0].order - words[0].order < _LETTER_HEAD:
                score += 1.5  # a letter's own date, above 'Ladies and Gentlemen'
        if re.search(r"\bdate\s*:\s*$", before, re.I):
            score += 1.5  # 'Date: March 1, 2005' by a signature: the date it was signed, when no other is given
        out.append(DateHit(score, ws[0].order, Found(parsed[0].date().isoformat(), ws, evidence="date"), printed))
    return out


# ---------------------------------------------------------------- evidence gathered page by page

_KEEP_WORDS = 1500  # words of the first pages kept for the preamble (parties, effective date)


@dataclass(slots=True)
class DocEvidence:
    """What the finders saw, bounded: the first page's head, the preamble's words, totals, rates, clauses."""

    day_first: bool | None
    kinds: frozenset[str]  # the hints asked for: nothing else is read or kept
    head: list[Line] = field(default_factory=list)
    preamble: list[Word] = field(default_factory=list)
    totals: list[_Total] = field(default_factory=list)
    rates: list[Found] = field(default_factory=list)
    juris: list[tuple[float, int, Found]] = field(default_factory=list)
    terms: list[tuple[float, int, Found]] = field(default_factory=list)
    dates: list[DateHit] = field(default_factory=list)
    title: TitleLine | None = None
    orgs: list[OrgHit] = field(default_factory=list)  # the first page's, then the last page's too
    last_orgs: list[OrgHit] = field(default_factory=list)
    pages: int = 0

    def add_page(self, page: Page) -> None:
        self.pages += 1
        kinds = self.kinds
        if self.pages == 1 and kinds & {"company", "address"}:
            self.head = page.lines[:40]
        if kinds & {"company", "parties"}:
            if self.pages == 1:
                self.orgs = org_hits(page)[:64]
            else:
                self.last_orgs = org_hits(page)[:64]
        if self.pages == 1 and kinds & {"doc_number", "date"}:
            self.title = title_line(page, self.day_first)
        if "parties" in kinds and len(self.preamble) < _KEEP_WORDS:
            self.preamble.extend(page.words[: _KEEP_WORDS - len(self.preamble)])
        if "date" in kinds and self.pages <= 3:
            self.dates.extend(dates_in(page.words, self.day_first, self.pages == 1)[:64])
        if "total" in kinds:
            self.totals.extend(totals(page))
            self.totals = sorted(self.totals, key=lambda t: (t.rank, t.order))[-16:]
        if "rate" in kinds and len(self.rates) < 64:
            self.rates.extend(rates(page)[: 64 - len(self.rates)])
        if "jurisdiction" in kinds:
            for score, fd in jurisdictions(page.words):
                self.juris.append((score, -fd.words[0].order, fd))
            self.juris = sorted(self.juris, key=lambda t: t[:2])[-8:]
        if "duration" in kinds:
            for score, fd in durations(page.words):
                self.terms.append((score, -fd.words[0].order, fd))
            self.terms = sorted(self.terms, key=lambda t: t[:2])[-8:]

    def resolve(self, hint: Hint, f: Field) -> Found | None:
        node = f.node
        kind = hint.kind
        # A 'Rounding' line's amount under one (a cent or two) or far under the other totals is the adjustment, not
        # the rounded total.
        others = max((abs(t.value) for t in self.totals if not t.rounding), default=0.0)
        kept = [t for t in self.totals if not t.rounding or abs(t.value) >= max(1.0, 0.5 * others)]
        if kind == "total" and kept:
            # The best-ranked total lines; of those near the largest amount, the last (after a rounding line).
            rank = max(t.rank for t in kept)
            top = [t for t in kept if t.rank == rank]
            largest = max(abs(t.value) for t in top)
            best = [t for t in top if abs(t.value) >= largest - max(0.1, 0.01 * largest)][-1]
            if hint.position == "end" or best.rank >= 1.0:
                text = best.printed or " ".join(w.text for w in best.words)
                if _OCR_HYPHEN_AMOUNT.match(text):
                    text = text.replace("-", ".")
                value: Any = best.value if node.kind in ("number", "integer") else text.replace("RM", "").strip()
                return Found(value, best.words, evidence="total-block")
        if kind == "rate" and self.rates:
            counts: dict[float, int] = {}
            for fd in self.rates:
                counts[fd.value] = counts.get(fd.value, 0) + 1
            top = max(counts.values())
            pick = next(fd for fd in self.rates if counts[fd.value] == top)
            return self._typed(pick, node, pick.evidence)
        if kind == "jurisdiction" and self.juris:
            score, _, fd = self.juris[-1]
            return fd if score >= 1 else None
        if kind == "duration" and self.terms:
            score, _, fd = self.terms[-1]
            return fd if score >= 2.5 else None  # a period no clause ties to the agreement is no term
        if kind == "parties":
            got = parties(self.preamble)
            if got is not None:
                return got
            # A letter agreement names 'you' and 'the Company' in its text: the names with a legal form that its
            # letterhead and signature block repeat are the parties then.
            counts: dict[str, list[OrgHit]] = {}
            for h in [*self.orgs, *self.last_orgs]:
                counts.setdefault(h.key, []).append(h)
            named = [hs for hs in counts.values() if len(hs) >= 2 and _name_like(hs[0].found.value)]
            named.sort(key=lambda hs: -len(hs))
            if not named:
                return None
            return Found([hs[0].found.value for hs in named[:2]], [w for hs in named[:2] for w in hs[0].found.words],
                         evidence="parties-repeated")  # fmt: skip
        if kind == "company":
            got = company_line(self.head, top=hint.position == "top")
            if got is not None and hint.position == "top":
                ln, ev = got
                words = list(ln.words)
                text, starts = joined(words)
                cut = _REG_NO.search(text)
                mid = _REG_MID.search(text)
                if cut is None and mid is not None and LEGAL_FORM.search(text[: mid.start()]):
                    cut = mid  # 'MYNEWS RETAIL SB(306295-X) FKA BISON STORES SB': the name ends at its number
                texts = [w.text for w in words]
                if cut is not None and cut.start() > 0:
                    words = span_words(words, starts, 0, cut.start())
                    # the number run into the legal form's word ('SB(306295-X)') is cut from its text; the word is cited
                    texts = [t[: max(0, cut.start() - st)] for t, st in zip(texts, starts, strict=False)][: len(words)]
                if any(w.ocr for w in words):
                    vocab = ocr_vocabulary(self.head)
                    texts = join_split_words(texts, vocab[0])
                    name = _clean_party(
                        " ".join(_LEAD_ONE.sub("I", mend_ocr_word(t, *vocab)) if t else t for t in texts)
                    )
                    name = mend_legal_form(name)
                else:
                    name = _clean_party(" ".join(texts))
                return self._typed(Found(name, words, evidence=ev), node, ev)
            hits = [*self.orgs, *self.last_orgs]
            if hits:
                counts: dict[str, int] = {}
                for h in hits:
                    counts[h.key] = counts.get(h.key, 0) + 1
                best = max(hits, key=lambda h: (counts[h.key] + (1 if h.top else 0), -hits.index(h)))
                if counts[best.key] >= 2 or best.top:
                    ev = "org-repeated" if counts[best.key] >= 2 else "org-top"
                    return self._typed(Found(best.found.value, best.found.words, evidence=ev), node, ev)
            if got is not None:
                ln, ev = got
                return self._typed(Found(_clean_party(ln.text), list(ln.words), evidence=ev), node, ev)
        if kind == "address":
            got = company_line(self.head, top=True)
            # The address under the name; else the first one in the head (a trading name and its address printed
            # above the legal name: 'Owned by: XYZ SDN BHD').
            block = address_block(self.head, got[0] if got else None) or address_block(self.head, None)
            if block:
                words = [w for ws in block for w in ws]
                text = address_text(words, ocr_vocabulary(self.head))
                typed = self._typed(Found(text, words, evidence="address-block"), node, "address-block")
                if typed is not None and isinstance(typed.value, str) and not node.fmt:
                    typed.value = text.strip()  # as printed, a trailing comma too (the references keep it)
                return typed
        if kind == "doc_number" and self.title is not None:
            return self._typed(self.title.number, node, "title-number")
        issue = "issue_date" in hint.concepts or "issue" in (node.description or "").lower()
        if kind == "date" and issue and self.title is not None and self.title.date is not None:
            got = self.title.date
            if node.fmt in ("date", "date-time"):
                return got
            return Found(" ".join(w.text for w in got.words), got.words, evidence=got.evidence)
        if kind == "date" and self.dates:
            effective = "effective_date" in hint.concepts or "effective" in (node.description or "").lower()
            hits = self.dates
            if effective:
                best = max(hits, key=lambda h: (h.score, -h.order))
                if best.score < 2:
                    return None
                best = DateHit(best.score, best.order, Found(best.found.value, best.found.words,
                               evidence="date-context"), best.printed)  # fmt: skip
            else:
                best = min(hits, key=lambda h: h.order)
            if node.fmt in ("date", "date-time"):
                return best.found
            return Found(best.printed, best.found.words, evidence="date")
        return None

    @staticmethod
    def _typed(fd: Found, node: Any, evidence: str) -> Found | None:
        text = fd.value if isinstance(fd.value, str) else f"{fd.value:g}"
        got = coerce_text(text, node)
        if got is None:
            return None
        return Found(got[0], fd.words, evidence=evidence)
