"""Text -> typed value, with a strength in [0, 1] (1 = the whole text is exactly one clean value).

Every coercer works on a list of word texts and returns the span of words it used, so citations
point at the value's own words, not at the label or trailing noise.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz

from .schema import Node


@dataclass(frozen=True, slots=True)
class Coerced:
    value: Any
    strength: float
    start: int  # word span [start, end) inside the words that were offered
    end: int


_CURRENCY = r"(?:US\$|USD|EUR|GBP|CHF|CAD|AUD|JPY|INR|SEK|NOK|DKK|PLN|CZK|Rs\.?|kr|[$€£¥₹])"
_NUM_CORE = r"[-+−(]?\s*(?:\d{1,3}(?:[,.' \u00a0\u202f]\d{3})+|\d+)(?:[.,]\d+)?\s*\)?-?"
_NUMBER_RE = re.compile(rf"^\s*(?:{_CURRENCY}\s*)?({_NUM_CORE})\s*(?:{_CURRENCY})?\s*(%)?\s*$", re.IGNORECASE)
_CURRENCY_SYMBOLS = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}


_SPLIT_DECIMALS = re.compile(r"(\d)\s+([.,]\d{1,2}\s*[-)%]?\s*(?:[A-Za-z€$£]{1,3})?\s*)$")


def parse_number(text: str) -> float | None:
    """'$1,234.50' -> 1234.5; '1.234,50 €' -> 1234.5; '(12.00)' -> -12.0; '12.5%' -> 12.5.

    OCR often cuts the decimals off as a word of their own ('4,759 .20'); they are joined back.
    """
    text = _SPLIT_DECIMALS.sub(r"\1\2", text.replace("−", "-"))
    m = _NUMBER_RE.match(text)
    if not m:
        return None
    raw = m.group(1).strip()
    negative = raw.startswith(("-", "(")) or raw.endswith("-")
    digits = re.sub(r"[^\d.,' \u00a0\u202f]", "", raw).strip()
    digits = re.sub(r"[' \u00a0\u202f]", "", digits)
    if "," in digits and "." in digits:
        dec = "," if digits.rfind(",") > digits.rfind(".") else "."
    elif "," in digits:
        parts = digits.split(",")
        dec = "," if len(parts) == 2 and len(parts[1]) != 3 else None
    elif digits.count(".") > 1:
        dec = None
    else:
        dec = "."
    if dec is None:
        cleaned = digits.replace(",", "").replace(".", "")
    else:
        other = "." if dec == "," else ","
        cleaned = digits.replace(other, "").replace(dec, ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return -value if negative else value


_MONTH_NAMES = (
    ("january", "jan", "janvier", "januar", "enero", "januari", "jänner", "janv"),
    ("february", "feb", "février", "fevrier", "februar", "febrero", "februari", "févr", "fevr"),
    ("march", "mar", "mars", "märz", "marzo", "maart", "mrt", "maerz", "mär"),
    ("april", "apr", "avril", "abril", "avr"),
    ("may", "mai", "mayo", "mei"),
    ("june", "jun", "juin", "juni", "junio"),
    ("july", "jul", "juillet", "juli", "julio", "juil"),
    ("august", "aug", "août", "aout", "agosto", "augustus"),
    ("september", "sep", "sept", "septembre", "septiembre"),
    ("october", "oct", "octobre", "oktober", "octubre", "okt"),
    ("november", "nov", "novembre", "noviembre"),
    ("december", "dec", "décembre", "decembre", "dezember", "diciembre", "dez", "déc"),
)  # English, French, German, Spanish and Dutch names and their usual abbreviations
_MONTHS = {m: i + 1 for i, names in enumerate(_MONTH_NAMES) for m in names}
_MONTH_RE = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_TIME = r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?)?"
_DATE_PATTERNS = [
    ("ymd", re.compile(rf"^(\d{{4}})[-/.](\d{{1,2}})[-/.](\d{{1,2}}){_TIME}(?:Z|[+-]\d{{2}}:?\d{{2}})?$", re.I)),
    ("num", re.compile(rf"^(\d{{1,2}})[-/.](\d{{1,2}})[-/.](\d{{4}}|\d{{2}}){_TIME}$", re.I)),
    ("dmy_name", re.compile(
        rf"^(\d{{1,2}})(?:st|nd|rd|th)?[\s\-/.]*(?:of\s+)?{_MONTH_RE}[\s\-/.,]*(\d{{4}}|\d{{2}}){_TIME}$", re.I)),
    ("mdy_name", re.compile(rf"^{_MONTH_RE}[\s\-/.]*(\d{{1,2}})(?:st|nd|rd|th)?[\s,]+(\d{{4}}){_TIME}$", re.I)),
]  # fmt: skip


def parse_date(text: str, day_first: bool | None = None) -> tuple[datetime, bool, bool] | None:
    """-> (datetime, has_time, unambiguous). day_first decides 03/04/2024 when neither part is > 12."""
    t = " ".join(text.strip().strip(",;").split())
    t = re.sub(r"(\d)(?:st|nd|rd|th)?\s+day\s+of\s+", r"\1 ", t, flags=re.I)  # "the 3rd day of March, 2011"
    t = re.sub(r"^(?:the|this)\s+", "", t, flags=re.I)
    t = re.sub(r"^(\d{1,2})er\b", r"\1", t)  # "1er novembre 2023"
    for kind, rx in _DATE_PATTERNS:
        m = rx.match(t)
        if not m:
            continue
        g = m.groups()
        sure = True
        if kind == "ymd":
            y, mo, d, rest = int(g[0]), int(g[1]), int(g[2]), g[3:]
        elif kind == "num":
            a, b, y, rest = int(g[0]), int(g[1]), int(g[2]), g[3:]
            if a > 12 >= b:
                d, mo = a, b
            elif b > 12 >= a:
                mo, d = a, b
            else:
                sure = a == b
                # 01.11.2023: dotted dates are day-first wherever they are written (DE, FR, NL ...); slashes vary.
                dotted = day_first is None and re.match(r"^\d{1,2}\.\d{1,2}\.", t) is not None
                d, mo = (a, b) if day_first or dotted else (b, a)
        elif kind == "dmy_name":
            d, mo, y, rest = int(g[0]), _MONTHS[g[1].lower()], int(g[2]), g[3:]
        else:
            mo, d, y, rest = _MONTHS[g[0].lower()], int(g[1]), int(g[2]), g[3:]
        if y < 100:
            y += 2000 if y < 70 else 1900
        hh, mm, ss, ampm = rest
        try:
            if hh is not None:
                h = int(hh)
                if ampm and ampm.lower().startswith("p") and h < 12:
                    h += 12
                elif ampm and ampm.lower().startswith("a") and h == 12:
                    h = 0
                return datetime(y, mo, d, h, int(mm), int(ss or 0)), True, sure
            return datetime(y, mo, d), False, sure
        except ValueError:
            return None
    return None


_TRUE = {"yes", "y", "true", "t", "1", "checked", "x", "✓", "✔", "☑", "☒", "[x]", "on", "ja", "oui", "si", "sí"}
_FALSE = {"no", "n", "false", "f", "0", "unchecked", "☐", "□", "[ ]", "[]", "off", "none", "nein", "non"}
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^0-9a-z%]+", " ", text.lower()).split())


def _enum_match(text: str, options: tuple[Any, ...]) -> tuple[Any, float] | None:
    norm = normalize(text)
    if not norm:
        return None
    best, best_score = None, 0.0
    for opt in options:
        if opt is None:
            continue
        o = normalize(str(opt))
        if o == norm:
            return opt, 1.0
        score = fuzz.ratio(o, norm) / 100
        if o and re.search(rf"\b{re.escape(o)}\b", norm):
            score = max(score, 0.85)
        if score > best_score:
            best, best_score = opt, score
    if best_score >= 0.8:
        return best, min(best_score, 0.8)
    return None


def coerce_text(text: str, node: Node, day_first: bool | None = None) -> tuple[Any, float] | None:
    """Coerce one whole text to the node's type, or None when it is not such a value."""
    text = text.strip()
    if not text:
        return None
    kind = node.kind
    if node.enum is not None:
        opts = tuple(o for o in node.enum if o is not None)
        if kind == "string":
            return _enum_match(text, opts)
        base = coerce_text(text, Node(kind=kind, path=node.path, fmt=node.fmt), day_first)
        if base is not None and base[0] in opts:
            return base
        return None
    if kind in ("number", "integer"):
        n = parse_number(text)
        if n is None:
            fixed = ocr_digits(text)
            got = coerce_text(fixed, node, day_first) if fixed else None
            return (got[0], got[1] * 0.9) if got else None
        if kind == "integer":
            if n != int(n):
                return None
            return int(n), 1.0
        return (int(n) if n == int(n) and abs(n) < 2**53 else n), 1.0
    if kind == "boolean":
        low = text.lower().strip(" .:")
        if low in _TRUE:
            return True, 1.0
        if low in _FALSE:
            return False, 1.0
        return None
    fmt = (node.fmt or "").lower()
    if fmt in ("date", "date-time"):
        parsed = parse_date(text, day_first)
        if parsed is None:
            fixed = ocr_digits(text)
            got = coerce_text(fixed, node, day_first) if fixed else None
            return (got[0], got[1] * 0.9) if got else None
        dt, has_time, sure = parsed
        value = dt.date().isoformat() if fmt == "date" else dt.isoformat()
        return value, (1.0 if sure else 0.85)
    if fmt == "email":
        m = _EMAIL_RE.fullmatch(text.strip("<>()[],;"))
        return (m.group(0), 1.0) if m else None
    if fmt == "time":
        m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text)
        return (f"{int(m.group(1)):02d}:{m.group(2)}:{m.group(3) or '00'}", 1.0) if m else None
    cleaned = text.strip(" \t:;,")
    return (cleaned, 1.0) if cleaned else None


def coerce_words(words: list[str], node: Node, day_first: bool | None = None, max_span: int = 12) -> Coerced | None:
    """Best coercion of the whole word list, else of its longest leading sub-span that coerces."""
    if not words:
        return None
    whole = coerce_text(" ".join(words), node, day_first)
    if whole is not None:
        return Coerced(whole[0], whole[1], 0, len(words))
    if node.kind == "string" and node.enum is None and not node.fmt:
        return None
    n = len(words)
    for length in range(min(n - 1, max_span), 0, -1):
        for start in range(0, n - length + 1):
            got = coerce_text(" ".join(words[start : start + length]), node, day_first)
            if got is not None:
                # Extra words around the value (units, notes) lower confidence a little.
                return Coerced(got[0], got[1] * 0.9, start, start + length)
    return None


_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "D": "0", "Q": "0", "l": "1", "I": "1", "|": "1", "B": "8",
                              "S": "5", "Z": "2"})  # fmt: skip
_OCR_TOKEN = re.compile(r"[-+(]?[$€£]?[\dODQolI|BSZ]+(?:[.,/:'\-][\dODQolI|BSZ]+)*[-)%]?")


def ocr_digits(text: str) -> str | None:
    """'1/02/D2' -> '1/02/02', '4,759 .20' -> '4,759.20': OCR's letters-for-digits inside numbers mended.

    Only tokens that are mostly digits already (at least two, and at most two look-alike letters)
    are touched; None when nothing changed.
    """
    joined = _SPLIT_DECIMALS.sub(r"\1\2", text.strip())
    out = []
    for tok in joined.split():
        letters = sum(c in "ODQolI|BSZ" for c in tok)
        digits = sum(c.isdigit() for c in tok)
        if letters and digits >= 2 and letters <= 2 and letters < digits and _OCR_TOKEN.fullmatch(tok):
            tok = tok.translate(_OCR_DIGITS)
        out.append(tok)
    fixed = " ".join(out)
    return fixed if fixed != text.strip() else None


def iso_date_like(value: Any) -> bool:
    return isinstance(value, str) and bool(re.match(r"^\d{4}-\d{2}-\d{2}", value))


def currency_of(text: str) -> str | None:
    m = re.search(rf"(?<![A-Za-z]){_CURRENCY}(?![A-Za-z])", text, re.IGNORECASE)
    if not m:
        return None
    tok = m.group(0).lower().rstrip(".")
    return _CURRENCY_SYMBOLS.get(tok, tok.upper() if len(tok) == 3 else None)
