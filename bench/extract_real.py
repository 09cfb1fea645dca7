"""Offline extraction on real documents: receipts (SROIE), NDAs (Kleister-NDA) and invoices.

    python bench/extract_real.py                       # all three sets, whole, parse outputs cached
    python bench/extract_real.py --sets sroie --limit 40
    python bench/extract_real.py --sroie-ocr corpus    # receipts read from the corpus's own OCR lines

Reads `../shared/corpus/{sroie-dev,kleister-nda-train,invoices-dev}` (never copied into the project).
Each document is parsed once with `parse_document` (the real path: OCR on the receipt scans, text layer on
the PDFs) and the ParseOutputResponse is cached under `var/bench-extract/` keyed by the file's bytes and the OCR
engine (`CHUNKR_OCR_ENGINE`), so later runs time only `run_extraction`. `--sroie-ocr corpus` builds the
receipts' parse output from the corpus's `box/` line transcripts instead: a separate mode (it measures the
extractor apart from our OCR), never the headline figure.

Scoring, as each set's README and the issue ask:

* sroie: mean field accuracy over company, date, address, total: exact after collapsing whitespace and case;
  the total compared as a number.
* nda: micro F1 over `key=value` pairs, values upper-cased with spaces as `_` (the GEval config), per key too.
* invoices: mean field accuracy over the annotated header fields (strings NFKC/case-folded, numbers to the
  cent, dates ISO, currency ISO, VAT rate(s) as numbers); line items paired one to one by description token
  F1 >= 0.5, a pair counts when every annotated number matches; line-item F1 over pairs.

Every value's metrics confidence is tallied: precision of High and of Low (a value is right or wrong as
above; a null is not counted). A regex baseline (first line, "TOTAL", "laws of ...", "between ... and ...",
the first date) runs over the same parse outputs in the same run.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tasks_app.engine import ParseConfig, ParseOptions, parse_document, run_extraction  # noqa: E402
from tasks_app.engine.ocr import ocr_backend  # noqa: E402

CACHE = ROOT / "var" / "bench-extract"

SROIE_SCHEMA = {
    "type": "object",
    "properties": {
        "company": {"type": "string", "description": "Name of the shop or company that issued the receipt, "
                    "usually the first line"},
        "date": {"type": "string", "description": "Date of the receipt as printed"},
        "address": {"type": "string", "description": "Postal address of the shop, all its lines"},
        "total": {"type": "string", "description": "Total amount paid, the final total at the end"},
    },
}  # fmt: skip

NDA_SCHEMA = {
    "type": "object",
    "properties": {
        "effective_date": {"type": "string", "format": "date",
                           "description": "Date from which the agreement takes effect"},
        "jurisdiction": {"type": "string", "description": "State or country whose law governs the agreement"},
        "party": {"type": "array", "items": {"type": "string"},
                  "description": "Names of the parties to the agreement (companies or people)"},
        "term": {"type": ["string", "null"], "description": "Duration of the agreement, e.g. 2 years"},
    },
}  # fmt: skip

INVOICE_SCHEMA = {
    "type": "object",
    "properties": {
        "issuer": {"type": "string", "description": "Name of the company that issued the invoice (the seller)"},
        "invoice_number": {"type": "string", "description": "Invoice number"},
        "invoice_date": {"type": "string", "format": "date", "description": "Date the invoice was issued"},
        "total": {"type": "number", "description": "Grand total including VAT"},
        "currency": {"type": "string", "description": "ISO 4217 currency code"},
        "vat_rate": {"type": ["number", "null"], "description": "VAT rate in percent"},
        "line_items": {"type": "array", "items": {"type": "object", "properties": {
            "description": {"type": "string"}, "quantity": {"type": "number"},
            "unit_price": {"type": "number"}, "amount": {"type": "number"}}}},
    },
}  # fmt: skip


def _corpus() -> Path:
    for base in ROOT.parents:
        if (base / "shared" / "corpus").is_dir():
            return base / "shared" / "corpus"
    return ROOT.parent / "shared" / "corpus"


# ---------------------------------------------------------------- parse outputs (cached)


def parse_cached(path: Path, timings: list[float]) -> dict:
    # The OCR engine is part of the key: the same scan read by another engine is another parse output.
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:20]
    hit = CACHE / f"{digest}-{ocr_backend() or 'no-ocr'}.json.gz"
    if hit.exists():
        return json.loads(gzip.decompress(hit.read_bytes()))
    cfg = ParseConfig.from_dict({"ocr_strategy": "Auto", "error_handling": "Continue"})
    t0 = time.perf_counter()
    out = parse_document(path, ParseOptions(config=cfg)).to_dict(lambda k: k)
    timings.append(time.perf_counter() - t0)
    CACHE.mkdir(parents=True, exist_ok=True)
    hit.write_bytes(gzip.compress(json.dumps(out).encode()))
    return out


def sroie_corpus_output(box: Path) -> dict:
    """A parse output whose segments are the corpus's OCR lines (pixel quads -> boxes)."""
    segs = []
    for i, row in enumerate(box.read_text(encoding="utf-8", errors="replace").splitlines()):
        parts = row.split(",", 8)
        if len(parts) < 9 or not parts[8].strip():
            continue
        xs = [float(v) for v in parts[0:8:2]]
        ys = [float(v) for v in parts[1:8:2]]
        left, top, w, h = min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)
        segs.append({
            "segment_id": f"s{i}", "segment_type": "Text", "page_number": 1, "page_width": 2000,
            "page_height": 4000, "bbox": {"left": left, "top": top, "width": w, "height": h},
            "text": parts[8].strip(),
            "ocr": [{"text": parts[8].strip(), "bbox": {"left": 0, "top": 0, "width": w, "height": h}}],
        })  # fmt: skip
    return {"chunks": [{"segments": segs}]}


# ---------------------------------------------------------------- normalising


def _ws(s: Any) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(s))).strip().casefold()


def number(s: Any) -> float | None:
    """'1.163,40' / '1,163.40' / 'RM 9.00' / -233.47 -> float."""
    if s is None or isinstance(s, bool):
        return None
    if isinstance(s, int | float):
        return float(s)
    t = re.sub(r"[^\d,.\-]", "", str(s).replace("\u2212", "-"))
    neg = t.startswith("-") or str(s).strip().startswith("(")
    t = t.replace("-", "")
    if not re.search(r"\d", t):
        return None
    last = max(t.rfind("."), t.rfind(","))
    if last >= 0 and len(t) - last - 1 in (1, 2, 3, 4) and not (len(t) - last - 1 == 3 and t.count(t[last]) > 1):
        whole, frac = re.sub(r"[.,]", "", t[:last]), t[last + 1 :]
        if len(frac) == 3 and t[last] == "," and "." not in t:
            frac = frac  # '1,234' is ambiguous; read it as decimals only when it is the only separator kind
        v = float(f"{whole or 0}.{frac}")
    else:
        v = float(re.sub(r"[.,]", "", t))
    return -v if neg else v


def same_amount(a: Any, b: Any) -> bool:
    x, y = number(a), number(b)
    return x is not None and y is not None and abs(x - y) < 0.005


# ---------------------------------------------------------------- regex baseline

_DATE_RE = re.compile(
    r"\b(\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}(?:st|nd|rd|th)? (?:Jan|Feb|Mar|Apr|May|Jun|Jul|"
    r"Aug|Sep|Oct|Nov|Dec)[a-z]* ,?\d{4}|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{1,2},? \d{4})\b",
    re.I,
)


def _text_lines(output: dict) -> list[str]:
    lines = []
    for c in output.get("chunks", []):
        for s in c.get("segments", []):
            lines.extend(ln.strip() for ln in str(s.get("text") or "").splitlines() if ln.strip())
    return lines


def baseline(set_name: str, output: dict) -> dict:
    lines = _text_lines(output)
    text = "\n".join(lines)
    out: dict[str, Any] = {}
    if set_name == "sroie":
        out["company"] = lines[0] if lines else None
        m = _DATE_RE.search(text)
        out["date"] = m.group(1) if m else None
        out["address"] = " ".join(lines[1:3]) if len(lines) > 2 else None
        tot = [re.search(r"(\d[\d,]*\.\d{2})", ln) for ln in lines if re.search(r"total", ln, re.I)]
        tot = [m.group(1) for m in tot if m]
        out["total"] = tot[-1] if tot else None
    elif set_name == "nda":
        flat = " ".join(lines)
        m = re.search(r"laws of (?:the )?(?:State of |Commonwealth of )?([A-Z][a-z]+(?: [A-Z][a-z]+)?)", flat)
        out["jurisdiction"] = m.group(1) if m else None
        m = re.search(r"between\s+(.{3,80}?)\s*(?:\(|,)\s.*?\band\s+(.{3,80}?)\s*(?:\(|,)", flat)
        out["party"] = [m.group(1), m.group(2)] if m else []
        m = _DATE_RE.search(flat)
        out["effective_date"] = _iso(m.group(1)) if m else None
        m = re.search(r"period of (\w+) \(?\d*\)? ?(year|month)s?", flat, re.I)
        out["term"] = f"{m.group(1)} {m.group(2)}s" if m else None
    else:
        out["issuer"] = lines[0] if lines else None
        m = re.search(r"(?:invoice|rechnung|facture|factuur)\s*(?:no\.?|nr\.?|number|n°|#)?\s*:?\s*([A-Z0-9][\w\-/]+)",
                      text, re.I)  # fmt: skip
        out["invoice_number"] = m.group(1) if m else None
        m = _DATE_RE.search(text)
        out["invoice_date"] = _iso(m.group(1)) if m else None
        tot = [re.findall(r"(-?\d[\d.,]*[.,]\d{2})", ln) for ln in lines if re.search(r"total|summe|montant", ln, re.I)]
        tot = [t[-1] for t in tot if t]
        out["total"] = number(tot[-1]) if tot else None
        out["currency"] = "EUR" if "€" in text or "EUR" in text else ("GBP" if "£" in text or "GBP" in text else None)
        m = re.search(r"(\d{1,2}(?:[.,]\d{1,2})?)\s?%", text)
        out["vat_rate"] = number(m.group(1)) if m else None
        out["line_items"] = []
    return out


_MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}  # fmt: skip


def _iso(s: str | None) -> str | None:
    """Loose date -> ISO, for scoring only (the extractor's own output is judged as it is)."""
    if not s:
        return None
    s = str(s).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return s
    m = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})", s)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        y += 2000 if y < 100 else 0
        mo, d = (a, b) if a <= 12 else (b, a)
        try:
            return date(y, mo, d).isoformat()
        except ValueError:
            return None
    m = re.search(r"(\d{1,2})(?:st|nd|rd|th)? ([A-Za-z]{3})[a-z]* ,?(\d{4})", s) or None
    if m:
        try:
            return date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1))).isoformat()
        except (KeyError, ValueError):
            return None
    m = re.search(r"([A-Za-z]{3})[a-z]* (\d{1,2}),? (\d{4})", s)
    if m:
        try:
            return date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2))).isoformat()
        except (KeyError, ValueError):
            return None
    return None


# ---------------------------------------------------------------- per-set scoring


class Tally:
    def __init__(self) -> None:
        self.right: dict[str, int] = defaultdict(int)
        self.total: dict[str, int] = defaultdict(int)
        self.conf: dict[str, list[int]] = {"High": [0, 0], "Low": [0, 0]}  # [right, given]
        self.extra: dict[str, float] = defaultdict(float)

    def field(self, name: str, ok: bool, value: Any = None, confidence: str | None = None) -> None:
        self.right[name] += bool(ok)
        self.total[name] += 1
        if confidence in self.conf and value not in (None, "", []):
            self.conf[confidence][0] += bool(ok)
            self.conf[confidence][1] += 1

    def mean(self) -> float:
        n = sum(self.total.values())
        return sum(self.right.values()) / n if n else 0.0


def _conf(body: dict | None, key: str) -> str | None:
    if body is None:
        return None
    m = body.get("metrics", {}).get(key)
    return m.get("confidence") if isinstance(m, dict) else None


def score_sroie(truth: dict, got: dict, body: dict | None, t: Tally) -> list[str]:
    misses = []
    for key in ("company", "date", "address", "total"):
        want, have = truth.get(key), got.get(key)
        if key == "total":
            ok = same_amount(want, have)
        else:
            ok = have is not None and _ws(want) == _ws(have)
        t.field(key, ok, have, _conf(body, key))
        if not ok:
            misses.append(f"{key}: got {have!r} want {want!r}")
    return misses


def geval(value: Any) -> str:
    """As the GEval config scores (upper-cased, spaces as `_`); `&` as `and`, as expected.tsv writes it."""
    text = re.sub(r"\s*&\s*", " and ", str(value).strip())
    return re.sub(r"\s+", "_", text).upper()


def nda_pairs(got: dict) -> set[str]:
    pairs = set()
    for key in ("effective_date", "jurisdiction", "term"):
        v = got.get(key)
        if v not in (None, ""):
            pairs.add(f"{key}={geval(v)}")
    for p in got.get("party") or []:
        if p:
            pairs.add(f"party={geval(p)}")
    return pairs


def score_nda(truth: set[str], got: dict, body: dict | None, t: Tally) -> list[str]:
    truth = {k + "=" + geval(v.replace("_", " ")) for k, v in (p.split("=", 1) for p in truth)}
    pred = nda_pairs(got)
    for key in ("effective_date", "jurisdiction", "party", "term"):
        want = {p for p in truth if p.startswith(key + "=")}
        have = {p for p in pred if p.startswith(key + "=")}
        t.extra[f"{key}:tp"] += len(want & have)
        t.extra[f"{key}:fp"] += len(have - want)
        t.extra[f"{key}:fn"] += len(want - have)
        conf = _conf(body, key)
        if key == "party":
            m = (body or {}).get("metrics", {}).get("party")
            conf = m.get("confidence") if isinstance(m, dict) else None
        if have and conf in t.conf:
            t.conf[conf][0] += len(want & have)
            t.conf[conf][1] += len(have)
    return [f"want {sorted(truth - pred)} extra {sorted(pred - truth)}"] if truth != pred else []


def _tokens(s: Any) -> list[str]:
    return re.findall(r"\w+", _ws(s))


def _token_f1(a: Any, b: Any) -> float:
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return 0.0
    common = sum(min(ta.count(w), tb.count(w)) for w in set(ta))
    if not common:
        return 0.0
    p, r = common / len(ta), common / len(tb)
    return 2 * p * r / (p + r)


def _invoice_date(v: Any) -> str | None:
    if v is None:
        return None
    return _iso(str(v)) or str(v)


def score_invoice(truth: dict, got: dict, body: dict | None, t: Tally) -> list[str]:
    misses = []
    checks: dict[str, Callable[[Any, Any], bool]] = {
        "issuer": lambda w, h: h is not None and _ws(w) == _ws(h),
        "invoice_number": lambda w, h: h is not None and _ws(w).replace(" ", "") == _ws(h).replace(" ", ""),
        "invoice_date": lambda w, h: _invoice_date(h) == w,
        "total": same_amount,
        "currency": lambda w, h: h is not None and _ws(h).replace("€", "eur") == _ws(w),
        "vat_rate": same_amount,
    }
    for key, check in checks.items():
        if key not in truth or (key == "vat_rate" and truth[key] is None):
            continue
        have = got.get(key)
        ok = bool(check(truth[key], have))
        t.field(key, ok, have, _conf(body, key))
        if key == "issuer":
            t.extra["issuer_contains:right"] += bool(have) and (
                _ws(truth[key]) in _ws(have) or _ws(have) in _ws(truth[key])
            )
        if not ok:
            misses.append(f"{key}: got {have!r} want {truth[key]!r}")
    want_rows = truth.get("line_items") or []
    have_rows = [r for r in got.get("line_items") or [] if isinstance(r, dict)]
    pairs = []
    for i, w in enumerate(want_rows):
        for j, h in enumerate(have_rows):
            f1 = _token_f1(w.get("description"), h.get("description"))
            if f1 >= 0.5:
                pairs.append((f1, i, j))
    pairs.sort(reverse=True)
    used_i, used_j, matched = set(), set(), 0
    for _, i, j in pairs:
        if i in used_i or j in used_j:
            continue
        used_i.add(i)
        used_j.add(j)
        w, h = want_rows[i], have_rows[j]
        ok = all(same_amount(w[k], h.get(k)) for k in ("quantity", "unit_price", "amount") if k in w)
        matched += ok
        for k in ("quantity", "unit_price", "amount"):
            if k in w:
                t.extra[f"line.{k}:right"] += same_amount(w[k], h.get(k))
                t.extra[f"line.{k}:total"] += 1
    t.extra["lines:tp"] += matched
    t.extra["lines:want"] += len(want_rows)
    t.extra["lines:got"] += len(have_rows)
    if matched < len(want_rows) or len(have_rows) != len(want_rows):
        misses.append(f"line items: {matched}/{len(want_rows)} right, {len(have_rows)} returned")
    return misses


# ---------------------------------------------------------------- sets


def load_sroie(corpus: Path, ocr: str) -> list[tuple[str, Callable[[list[float]], dict], Any]]:
    root = corpus / "sroie-dev"
    docs = []
    for key in sorted((root / "key").glob("*.json")):
        doc_id = key.stem
        truth = json.loads(key.read_text())
        if ocr == "corpus":
            docs.append((doc_id, lambda _t, b=root / "box" / f"{doc_id}.csv": sroie_corpus_output(b), truth))
        else:
            docs.append((doc_id, lambda t, p=root / "img" / f"{doc_id}.jpg": parse_cached(p, t), truth))
    return docs


def load_nda(corpus: Path) -> list:
    root = corpus / "kleister-nda-train"
    names = (root / "train" / "files.txt").read_text().split()
    expected = (root / "train" / "expected.tsv").read_text().splitlines()
    return [
        (name[:8], lambda t, p=root / "documents" / name: parse_cached(p, t), set(line.split()))
        for name, line in zip(names, expected, strict=True)
    ]


def load_invoices(corpus: Path) -> list:
    root = corpus / "invoices-dev"
    docs = []
    for gt in sorted((root / "gt").glob("*.json")):
        data = json.loads(gt.read_text())
        docs.append((gt.stem, lambda t, p=root / data["input"]: parse_cached(p, t), data["fields"]))
    return docs


SETS = {
    "sroie": (SROIE_SCHEMA, score_sroie),
    "nda": (NDA_SCHEMA, score_nda),
    "invoices": (INVOICE_SCHEMA, score_invoice),
}


def run_set(name: str, docs: list, verbose: bool) -> dict:
    schema, scorer = SETS[name]
    ours, base = Tally(), Tally()
    parse_times: list[float] = []
    extract_times: list[float] = []
    for doc_id, load, truth in docs:
        output = load(parse_times)
        t0 = time.perf_counter()
        body = run_extraction(output, schema)
        extract_times.append(time.perf_counter() - t0)
        misses = scorer(truth, body["results"], body, ours)
        scorer(truth, baseline(name, output), None, base)
        if verbose and misses:
            for m in misses:
                print(f"  {name} {doc_id} {m}")  # noqa: T201
    return {"ours": ours, "base": base, "parse": parse_times, "extract": extract_times, "n": len(docs)}


def _f1(tp: float, fp: float, fn: float) -> float:
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def report(name: str, res: dict) -> None:
    ours, base = res["ours"], res["base"]
    ex = res["extract"]
    print(f"\n### {name}: {res['n']} documents")  # noqa: T201
    if res["parse"]:
        print(f"parsed {len(res['parse'])} now: {sum(res['parse']):.1f} s")  # noqa: T201
    print(f"extract: mean {sum(ex) / max(1, len(ex)):.3f} s, max {max(ex, default=0):.3f} s")  # noqa: T201
    print("| field | ours | regex baseline |\n|---|---|---|")  # noqa: T201
    if name == "nda":
        totals = {"ours": [0.0, 0.0, 0.0], "base": [0.0, 0.0, 0.0]}
        for key in ("effective_date", "jurisdiction", "party", "term"):
            cells = []
            for label, t in (("ours", ours), ("base", base)):
                tp, fp, fn = (t.extra[f"{key}:{k}"] for k in ("tp", "fp", "fn"))
                totals[label] = [a + b for a, b in zip(totals[label], (tp, fp, fn), strict=True)]
                cells.append(f"F1 {_f1(tp, fp, fn):.3f} (P {tp / max(1, tp + fp):.2f} R {tp / max(1, tp + fn):.2f})")
            print(f"| {key} | {cells[0]} | {cells[1]} |")  # noqa: T201
        print(f"| **micro F1** | **{_f1(*totals['ours']):.3f}** | {_f1(*totals['base']):.3f} |")  # noqa: T201
    else:
        for key in ours.total:
            print(f"| {key} | {ours.right[key]}/{ours.total[key]} | {base.right[key]}/{base.total[key]} |")  # noqa: T201
        print(f"| **mean field accuracy** | **{ours.mean():.3f}** | {base.mean():.3f} |")  # noqa: T201
        if name == "invoices":
            e, b = ours.extra, base.extra
            print(f"| issuer contained either way | {int(e['issuer_contains:right'])}/{ours.total['issuer']} "  # noqa: T201
                  f"| {int(b['issuer_contains:right'])}/{base.total['issuer']} |")  # fmt: skip
            for k in ("quantity", "unit_price", "amount"):
                print(f"| line {k} (paired lines) | {int(e[f'line.{k}:right'])}/{int(e[f'line.{k}:total'])} | - |")  # noqa: T201
            tp, want, got = e["lines:tp"], e["lines:want"], e["lines:got"]
            base_f1 = _f1(b["lines:tp"], b["lines:got"] - b["lines:tp"], b["lines:want"] - b["lines:tp"])
            print(f"| **line-item F1** | **{_f1(tp, got - tp, want - tp):.3f}** (P {tp / max(1, got):.2f} "  # noqa: T201
                  f"R {tp / max(1, want):.2f}) | {base_f1:.3f} |")  # fmt: skip
    for level in ("High", "Low"):
        right, given = ours.conf[level]
        prec = f"{right / given:.3f}" if given else "-"
        print(f"confidence {level}: precision {prec} ({right}/{given} values)")  # noqa: T201


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="sroie,nda,invoices")
    ap.add_argument("--limit", type=int, default=0, help="only the first N documents of each set (a sample)")
    ap.add_argument("--start", type=int, default=0, help="skip the first N documents of each set")
    ap.add_argument("--parse-only", action="store_true", help="fill the parse cache, score nothing")
    ap.add_argument("--sroie-ocr", choices=("parse", "corpus"), default="parse",
                    help="receipts: our parse (OCR) output, or the corpus's OCR lines (a separate mode)")  # fmt: skip
    ap.add_argument("--corpus", default=str(_corpus()))
    ap.add_argument("-v", "--verbose", action="store_true", help="print every miss")
    args = ap.parse_args()
    corpus = Path(args.corpus)
    print(f"OCR engine: {ocr_backend() or 'none'} (CHUNKR_OCR_ENGINE picks another)")  # noqa: T201
    loaders = {
        "sroie": lambda: load_sroie(corpus, args.sroie_ocr),
        "nda": lambda: load_nda(corpus),
        "invoices": lambda: load_invoices(corpus),
    }
    for name in args.sets.split(","):
        docs = loaders[name]()
        docs = docs[args.start : args.start + args.limit] if args.limit else docs[args.start :]
        if args.parse_only:
            timings: list[float] = []
            for _, load, _ in docs:
                load(timings)
            print(f"{name}: parsed {len(timings)} in {sum(timings):.1f} s")  # noqa: T201
            continue
        label = (
            f"{name} (receipts from the corpus OCR lines)" if name == "sroie" and args.sroie_ocr == "corpus" else name
        )
        report(label, run_set(name, docs, args.verbose))


if __name__ == "__main__":
    main()
