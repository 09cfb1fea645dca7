from __future__ import annotations

import pytest

from tasks_app.engine import EngineError, SchemaError, validate_extraction_schema


def _obj(**props):
    return {"type": "object", "properties": props}


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ([1, 2], "$"),
        ({"type": "array", "items": {"type": "string"}}, "$.type"),
        ({"type": "object"}, "$"),
        (_obj(a={"type": "strng"}), "$.properties.a.type"),
        (_obj(a={"type": ["string", "integer"]}), "$.properties.a.type"),
        (_obj(a={"type": "null"}), "$.properties.a.type"),
        (_obj(a={"description": "no type"}), "$.properties.a"),
        (_obj(a={"type": "array"}), "$.properties.a"),
        (_obj(a={"type": "array", "items": [{"type": "string"}]}), "$.properties.a.items"),
        (_obj(a={"type": "array", "items": {"type": "array", "items": {"type": "string"}}}), "$.properties.a.items"),
        (_obj(a={"type": "object", "properties": {}}), "$.properties.a"),
        (_obj(a={"type": "string", "enum": []}), "$.properties.a.enum"),
        (_obj(a={"type": "string", "enum": ["x", 3]}), "$.properties.a.enum[1]"),
        (_obj(a={"$ref": "#/$defs/Missing"}), "$.properties.a.$ref"),
        (_obj(a={"$ref": "https://example.com/s.json"}), "$.properties.a.$ref"),
        ({**_obj(a={"$ref": "#/$defs/Node"}), "$defs": {"Node": _obj(child={"$ref": "#/$defs/Node"})}},
         "$.$defs.Node.properties.child.$ref"),
        (_obj(a={"anyOf": [_obj(x={"type": "string"}), {"type": "string"}]}), "$.properties.a.anyOf"),
        (_obj(a={"oneOf": [{"type": "null"}]}), "$.properties.a.oneOf"),
        (_obj(a={"allOf": [{"type": "string"}, {"type": "integer"}]}), "$.properties.a.allOf"),
        (_obj(a={"type": "string", "not": {"const": "x"}}), "$.properties.a.not"),
        (_obj(a={"type": "object", "patternProperties": {".*": {}}}), "$.properties.a.patternProperties"),
        (_obj(a={"type": "object", "properties": {"b": {"type": "string"}}, "if": {}}), "$.properties.a.if"),
        ({**_obj(a={"type": "string"}), "required": ["a", "b"]}, "$.required[1]"),
        (_obj(**{"odd key": {"type": "bogus"}}), "$.properties['odd key'].type"),
        (_obj(a={"type": "string", "title": 5}), "$.properties.a.title"),
        ({**_obj(a={"$ref": "#/$defs/X"}), "$defs": []}, "$.$defs"),
    ],
)  # fmt: skip
def test_invalid_or_unsupported_schema_names_the_json_path(schema, path):
    with pytest.raises(SchemaError) as err:
        validate_extraction_schema(schema)
    assert err.value.path == path
    assert isinstance(err.value, EngineError)
    assert err.value.user_message.startswith(f"Invalid schema at {path}: ")


def test_pydantic_v2_model_schema_is_accepted():
    # What `Invoice.model_json_schema()` emits for Optional, Decimal, date, enum, nested list and $defs.
    schema = {
        "$defs": {
            "Line": {"properties": {"sku": {"title": "Sku", "type": "string"},
                                    "price": {"anyOf": [{"type": "number"}, {"type": "string"}], "title": "Price"}},
                     "required": ["sku", "price"], "title": "Line", "type": "object"},
            "Status": {"enum": ["paid", "open"], "title": "Status", "type": "string"},
        },
        "properties": {
            "number": {"description": "Invoice number", "title": "Number", "type": "string"},
            "issued": {"format": "date", "title": "Issued", "type": "string"},
            "due": {"anyOf": [{"format": "date", "type": "string"}, {"type": "null"}], "default": None},
            "status": {"$ref": "#/$defs/Status", "description": "Payment status"},
            "lines": {"items": {"$ref": "#/$defs/Line"}, "title": "Lines", "type": "array"},
            "tags": {"items": {"type": "string"}, "type": "array"},
        },
        "required": ["number", "issued", "status", "lines"],
        "title": "Invoice",
        "type": "object",
    }  # fmt: skip
    root = validate_extraction_schema(schema)
    assert root.properties["due"].nullable and root.properties["due"].fmt == "date"
    assert root.properties["status"].enum == ("paid", "open")
    assert root.properties["status"].description == "Payment status"
    assert root.properties["lines"].items.properties["price"].kind == "number"
    assert root.properties["tags"].is_leaf and not root.properties["lines"].is_leaf


def test_zod_to_json_schema_output_is_accepted():
    schema = {
        "type": "object",
        "properties": {
            "email": {"type": "string", "format": "email"},
            "age": {"type": ["integer", "null"]},
            "when": {"type": "string", "format": "date-time"},
            "kind": {"type": "string", "const": "person"},
            "ok": {"type": "boolean"},
            "address": {"type": "object", "properties": {"city": {"type": "string"}}, "additionalProperties": False},
        },
        "required": ["email"],
        "additionalProperties": False,
        "$schema": "http://json-schema.org/draft-07/schema#",
    }
    root = validate_extraction_schema(schema)
    assert root.properties["age"].nullable and root.properties["kind"].enum == ("person",)
    assert root.properties["address"].properties["city"].kind == "string"
