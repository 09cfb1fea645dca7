"""Label/value candidates on a page: every place the page pairs a label with a value.

`Label: value` on a line (several per line too); a label with a value to its right or directly
below (form fields, key-value grids, boxed header rows, a table header over its first cell); blocks
of lines under a label (addresses); checkboxes; a label and an amount or date with only a space
between them; labels printed letter above letter down a margin. A label at the foot of a page may
take its value from the top of the next one (`candidates(page, next_page)`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import labels as lb
from .document import CHECK_OFF, CHECK_ON, Line, Page, Phrase, Word


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


def is_colon(w: Word) -> bool:
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
        if nxt is None or is_colon(nxt.words[-1]) or any(is_colon(w) for w in nxt.words[:4]):
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
            colons = [i for i, w in enumerate(words) if is_colon(w)]
            right = phrases[pi + 1] if pi + 1 < len(phrases) else None
            if colons:
                out.extend(_inline_cands(words, colons))
                if colons[-1] == len(words) - 1:
                    start = colons[-2] + 1 if len(colons) > 1 else 0
                    lab_words = words[start:]
                    out.extend(_label_cands(pages, line, lab_words, p, right, colon=True))
            elif lb.looks_like_label(p.text):
                out.extend(_label_cands(pages, line, words, p, right, colon=False))
            else:
                out.extend(_tight_cands(words))
    out.extend(_vertical_cands(pages))
    _name_under_party(page.lines, out)
    return out


# Labels that say "the name" without saying whose: the heading above them says whose.
_BARE_NAMES = frozenset(
    ("name", "firma", "firmenname", "nom", "raison sociale", "denomination", "naam", "bedrijfsnaam", "company",
     "company name", "legal name", "trade name", "business name")
)  # fmt: skip


def _name_under_party(lines: list[Line], cands: list[Cand]) -> None:
    """'Name: ELEKTRON GmbH' printed under a 'Verkäufer' (Seller) heading is the seller's name, and under
    'Käufer' the buyer's: a bare name label takes the nearest party heading above it in its column, within a few
    lines and with no wider gap than a blank line between, in front of its text ('Verkäufer Name')."""
    at = {ln.index: i for i, ln in enumerate(lines)}
    for c in cands:
        if c.kind not in ("inline", "right", "below", "block") or not c.label_words:
            continue
        if lb.norm_label(c.label) not in _BARE_NAMES:
            continue
        first = c.label_words[0]
        i = at.get(first.line)
        if i is None:
            continue
        h = max(1.0, first.h)
        top = lines[i].y0
        for ln in reversed(lines[max(0, i - 6) : i]):
            if top - ln.y1 > 2.5 * h:
                break  # a wider gap: another section
            top = ln.y0
            heading = _party_heading(ln, first.x0, h)
            if heading is not None:
                c.label = f"{heading} {c.label}"
                break


def _party_heading(line: Line, x0: float, h: float) -> str | None:
    """The phrase of `line` starting in the column at `x0`, when it names a party and nothing else."""
    for p in line.phrases:
        if abs(p.x0 - x0) > 3 * h:
            continue
        text = _strip_colon(p.text)
        words = lb.norm_label(text).split()
        if not words or len(words) > 3 or any(ch.isdigit() for ch in text):
            return None
        named = [w for w in words if lb.concepts(w) & lb.PARTY_CONCEPTS]
        return text if named and len(named) + sum(w in lb.NAME_WORDS for w in words) == len(words) else None
    return None


def _vertical_cands(pages: _Pages) -> list[Cand]:
    """Labels printed letter above letter down a margin ('S O L D  T O' beside an address block).

    A stack is three or more one-letter words in one column, evenly spaced; a wider step inside it
    is a space. The lines to its right over the stack's height are its value block.
    """
    letters = [
        (ln, w)
        for ln in pages.lines
        for w in ln.words
        if len(w.text) == 1 and (w.text.isalpha() and w.text.isupper() or w.text == "0")
    ]
    out: list[Cand] = []
    used: set[int] = set()
    for i, (_, first) in enumerate(letters):
        if id(first) in used:
            continue
        stack = [first]
        steps: list[float] = []
        for _, w in letters[i + 1 :]:
            if id(w) in used or abs(w.cx - stack[-1].cx) > max(2.0, 0.6 * (w.x1 - w.x0 + stack[-1].x1 - stack[-1].x0)):
                continue
            step = w.y0 - stack[-1].y0
            if step <= 0.5 * w.h or (steps and step > 2.2 * min(steps)):
                if step > 0.5 * w.h:
                    break
                continue
            stack.append(w)
            steps.append(step)
        if len(stack) < 3:
            continue
        used.update(id(w) for w in stack)
        unit = min(steps)
        text = stack[0].text
        for w, step in zip(stack[1:], steps, strict=True):
            text += (" " if step > 1.5 * unit else "") + w.text
        label = text.replace("0", "O")
        if not lb.concepts(label):
            continue
        top, bottom = stack[0].y0, stack[-1].y1
        x1 = max(w.x1 for w in stack)
        block: list[list[Word]] = []
        for ln in pages.lines:
            cy = (ln.y0 + ln.y1) / 2
            if not top - unit <= cy <= bottom + unit:
                continue
            right = next((q for q in ln.phrases if q.x0 > x1 and q.x0 - x1 < 12 * (stack[0].y1 - stack[0].y0)), None)
            if right is not None:
                block.append(right.words)
        if block:
            out.append(Cand(label, stack, block[0], "right", 0.9))
            out.append(Cand(label, stack, block[0], "block", 0.9, lines=block))
    return out


_AMOUNT_OR_DATE = re.compile(
    r"^[-+(]?[$€£]?\s*\d[\d,.' ]*[.,]\d{2}\s*[-)%]?(\s*[A-Z]{3}|\s*[$€£])?$|^\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}$"
)


def _tight_cands(words: list[Word]) -> list[Cand]:
    """'GROSS AMOUNT 4,759.20' with no colon and only a space between: the label, then the value.

    Only an amount (with decimals) or a numeric date counts as the value here, so a table row
    ('Item number 5') or running text does not turn into a label and a value.
    """
    for i in range(1, min(5, len(words))):
        head, tail = words[:i], words[i:]
        if not re.match(r"^[-+($€£]?\d", tail[0].text) or not re.match(r"^[A-Za-z]", words[i - 1].text):
            continue
        label = " ".join(w.text for w in head)
        value = " ".join(w.text for w in tail)
        if lb.looks_like_label(label) and _AMOUNT_OR_DATE.match(value.replace(" .", ".").replace(" ,", ",")):
            return [Cand(label, head, tail, "inline", 0.9)]
        return []
    return []


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
    header = len(line.phrases) >= 3 and not colon
    if header:
        # A header cell of a table: its "value" below is the first row, weaker than a labelled field.
        w_below = 0.8
    if right is not None:
        if right.x0 - p.x1 > 14 * max(1.0, p.y1 - p.y0):
            w_right *= 0.95  # receipts put values far right; still the value, a little less sure
        out.append(Cand(label, lab_words, right.words, "right", w_right))
        block = _block_from(pages, right)
        out.append(Cand(label, lab_words, right.words, "block", w_right, lines=[q.words for q in block]))
    # Boxed header rows (forms, invoice footers) leave a taller gap above their values.
    below = _below(pages, lab_phrase, max_gap=4.5 if header else 2.2)
    if below is not None and not any(is_colon(w) for w in below.words[:-1]):
        value_words = below.words
        if is_colon(value_words[-1]):
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
