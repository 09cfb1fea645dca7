"""What a reviewer of an extraction works with: the leaf fields of an ExtractOutputResponse by path, a typed value
from the text a reviewer typed, and the words inside a box drawn on a page (the value and citation of a correction).

A path names one leaf of `results` (API_CONTRACT §9.12: a primitive, or an array of primitives): keys joined by
dots, array indices in brackets, `line_items[2].amount`; a key that is not a plain identifier is written as a JSON
string in brackets (`totals["net (EUR)"]`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .extract.coerce import coerce_text
from .extract.document import PageSource, Word
from .extract.output import citations_for
from .extract.schema import Node, validate_extraction_schema

Keys = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PATH_TOKEN = re.compile(r'\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


class ReviewValueError(ValueError):
    """A reviewer's value that does not fit the field's type; the message says what was expected."""


@dataclass(frozen=True, slots=True)
class LeafField:
    path: str
    keys: Keys
    node: Node
    label: str  # the schema's title, else the key, as a reviewer reads it

    @property
    def kind(self) -> str:
        """string, number, integer, boolean, date, enum, or list (an array of primitives)."""
        if self.node.kind == "array":
            return "list"
        if self.node.enum is not None:
            return "enum"
        if (self.node.fmt or "").lower() in ("date", "date-time"):
            return "date"
        return self.node.kind


def path_format(keys: Keys) -> str:
    out = ""
    for key in keys:
        if isinstance(key, int):
            out += f"[{key}]"
        elif _PLAIN_KEY.match(key):
            out += f".{key}" if out else key
        else:
            out += f"[{json.dumps(key, ensure_ascii=False)}]"
    return out


def path_parse(path: str) -> Keys:
    """The keys of a path written by path_format; ValueError for anything else."""
    keys: list[str | int] = []
    at = 0
    while at < len(path):
        m = _PATH_TOKEN.match(path, at)
        if m is None or (m.group(1) and path[at] == "." and at == 0):
            raise ValueError(f"not a field path: {path!r}")
        name, index, quoted = m.groups()
        keys.append(name if name is not None else int(index) if index is not None else json.loads(quoted))
        at = m.end()
    if not keys:
        raise ValueError("an empty field path")
    return tuple(keys)


def leaf_fields(schema: dict[str, Any], results: Any) -> list[LeafField]:
    """Every leaf of `results` in schema order; an array of objects gives the leaves of each row it holds."""
    out: list[LeafField] = []

    def walk(node: Node, value: Any, keys: Keys, label: str) -> None:
        if node.is_leaf:
            out.append(LeafField(path_format(keys), keys, node, label))
        elif node.kind == "object":
            value = value if isinstance(value, dict) else {}
            for key, child in node.properties.items():
                child_label = child.title or key.replace("_", " ")
                walk(child, value.get(key), (*keys, key), f"{label} › {child_label}" if label else child_label)
        elif node.kind == "array" and node.items is not None:
            for index, item in enumerate(value if isinstance(value, list) else []):
                walk(node.items, item, (*keys, index), f"{label} {index + 1}")

    walk(validate_extraction_schema(schema), results, (), "")
    return out


def template_results(schema: dict[str, Any]) -> Any:
    """Empty results shaped by the schema, with one row in each array of objects: leaf_fields over it names every
    column a table can have (exports write their headers from it)."""

    def build(node: Node) -> Any:
        if node.is_leaf:
            return None
        if node.kind == "object":
            return {key: build(child) for key, child in node.properties.items()}
        return [build(node.items)] if node.items is not None else []

    return build(validate_extraction_schema(schema))


def tree_get(tree: Any, keys: Keys, default: Any = None) -> Any:
    for key in keys:
        try:
            tree = tree[key]
        except (KeyError, IndexError, TypeError):
            return default
    return tree


def tree_set(tree: Any, keys: Keys, value: Any) -> None:
    """Set the leaf at `keys`, making the objects on the way (never arrays: rows exist or the path is wrong)."""
    for key in keys[:-1]:
        if isinstance(key, int):
            tree = tree[key]
        else:
            tree = tree.setdefault(key, {}) if isinstance(tree, dict) else tree[key]
            if tree is None:
                raise KeyError(key)
    tree[keys[-1]] = value


def empty_value(field: LeafField) -> Any:
    return [] if field.node.kind == "array" else None


def value_from_text(field: LeafField, text: str) -> Any:
    """The reviewer's text as the field's type: '1.234,50' → 1234.5 for a number, '3 March 2024' → '2024-03-04' for a
    date, one item per line (or `;`) for a list. Empty text is the empty value."""
    text = text.strip()
    if not text:
        return empty_value(field)
    if field.node.kind == "array":
        parts = [p.strip() for p in re.split(r"[\n;]", text) if p.strip()]
        return [_one(field.node.items, part, field.path) for part in parts]
    return _one(field.node, text, field.path)


def _one(node: Node | None, text: str, path: str) -> Any:
    if node is None:
        return text
    got = coerce_text(text, node)
    if got is None:
        raise ReviewValueError(f"{path}: {text!r} is not {_expected(node)}")
    return got[0]


def _expected(node: Node) -> str:
    if node.enum is not None:
        return "one of " + ", ".join(str(o) for o in node.enum if o is not None)
    fmt = (node.fmt or "").lower()
    if fmt in ("date", "date-time"):
        return "a date"
    return {"number": "a number", "integer": "a whole number", "boolean": "yes or no"}.get(node.kind, f"a {fmt}")


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle on a page, in page units (the parse output's points or pixels), top-left origin."""

    page: int
    left: float
    top: float
    width: float
    height: float

    def holds(self, word: Word) -> bool:
        """The word's centre is inside, or for a click (a box with no area) the word is under the point."""
        if self.width <= 0 or self.height <= 0:
            return word.x0 <= self.left <= word.x1 and word.y0 <= self.top <= word.y1
        cx, cy = (word.x0 + word.x1) / 2, (word.y0 + word.y1) / 2
        return self.left <= cx <= self.left + self.width and self.top <= cy <= self.top + self.height


@dataclass(frozen=True, slots=True)
class Picked:
    text: str
    citations: list[dict[str, Any]]
    words: int


def words_in_boxes(parse_output: dict[str, Any], boxes: list[Box]) -> Picked:
    """The words of the parse output inside any of `boxes`, in reading order: their text (lines joined by a space)
    and their citations, as the extractor would cite them."""
    pages = {box.page for box in boxes}
    picked: list[Word] = []
    for page in PageSource(parse_output, pages):
        on_page = [box for box in boxes if box.page == page.number]
        picked.extend(word for word in page.words if any(box.holds(word) for box in on_page))
    picked.sort(key=lambda w: w.order)
    return Picked(" ".join(w.text for w in picked), citations_for(picked) if picked else [], len(picked))
