"""A succeeded task's output arranged for the dashboard viewer, and single segments read by their JSON path."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from tasks_app.choices import SegmentType, TaskStatus
from tasks_app.models import Task, TaskOutput

SLIM_TEXT = 280  # characters of a segment's text kept for the hover preview
SEGMENT_BOX_FIELDS = ("segment_id", "segment_type", "page_number", "bbox", "page_width", "page_height")


@dataclass(frozen=True, slots=True)
class ViewerIndex:
    """A succeeded task's output arranged for the viewer, without the heavy parts (content, OCR words).

    A dense 500-page output is ~45 MB of JSON (~150 MB as Python objects); this index is a few MB, so a
    process can keep several. Whole segments are read one at a time with `task_segment`.
    """

    pages: list[dict]
    boxes_by_page: dict[int, list[dict]]  # id/type/page/bbox/page size/text preview, reading order
    positions: dict[str, tuple[int, int]]  # segment_id -> (chunk index, index in chunk)
    chunks: list[dict]  # {"chunk_id", "chunk_length", "preview", "segments": [(segment_id, type, page, length)]}
    type_counts: dict[str, int]  # in SegmentType order, only the types present

    @property
    def segment_count(self) -> int:
        return sum(self.type_counts.values())


def task_viewer_index(*, task: Task) -> ViewerIndex | None:
    """None unless the task has an output. Memoised per process: a viewer asks for many pages of one task."""
    if task.status != TaskStatus.SUCCEEDED:
        return None
    return _viewer_index(str(task.pk), task.finished_at.isoformat() if task.finished_at else "")


def task_segment(*, task: Task, index: ViewerIndex, segment_id: str) -> dict | None:
    """One whole segment (content, OCR words, ...) read by its JSON path, not the whole output."""
    position = index.positions.get(segment_id)
    if position is None:
        return None
    chunk, offset = position
    path = f"data__chunks__{chunk}__segments__{offset}"
    return TaskOutput.objects.filter(task=task).values_list(path, flat=True).first()


def task_output_segments(*, task: Task) -> list[dict]:
    """Every segment of the output, page by page in reading order (downloads)."""
    row = TaskOutput.objects.filter(task=task).only("data").first()
    segments = [s for c in (row.data.get("chunks") or []) for s in c.get("segments") or []] if row else []
    return sorted(segments, key=lambda s: s.get("page_number") or 1)


@lru_cache(maxsize=16)
def _viewer_index(task_id: str, finished: str) -> ViewerIndex | None:
    # `finished` is part of the key so a re-run (new finished_at) never reads a stale index.
    row = TaskOutput.objects.filter(task_id=task_id).only("data").first()
    if row is None or not isinstance(row.data, dict):
        return None
    output = row.data
    by_page: dict[int, list[dict]] = {}
    positions: dict[str, tuple[int, int]] = {}
    counts: dict[str, int] = {}
    chunks = []
    for chunk_index, chunk in enumerate(output.get("chunks") or []):
        members = []
        for offset, segment in enumerate(chunk.get("segments") or []):
            box = {k: segment.get(k) for k in SEGMENT_BOX_FIELDS}
            box["preview"] = (segment.get("text") or segment.get("content") or "").strip()[: SLIM_TEXT + 1]
            page = int(segment.get("page_number") or 1)
            by_page.setdefault(page, []).append(box)
            positions[segment["segment_id"]] = (chunk_index, offset)
            kind = segment.get("segment_type") or "Unknown"
            counts[kind] = counts.get(kind, 0) + 1
            members.append((segment["segment_id"], kind, page, segment.get("segment_length")))
        chunks.append(
            {
                "chunk_id": chunk.get("chunk_id"),
                "chunk_length": chunk.get("chunk_length"),
                "preview": (chunk.get("embed") or chunk.get("content") or "")[:200],
                "segments": members,
            }
        )
    pages = [
        {k: p.get(k) for k in ("page_number", "page_width", "page_height", "image")} for p in output.get("pages") or []
    ]
    if not pages:  # outputs without page entries still get one sheet per page that has segments
        for number, boxes in sorted(by_page.items()):
            pages.append(
                {"page_number": number, "page_width": boxes[0]["page_width"], "page_height": boxes[0]["page_height"]}
            )
    order = {t: i for i, t in enumerate(SegmentType.values)}
    type_counts = dict(sorted(counts.items(), key=lambda item: order.get(item[0], len(order))))
    return ViewerIndex(pages=pages, boxes_by_page=by_page, positions=positions, chunks=chunks, type_counts=type_counts)
