"""JSON Schema (as written for Pydantic / Zod models) -> a small typed tree the extractors walk.

Supported: object/properties/required, title/description, the primitive types, enum/const, format
(date, date-time, email; other formats are kept as annotations), arrays (of primitives or objects),
nested objects, nullability via `type: [x, "null"]` or `anyOf`/`oneOf` with `{"type": "null"}`,
single-element `allOf` (Pydantic v1 wraps `$ref`s in it) and local `$ref` into `$defs`/`definitions`.
Validation keywords (minimum, pattern, ...) and annotations are accepted and ignored.

Anything else raises `SchemaError` whose `path` is the JSON path of the offending node, e.g.
`$.properties.lines.items.properties.qty.type`; the API answers 400 with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import EngineError

PRIMITIVES = ("string", "number", "integer", "boolean")
MAX_DEPTH = 12
MAX_LEAVES = 500

_UNSUPPORTED = {
    "not": "'not' is not supported",
    "if": "conditional schemas (if/then/else) are not supported",
    "then": "conditional schemas (if/then/else) are not supported",
    "else": "conditional schemas (if/then/else) are not supported",
    "patternProperties": "patternProperties is not supported; list the properties to extract",
    "prefixItems": "tuple arrays (prefixItems) are not supported",
    "dependentSchemas": "dependentSchemas is not supported",
    "dependentRequired": "dependentRequired is not supported",
    "propertyNames": "propertyNames is not supported",
    "contains": "'contains' is not supported",
    "$dynamicRef": "$dynamicRef is not supported",
    "$recursiveRef": "$recursiveRef is not supported",
}


class SchemaError(EngineError):
    """The extraction schema is invalid or uses a construct the engine cannot extract.

    `path` is the JSON path of the problem inside the submitted schema (`$` = the root).
    """

    default_message = "The extraction schema is invalid."

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"Invalid schema at {path}: {problem}")


@dataclass(slots=True)
class Node:
    """One schema position. `kind` is object, array or a primitive type name."""

    kind: str
    path: str  # JSON path in the submitted schema
    name: str = ""  # property name ("" for the root and array items)
    title: str | None = None
    description: str | None = None
    nullable: bool = False
    fmt: str | None = None
    enum: tuple[Any, ...] | None = None
    properties: dict[str, Node] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    items: Node | None = None
    json: dict[str, Any] = field(default_factory=dict)  # resolved schema, for the LLM prompt

    @property
    def is_leaf(self) -> bool:
        """A leaf per API_CONTRACT §9.12: a primitive, or an array of primitives."""
        return self.kind in PRIMITIVES or (self.kind == "array" and self.items is not None and self.items.is_leaf)


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


class _Parser:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root
        self.leaves = 0
        self.defs: dict[str, Any] = {}
        for key in ("$defs", "definitions"):
            raw = root.get(key)
            if raw is None:
                continue
            if not isinstance(raw, dict):
                raise SchemaError(f"$.{key}", f"must be an object, got {_type_name(raw)}")
            for name, sub in raw.items():
                self.defs[f"#/{key}/{name}"] = (sub, f"$.{key}{_seg(name)}")

    def resolve(self, schema: dict[str, Any], path: str, stack: tuple[str, ...]) -> tuple[dict, str, tuple[str, ...]]:
        """Follow $ref / single allOf, merging sibling annotations (Pydantic puts description beside $ref)."""
        for _ in range(32):
            if "$ref" in schema:
                ref = schema["$ref"]
                if not isinstance(ref, str):
                    raise SchemaError(f"{path}.$ref", "must be a string")
                if not ref.startswith("#/"):
                    raise SchemaError(f"{path}.$ref", f"only local references (#/$defs/...) are supported, got {ref!r}")
                if ref in stack:
                    raise SchemaError(f"{path}.$ref", f"recursive reference {ref!r} is not supported")
                target = self.defs.get(ref)
                if target is None:
                    raise SchemaError(f"{path}.$ref", f"reference {ref!r} does not exist")
                sub, sub_path = target
                if not isinstance(sub, dict):
                    raise SchemaError(sub_path, f"must be an object, got {_type_name(sub)}")
                siblings = {k: v for k, v in schema.items() if k != "$ref"}
                schema, path, stack = {**sub, **siblings}, sub_path, (*stack, ref)
                continue
            all_of = schema.get("allOf")
            if all_of is not None:
                if not isinstance(all_of, list) or len(all_of) != 1 or not isinstance(all_of[0], dict):
                    raise SchemaError(f"{path}.allOf", "only a single-element allOf (a wrapped $ref) is supported")
                siblings = {k: v for k, v in schema.items() if k != "allOf"}
                schema = {**all_of[0], **siblings}
                continue
            return schema, path, stack
        raise SchemaError(path, "reference chain is too long")

    def parse(self, schema: Any, path: str, name: str, depth: int, stack: tuple[str, ...]) -> Node:
        if depth > MAX_DEPTH:
            raise SchemaError(path, f"nesting deeper than {MAX_DEPTH} levels is not supported")
        if not isinstance(schema, dict):
            raise SchemaError(path, f"must be a schema object, got {_type_name(schema)}")
        schema, path, stack = self.resolve(schema, path, stack)
        for key in schema:
            if key in _UNSUPPORTED:
                raise SchemaError(f"{path}.{key}", _UNSUPPORTED[key])
        nullable = schema.get("nullable") is True
        for key in ("anyOf", "oneOf"):
            if key in schema:
                schema, path, stack, nullable = self._union(schema, key, path, stack, nullable)
        title = schema.get("title")
        description = schema.get("description")
        for key, val in (("title", title), ("description", description)):
            if val is not None and not isinstance(val, str):
                raise SchemaError(f"{path}.{key}", "must be a string")
        kind, type_null = self._type(schema, path)
        nullable = nullable or type_null
        node = Node(kind=kind, path=path, name=name, title=title, description=description, nullable=nullable)
        fmt = schema.get("format")
        if fmt is not None:
            if not isinstance(fmt, str):
                raise SchemaError(f"{path}.format", "must be a string")
            node.fmt = fmt
        if "enum" in schema or "const" in schema:
            node.enum = self._enum(schema, path, kind)
        if kind == "object":
            self._object(node, schema, path, depth, stack)
        elif kind == "array":
            items = schema.get("items")
            if items is None:
                raise SchemaError(path, "an array needs 'items' describing its elements")
            if isinstance(items, list):
                raise SchemaError(f"{path}.items", "tuple arrays (items as a list) are not supported")
            node.items = self.parse(items, f"{path}.items", name, depth + 1, stack)
            if node.items.kind == "array":
                raise SchemaError(f"{path}.items", "arrays of arrays are not supported")
            if node.items.is_leaf:
                self._count(path)
        else:
            self._count(path)
        node.json = self._json(node)
        return node

    def _count(self, path: str) -> None:
        self.leaves += 1
        if self.leaves > MAX_LEAVES:
            raise SchemaError(path, f"more than {MAX_LEAVES} fields to extract")

    def _union(self, schema: dict, key: str, path: str, stack: tuple, nullable: bool) -> tuple:
        options = schema[key]
        if not isinstance(options, list) or not options:
            raise SchemaError(f"{path}.{key}", "must be a non-empty array of schemas")
        rest = []
        for i, opt in enumerate(options):
            if not isinstance(opt, dict):
                raise SchemaError(f"{path}.{key}[{i}]", f"must be a schema object, got {_type_name(opt)}")
            if opt.get("type") == "null" and len(opt) <= 3:
                nullable = True
            else:
                rest.append((i, opt))
        if not rest:
            raise SchemaError(f"{path}.{key}", "a union of only null cannot hold a value")
        if len(rest) > 1:
            # Pydantic writes Decimal as number|string: a union of primitives extracts as its first branch.
            resolved = [self.resolve(o, f"{path}.{key}[{i}]", stack)[0] for i, o in rest]
            kinds = [r.get("type") for r in resolved]
            if not all(isinstance(k, str) and k in PRIMITIVES for k in kinds):
                raise SchemaError(
                    f"{path}.{key}", "unions of different structures are not supported (only X | null, or primitives)"
                )
        i, chosen = rest[0]
        merged = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
        sub, sub_path, sub_stack = self.resolve(chosen, f"{path}.{key}[{i}]", stack)
        return {**sub, **merged}, sub_path, sub_stack, nullable

    def _type(self, schema: dict, path: str) -> tuple[str, bool]:
        t = schema.get("type")
        if t is None:
            if "properties" in schema:
                return "object", False
            if "items" in schema:
                return "array", False
            values = schema.get("enum", [schema["const"]] if "const" in schema else None)
            if isinstance(values, list) and values:
                kinds = {_json_kind(v) for v in values if v is not None}
                if len(kinds) == 1:
                    return kinds.pop(), None in values
            raise SchemaError(path, "missing 'type'")
        if isinstance(t, list):
            names = [x for x in t if x != "null"]
            if not all(isinstance(x, str) for x in t) or len(names) != 1:
                raise SchemaError(f"{path}.type", f'only one type plus optional "null" is supported, got {t!r}')
            kind, null = names[0], True
        elif isinstance(t, str):
            kind, null = t, False
        else:
            raise SchemaError(f"{path}.type", f"must be a string or an array of strings, got {_type_name(t)}")
        if kind == "null":
            raise SchemaError(f"{path}.type", "a field of type null cannot hold a value")
        if kind not in (*PRIMITIVES, "object", "array"):
            raise SchemaError(f"{path}.type", f"unknown type {kind!r}")
        return kind, null

    def _enum(self, schema: dict, path: str, kind: str) -> tuple[Any, ...]:
        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list) or not values:
                raise SchemaError(f"{path}.enum", "must be a non-empty array")
            key = "enum"
        else:
            values, key = [schema["const"]], "const"
        if kind not in PRIMITIVES:
            raise SchemaError(f"{path}.{key}", f"enum/const is only supported on primitive types, not {kind}")
        for i, v in enumerate(values):
            if v is None:
                continue
            if _json_kind(v) != kind and not (kind == "number" and _json_kind(v) == "integer"):
                where = f"{path}.enum[{i}]" if key == "enum" else f"{path}.const"
                raise SchemaError(where, f"value {v!r} is not of type {kind}")
        return tuple(values)

    def _object(self, node: Node, schema: dict, path: str, depth: int, stack: tuple) -> None:
        props = schema.get("properties")
        if props is None or props == {}:
            raise SchemaError(path, "an object needs 'properties' listing the fields to extract")
        if not isinstance(props, dict):
            raise SchemaError(f"{path}.properties", f"must be an object, got {_type_name(props)}")
        for key, sub in props.items():
            node.properties[key] = self.parse(sub, f"{path}.properties{_seg(key)}", key, depth + 1, stack)
        req = schema.get("required", [])
        if not isinstance(req, list):
            raise SchemaError(f"{path}.required", "must be an array of property names")
        for i, r in enumerate(req):
            if not isinstance(r, str) or r not in props:
                raise SchemaError(f"{path}.required[{i}]", f"{r!r} is not one of the properties")
        node.required = tuple(req)

    def _json(self, node: Node) -> dict[str, Any]:
        """A self-contained (ref-free) schema for the node, sent to the LLM."""
        out: dict[str, Any] = {}
        if node.kind == "object":
            out = {
                "type": ["object", "null"] if node.nullable else "object",
                "properties": {k: v.json for k, v in node.properties.items()},
                "required": list(node.properties),
                "additionalProperties": False,
            }
        elif node.kind == "array":
            out = {"type": ["array", "null"] if node.nullable else "array", "items": node.items.json}
        else:
            out = {"type": [node.kind, "null"]}
        for attr, key in (("title", "title"), ("description", "description"), ("fmt", "format")):
            if getattr(node, attr):
                out[key] = getattr(node, attr)
        if node.enum is not None:
            out["enum"] = [*node.enum, *([None] if None not in node.enum else [])]
        return out


def _json_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    return "object" if isinstance(v, dict) else "array"


_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _seg(key: str) -> str:
    return f".{key}" if _SIMPLE_KEY.match(key) else f"[{key!r}]"


def validate_extraction_schema(schema: Any) -> Node:
    """Parse and check an extraction schema; returns the typed tree. Raises SchemaError(path, problem)."""
    if not isinstance(schema, dict):
        raise SchemaError("$", f"the schema must be a JSON object, got {_type_name(schema)}")
    parser = _Parser(schema)
    node = parser.parse(schema, "$", "", 0, ())
    if node.kind != "object":
        raise SchemaError("$.type", f"the root of an extraction schema must be an object, got {node.kind}")
    return node


def iter_leaves(node: Node, prefix: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Node]]:
    """(key path, node) for every leaf reachable without entering arrays of objects."""
    if node.is_leaf:
        return [(prefix, node)]
    if node.kind == "object":
        out = []
        for key, child in node.properties.items():
            out.extend(iter_leaves(child, (*prefix, key)))
        return out
    return []
