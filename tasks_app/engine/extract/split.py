"""Split a parsed document into topic sections by whole pages (API_CONTRACT §13.5).

Offline: each page is scored against each topic's name + description: the weighted share of the
topic's words that occur on the page, where a word weighs more the fewer topics use it (so words
that separate topics decide) and the name counts double; BM25 over the pages breaks ties. A page
goes to its best topic when that share clears a floor, else to `unassigned_pages`. A page
with weak evidence that sits between pages of one topic (a continuation page of a long section)
joins that topic with Low confidence. With an LLM endpoint, the model assigns pages instead and
the lexical scores set the confidence.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from ..errors import ConfigError
from .coerce import normalize
from .document import Document
from .labels import _stem
from .llm import LlmError, _Client
from .options import ExtractOptions

MAX_TOPICS = 50
_STOP = frozenset(
    "a an the of for to in on at by and or is are was be this that these those with from as it its any all "
    "section page pages document part contains containing includes including about which where who".split()
)


def validate_topics(topics: Any) -> list[dict[str, str]]:
    if not isinstance(topics, list) or not topics:
        raise ConfigError("topics: must be a non-empty array of {name, description}")
    if len(topics) > MAX_TOPICS:
        raise ConfigError(f"topics: at most {MAX_TOPICS} topics are allowed (got {len(topics)})")
    seen: set[str] = set()
    out = []
    for i, t in enumerate(topics):
        if not isinstance(t, dict):
            raise ConfigError(f"topics[{i}]: must be an object with name and description")
        name, desc = t.get("name"), t.get("description", "")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"topics[{i}].name: must be a non-empty string")
        if desc is None:
            desc = ""
        if not isinstance(desc, str):
            raise ConfigError(f"topics[{i}].description: must be a string")
        if name in seen:
            raise ConfigError(f"topics[{i}].name: duplicate topic name {name!r}")
        seen.add(name)
        out.append({"name": name, "description": desc})
    return out


def _tokens(text: str) -> list[str]:
    return [_stem(w) for w in normalize(text).split() if w not in _STOP and len(w) > 1 and not w.isdigit()]


def bm25_scores(pages: list[list[str]], query: list[str], k1: float = 1.4, b: float = 0.6) -> list[float]:
    n = len(pages)
    avg = sum(len(p) for p in pages) / max(1, n) or 1.0
    df = Counter(t for p in pages for t in set(p))
    counts = [Counter(p) for p in pages]
    out = []
    for p, c in zip(pages, counts, strict=True):
        s = 0.0
        for t in set(query):
            if t not in c:
                continue
            idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
            tf = c[t]
            s += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(p) / avg))
        out.append(s)
    return out


def _lexical(doc: Document, topics: list[dict[str, str]]) -> tuple[list[int], list[list[float]]]:
    """scores[topic][page]: weighted coverage of the topic's words on the page (0..~1.3)."""
    pages = doc.pages
    page_tokens = [_tokens(doc.page_text(p)) for p in pages]
    page_counts = [Counter(p) for p in page_tokens]
    queries = []
    for t in topics:
        weights: dict[str, float] = {}
        for tok in _tokens(t["description"]):
            weights[tok] = 1.0
        for tok in _tokens(t["name"]):
            weights[tok] = 2.0  # the name is the user's shortest statement of the topic
        queries.append(weights)
    topic_df = Counter(tok for q in queries for tok in q)
    n_topics = len(topics)
    scores = []
    for q in queries:
        w = {tok: v * math.log(1 + n_topics / topic_df[tok]) for tok, v in q.items()}
        total = sum(w.values()) or 1.0
        bm = bm25_scores(page_tokens, list(q))
        row = []
        for c, b in zip(page_counts, bm, strict=True):
            cov = sum(v * (1 + 0.15 * min(3.0, math.log(c[tok]))) for tok, v in w.items() if tok in c) / total
            row.append(cov + 0.01 * b)
        scores.append(row)
    return pages, scores


def split_pages(doc: Document, topics: Any, options: ExtractOptions) -> dict[str, Any]:
    topics = validate_topics(topics)
    pages, scores = _lexical(doc, topics)
    if options.llm_base_url:
        assigned = _llm_assign(doc, topics, options)
        if assigned is not None:
            return _output(topics, pages, assigned, scores, from_llm=True)
    floor = 0.2
    assigned: dict[int, tuple[int, bool]] = {}  # page -> (topic, high)
    for pi, page in enumerate(pages):
        col = [scores[ti][pi] for ti in range(len(topics))]
        order = sorted(range(len(topics)), key=lambda ti: -col[ti])
        top = order[0]
        second = col[order[1]] if len(order) > 1 else 0.0
        if col[top] >= floor:
            assigned[page] = (top, col[top] >= 0.35 and col[top] >= 1.6 * second)
    # Continuation pages: unmatched pages between two pages of the same topic belong to it.
    for pi, page in enumerate(pages):
        if page in assigned:
            continue
        before = next((assigned[p] for p in reversed(pages[:pi]) if p in assigned), None)
        after = next((assigned[p] for p in pages[pi + 1 :] if p in assigned), None)
        if before and after and before[0] == after[0]:
            assigned[page] = (before[0], False)
    return _output(topics, pages, {p: v for p, v in assigned.items()}, scores, from_llm=False)


def _output(
    topics: list[dict[str, str]],
    pages: list[int],
    assigned: dict[int, tuple[int, bool]],
    scores: list[list[float]],
    from_llm: bool,
) -> dict[str, Any]:
    out = []
    for ti, t in enumerate(topics):
        mine = sorted(p for p, (x, _) in assigned.items() if x == ti)
        high = bool(mine) and all(assigned[p][1] for p in mine)
        out.append({"name": t["name"], "pages": mine, "confidence": "High" if high else "Low"})
    return {"topics": out, "unassigned_pages": [p for p in pages if p not in assigned]}


def _llm_assign(doc: Document, topics: list[dict[str, str]], options: ExtractOptions) -> dict | None:
    budget = max(400, options.llm_context_chars // max(1, len(doc.pages)))
    listing = "\n".join(f"- {t['name']}: {t['description']}" for t in topics)
    body = "\n\n".join(f"<page {p}>\n{doc.page_text(p)[:budget]}\n</page>" for p in doc.pages)
    names = [t["name"] for t in topics]
    schema = {
        "type": "object",
        "properties": {
            "pages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "page": {"type": "integer"},
                        "topic": {"type": ["string", "null"], "enum": [*names, None]},
                        "confident": {"type": "boolean"},
                    },
                    "required": ["page", "topic", "confident"],
                },
            }
        },
        "required": ["pages"],
    }
    system = (
        "You split documents into sections. Assign each page to at most one of these topics, or null when "
        f"the page matches none:\n{listing}\nAnswer as JSON: "
        '{"pages": [{"page": <number>, "topic": <name or null>, "confident": <bool>}]}'
    )
    try:
        answer, _ = _Client(options).complete(
            [{"role": "system", "content": system}, {"role": "user", "content": body}], schema
        )
    except LlmError as exc:
        if options.error_handling == "Fail":
            raise
        options.warnings.append(f"{exc.user_message} Used lexical matching for the split.")
        return None
    data = answer.get("data", answer)
    rows = data.get("pages") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        options.warnings.append("The model's split answer had no page list; used lexical matching.")
        return None
    out: dict[int, tuple[int, bool]] = {}
    for r in rows:
        if not isinstance(r, dict) or r.get("topic") not in names:
            continue
        try:
            page = int(r.get("page"))
        except (TypeError, ValueError):
            continue
        if page in doc.pages and page not in out:
            out[page] = (names.index(r["topic"]), bool(r.get("confident", True)))
    return out
