"""Group segments into chunks for embedding, following Chunkr's hierarchical chunking.

Rules, in order of precedence:

1. Segments are never split; a chunk is a run of whole segments in reading order.
2. Page furniture (``PageHeader``, ``PageFooter``, ``PageNumber``) never enters a body chunk.
   By default it is dropped, as Chunkr does with its default ``ignore_headers_and_footers``.
   When kept, each furniture segment is a chunk of its own, placed at its reading position,
   and body chunks flow across it, so a running header does not cut a paragraph's chunk in two
   at every page break (Chunkr closes the current chunk there; that only costs retrieval).
3. Segments bound together form a *unit* that is never divided between chunks:
   a ``Title``/``SectionHeader`` is bound to the unit that follows it (so consecutive headings
   stack, and a heading never ends a chunk), and a ``Caption`` is bound to its adjacent
   ``Table``/``Picture`` (see :func:`_units` for which one when both neighbours are assets).
4. A unit that starts with a heading always opens a new chunk.
5. Units are packed greedily: a chunk's token length (``count_tokens`` of
   ``CHUNK_SEPARATOR.join(embeds)``) stays <= ``target_length``, unless one unit alone is longer;
   such a unit is a chunk of its own.
6. ``target_length == 0`` gives exactly one segment per chunk (furniture still follows rule 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# count_tokens is re-exported so callers measure chunk lengths with the same cached tokenizers.
from .tokenizers import Tokenizer, count_tokens, get_tokenizer

__all__ = ["CHUNK_SEPARATOR", "ChunkItem", "build_chunks", "chunk_embed", "count_tokens"]

# Joins segment embeds into a chunk's embed text; chunk lengths are measured on that text.
CHUNK_SEPARATOR = "\n"

FURNITURE_TYPES = frozenset({"PageHeader", "PageFooter", "PageNumber"})
HEADING_TYPES = frozenset({"Title", "SectionHeader"})
ASSET_TYPES = frozenset({"Table", "Picture"})
CAPTION_TYPE = "Caption"


@dataclass(frozen=True, slots=True)
class ChunkItem:
    segment_type: str  # Chunkr SegmentType value, e.g. "Text", "Title", "PageHeader"
    embed: str  # the text that will be embedded for this segment
    # Not used by the rules (chunks may span pages, as in Chunkr); carried so callers can keep
    # one item list for chunking and for building the chunk output.
    page_number: int = 1


def chunk_embed(items: Sequence[ChunkItem], indexes: Sequence[int]) -> str:
    """The embed text of a chunk, whose token count is the chunk length."""
    return CHUNK_SEPARATOR.join(items[i].embed for i in indexes)


def build_chunks(
    items: Sequence[ChunkItem],
    target_length: int,
    tokenizer: str,
    *,
    ignore_headers_and_footers: bool = True,
) -> list[list[int]]:
    """Group item indexes into chunks (see the module docstring for the rules).

    Returns lists of ascending indexes, ordered by their first index. Raises ``ValueError`` for
    a negative ``target_length`` and ``TokenizerUnavailable`` for an unknown tokenizer.
    """
    if target_length < 0:
        raise ValueError(f"target_length must be >= 0, got {target_length}")
    tok = get_tokenizer(tokenizer)  # fail early even when target_length is 0
    body = [i for i, it in enumerate(items) if it.segment_type not in FURNITURE_TYPES]
    furniture = (
        [] if ignore_headers_and_footers else [[i] for i, it in enumerate(items) if it.segment_type in FURNITURE_TYPES]
    )
    if target_length == 0:
        body_chunks = [[i] for i in body]
    else:
        body_chunks = _pack(items, _units(items, body), target_length, tok)
    chunks = body_chunks + furniture
    chunks.sort(key=lambda c: c[0])
    return chunks


def _units(items: Sequence[ChunkItem], body: list[int]) -> list[list[int]]:
    """Split the body into units: runs of segments that must stay in one chunk."""
    n = len(body)
    types = [items[i].segment_type for i in body]
    join_next = [False] * n  # join_next[k]: body[k] and body[k + 1] are in the same unit
    claimed = [False] * n  # segment already paired as caption or captioned asset
    for k in range(n):
        t = types[k]
        if t in HEADING_TYPES:
            if k + 1 < n:
                join_next[k] = True
        elif t == CAPTION_TYPE and not claimed[k]:
            if k + 1 < n and types[k + 1] in ASSET_TYPES and not claimed[k + 1]:
                join_next[k] = claimed[k] = claimed[k + 1] = True
            elif k > 0 and types[k - 1] in ASSET_TYPES:
                # Caption below an asset that already has one above it: still its caption.
                join_next[k - 1] = claimed[k] = True
        elif t in ASSET_TYPES and not claimed[k] and k + 1 < n and types[k + 1] == CAPTION_TYPE:
            # Asset, Caption, Asset: figure captions sit below pictures and table captions above
            # tables, so a Picture keeps the caption below it, while a Table leaves it to the
            # following asset (Chunkr also gives a Picture precedence over a Table).
            next_is_free_asset = k + 2 < n and types[k + 2] in ASSET_TYPES and not claimed[k + 2]
            if t == "Picture" or not next_is_free_asset:
                join_next[k] = claimed[k] = claimed[k + 1] = True
    units: list[list[int]] = []
    current: list[int] = []
    for k, idx in enumerate(body):
        current.append(idx)
        if not join_next[k]:
            units.append(current)
            current = []
    if current:
        units.append(current)
    return units


def _pack(items: Sequence[ChunkItem], units: list[list[int]], target: int, tok: Tokenizer) -> list[list[int]]:
    flat = [i for u in units for i in u]
    counts = dict(zip(flat, tok.count_many([items[i].embed for i in flat]), strict=True))
    # Counting each segment once and summing is what keeps 10k segments well under a second;
    # the exact count of a joined chunk differs from that sum by at most about one token per
    # separator (BPE merges never cross the newline), so only candidates within that margin of
    # the target are counted exactly.
    sep_cost = tok.count(CHUNK_SEPARATOR)

    def exact(indexes: list[int]) -> int:
        return tok.count(chunk_embed(items, indexes))

    chunks: list[list[int]] = []
    current: list[int] = []
    current_est = 0
    for unit in units:
        unit_est = sum(counts[i] for i in unit) + sep_cost * (len(unit) - 1)
        opens_section = items[unit[0]].segment_type in HEADING_TYPES
        if current and not opens_section:
            est = current_est + sep_cost + unit_est
            margin = len(current) + len(unit) + 1
            if est + margin <= target or (est - margin <= target and exact(current + unit) <= target):
                current.extend(unit)
                current_est = est
                continue
        if current:
            chunks.append(current)
        current = list(unit)
        current_est = unit_est
    if current:
        chunks.append(current)
    return chunks
