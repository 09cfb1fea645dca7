"""Extraction through an OpenAI-compatible chat completions endpoint (base URL passed in, httpx).

The document goes to the model as numbered segments (`[12] (page 2, Table) ...`), split into parts
that fit `llm_context_chars`; each part is one request (map) and the parts' answers are merged field
by field in document order (reduce: first non-null leaf, concatenated rows and lists). The model
answers `{"data": <the user's schema>, "sources": [{"field": "a.b[0].c", "segments": [12]}]}` under
`response_format: json_schema`; each value is then looked up word by word inside the segments it
named, so citations stay word-precise. Confidence is High only when the value was found verbatim (as
the same typed value) in a segment the model cited and, where the server returns logprobs, the
answer's mean token probability is high.

Network errors, timeouts, 429 and 5xx are retried with exponential backoff; invalid JSON is asked
again once per attempt budget (the transport, `..llm_client`, is shared with segment generation). With
`error_handling: Continue`, a part that still fails falls back to the offline extractor's answer; with `Fail` it
raises LlmError.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from ..errors import LlmError
from ..llm_client import ChatClient, LlmEndpoint, answer_text
from .coerce import coerce_text, normalize
from .document import Document, Word
from .options import ExtractOptions
from .output import Findings, Found, KeyPath
from .schema import Node

_INSTRUCTIONS = (
    "\n\nThe document is given as numbered segments, each as `[n] (page p, type) text`. Answer with one JSON "
    'object: {"data": <values matching the schema>, "sources": [{"field": "<path>", "segments": [<n>, ...]}]}. '
    "Use null for values the document does not contain; never invent values. Copy values as printed, "
    "dates as ISO 8601 (YYYY-MM-DD), numbers as plain JSON numbers. In `sources`, give for every non-null "
    "value the numbers of the segments it was read from; <path> uses dots and [index], e.g. `items[0].price`."
)
_LOW_PROB = 0.80


def _wrapper_schema(root: Node) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "data": root.json,
            "sources": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "field": {"type": "string"},
                        "segments": {"type": "array", "items": {"type": "integer"}},
                    },
                    "required": ["field", "segments"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["data", "sources"],
        "additionalProperties": False,
    }


def _parts(doc: Document, budget: int) -> list[list[tuple[int, int, str]]]:
    """[(segment number, segment index, prompt line)] per request, each within the budget."""
    parts: list[list[tuple[int, int, str]]] = [[]]
    used = 0
    for idx, seg in enumerate(doc.segments):
        text = " ".join(seg.text.split())
        if not text:
            continue
        n = idx + 1
        line = f"[{n}] (page {seg.page_number}, {seg.segment_type}) {text}"
        if len(line) > budget:
            line = line[:budget]
        if parts[-1] and used + len(line) > budget:
            parts.append([])
            used = 0
        parts[-1].append((n, idx, line))
        used += len(line) + 1
    return [p for p in parts if p]


class _Client:
    """The extraction request (json_schema answer, logprobs while the server offers them) over the shared transport."""

    def __init__(self, options: ExtractOptions, sleep: Callable[[float], None] = time.sleep) -> None:
        self.options = options
        self.endpoint = LlmEndpoint(
            base_url=options.llm_base_url,
            api_key=options.llm_api_key,
            model=options.llm_model,
            timeout_s=options.llm_timeout_s,
            max_retries=options.llm_max_retries,
        )
        self.logprobs = True
        self.sleep = sleep

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> tuple[dict[str, Any], float | None]:
        """-> (parsed JSON answer, mean token probability or None)."""

        def body() -> dict[str, Any]:
            out: dict[str, Any] = {
                "model": self.options.llm_model,
                "messages": messages,
                "temperature": self.options.llm_temperature,
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "extraction", "schema": schema, "strict": False},
                },
            }
            if self.logprobs:
                out["logprobs"] = True
            return out

        with ChatClient(self.endpoint, what="The extraction model", sleep=self.sleep) as chat:
            return chat.complete(body, _parse_answer, ask_again=self._without_logprobs)

    def _without_logprobs(self, resp: httpx.Response) -> bool:
        if resp.status_code == 400 and self.logprobs and "logprob" in resp.text.lower():
            self.logprobs = False  # the server does not offer logprobs: ask again without
            return True
        return False


def _parse_answer(payload: Any) -> tuple[dict[str, Any], float | None]:
    choice = payload["choices"][0]
    content = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", answer_text(payload))
    try:
        answer = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg}") from None
    if not isinstance(answer, dict):
        raise ValueError("the answer is not a JSON object")
    if "data" not in answer:
        # Some servers ignore the wrapper and answer in the user's schema directly.
        answer = {"data": answer, "sources": []}
    if not isinstance(answer["data"], dict):
        raise ValueError("'data' is not an object")
    prob = None
    lp = (choice.get("logprobs") or {}).get("content") if isinstance(choice.get("logprobs"), dict) else None
    if lp:
        vals = [t.get("logprob") for t in lp if isinstance(t, dict) and isinstance(t.get("logprob"), int | float)]
        if vals:
            prob = math.exp(sum(vals) / len(vals))
    return answer, prob


def _path_key(path: str) -> KeyPath:
    out: list[Any] = []
    for m in re.finditer(r"([^.\[\]]+)|\[(\d+)\]", path.strip().lstrip("$").lstrip(".")):
        out.append(int(m.group(2)) if m.group(2) is not None else m.group(1))
    return tuple(out)


def _sources(answer: dict[str, Any]) -> dict[KeyPath, set[int]]:
    out: dict[KeyPath, set[int]] = {}
    raw = answer.get("sources")
    if not isinstance(raw, list):
        return out
    for s in raw:
        if not isinstance(s, dict) or not isinstance(s.get("field"), str):
            continue
        segs = {int(x) for x in s.get("segments") or [] if isinstance(x, int | float | str) and str(x).isdigit()}
        key = _path_key(s["field"])
        out.setdefault(key, set()).update(segs)
    return out


class _Locator:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.by_seg: dict[int, list[Word]] = {}
        for w in doc.words:
            self.by_seg.setdefault(w.seg.index, []).append(w)

    def find(self, value: Any, node: Node, segs: list[int]) -> list[Word] | None:
        for seg in segs:
            words = self.by_seg.get(seg, [])
            got = self._in(words, value, node)
            if got:
                return got
        return None

    def _in(self, words: list[Word], value: Any, node: Node) -> list[Word] | None:
        if not words:
            return None
        if node.kind == "string" and node.enum is None and not node.fmt:
            # Compare normalised token streams ("INV-2024-0042" is three tokens), then map back to words.
            target = normalize(str(value)).split()
            if not target:
                return None
            stream = [(wi, tok) for wi, w in enumerate(words) for tok in normalize(w.text).split()]
            toks = [t for _, t in stream]
            n = len(target)
            for i in range(len(toks) - n + 1):
                if toks[i : i + n] == target:
                    return words[stream[i][0] : stream[i + n - 1][0] + 1]
            return None
        for length in (1, 2, 3, 4, 5, 6):
            for i in range(len(words) - length + 1):
                span = words[i : i + length]
                got = coerce_text(" ".join(w.text for w in span), node, self.doc.day_first)
                if got is not None and got[0] == value:
                    return span
        return None


def _typed(value: Any, node: Node, day_first: bool | None) -> Any:
    """The model's value, coerced to the schema type (a wrong type becomes null)."""
    if value is None:
        return None
    if node.kind == "string" and isinstance(value, str) and node.enum is None and not node.fmt:
        return value.strip() or None
    if node.kind in ("number", "integer") and isinstance(value, int | float) and not isinstance(value, bool):
        if node.kind == "integer":
            return int(value) if float(value).is_integer() else None
        return value
    if node.kind == "boolean" and isinstance(value, bool):
        return value
    got = coerce_text(str(value), node, day_first)
    return got[0] if got else None


def _collect(
    doc: Document,
    node: Node,
    data: Any,
    key: KeyPath,
    sources: dict[KeyPath, set[int]],
    seg_of: dict[int, int],
    part_segs: list[int],
    trusted: bool,
    locator: _Locator,
    findings: Findings,
    row: dict[KeyPath, Found] | None = None,
    row_base: KeyPath = (),
) -> None:
    if node.kind == "object":
        data = data if isinstance(data, dict) else {}
        for k, child in node.properties.items():
            _collect(doc, child, data.get(k), (*key, k), sources, seg_of, part_segs, trusted, locator, findings, row,
                     row_base)  # fmt: skip
        return
    if node.kind == "array" and node.items is not None and node.items.kind == "object":
        if row is not None:
            return  # arrays of objects inside rows are not part of the contract's mirror
        rows = findings.rows.setdefault(key, [])
        for i, item in enumerate(data if isinstance(data, list) else []):
            r: dict[KeyPath, Found] = {}
            _collect(doc, node.items, item, (), sources, seg_of, part_segs, trusted, locator, findings, r, (*key, i))
            if any(f.value is not None for f in r.values()):
                rows.append(r)
        return
    full = (*row_base, *key)
    cited = [seg_of[n] for n in sorted(sources.get(full, set())) if n in seg_of]
    if node.kind == "array":
        values = [_typed(v, node.items, doc.day_first) for v in (data if isinstance(data, list) else [])]
        values = [v for v in values if v is not None]
        words: list[Word] = []
        located = True
        for v in values:
            got = locator.find(v, node.items, cited) or None
            if got is None:
                located = False
                got = locator.find(v, node.items, part_segs)
            words.extend(got or [])
        found = Found(values, words, high=bool(values) and located and trusted)
    else:
        value = _typed(data, node, doc.day_first)
        if value is None:
            found = Found(None)
        else:
            got = locator.find(value, node, cited)
            high = got is not None and trusted
            if got is None:
                got = locator.find(value, node, part_segs)
            found = Found(value, got or [], high=high)
    target = row if row is not None else findings.leaves
    target[key] = found


def _merge(into: Findings, part: Findings) -> None:
    for k, f in part.leaves.items():
        cur = into.leaves.get(k)
        empty = cur is None or cur.value is None or cur.value == []
        if empty:
            into.leaves[k] = f
        elif isinstance(cur.value, list) and isinstance(f.value, list):
            extra = [v for v in f.value if v not in cur.value]
            cur.value = [*cur.value, *extra]
            cur.words = [*cur.words, *f.words]
            cur.high = cur.high and f.high
    for k, rows in part.rows.items():
        into.rows.setdefault(k, []).extend(rows)


def extract_llm(
    doc: Document,
    root: Node,
    options: ExtractOptions,
    offline: Callable[[], Findings],
    sleep: Callable[[float], None] = time.sleep,
) -> Findings:
    client = _Client(options, sleep)
    schema = _wrapper_schema(root)
    system = options.prompt + _INSTRUCTIONS
    locator = _Locator(doc)
    merged = Findings()
    failed = 0
    parts = _parts(doc, options.llm_context_chars)
    for part in parts:
        text = "\n".join(line for _, _, line in part)
        try:
            answer, prob = client.complete([{"role": "system", "content": system}, {"role": "user", "content": text}],
                                           schema)  # fmt: skip
        except LlmError as exc:
            if options.error_handling == "Fail":
                raise
            failed += 1
            options.warnings.append(f"{exc.user_message} Used the offline extractor for that part.")
            continue
        seg_of = {n: idx for n, idx, _ in part}
        found = Findings()
        trusted = prob is None or prob >= _LOW_PROB
        _collect(doc, root, answer["data"], (), _sources(answer), seg_of, [idx for _, idx, _ in part], trusted,
                 locator, found)  # fmt: skip
        _merge(merged, found)
    if failed:
        # Continue: fill what the model could not answer from the offline extractor.
        _merge(merged, offline()) if failed == len(parts) else _fill(merged, offline())
    return merged


def _fill(merged: Findings, fallback: Findings) -> None:
    for k, f in fallback.leaves.items():
        cur = merged.leaves.get(k)
        if cur is None or cur.value is None:
            merged.leaves[k] = f
    for k, rows in fallback.rows.items():
        if not merged.rows.get(k):
            merged.rows[k] = rows
