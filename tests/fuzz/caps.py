"""Request-side caps of the fuzzed OpenAPI document: what clients send is generated smaller.

    schema = schemathesis.openapi.from_dict(request_side(openapi), config=...)

Schemathesis generates boundary values, so a 10,000-item array or a 1 MB string is generated
whole (minutes per operation) and only tests the body limit, not the route: `SIZE_CAPS` lowers
those bounds. `VALUE_CAPS` lowers the maximum of request properties the server does that much
work for. Parameters and request bodies get capped copies of the components they use
(`Name_Fuzz`); answers keep their documented schemas, which the checks validate against.
"""

from __future__ import annotations

import copy
from typing import Any

# request-side size bounds lowered for generation: a 10,000-item array or a 1 MB string is slow to
# generate (minutes per operation) and tests the body limit, not the route
SIZE_CAPS = {"maxLength": 1_000, "maxItems": 10, "maxProperties": 10}
# request property -> the highest value generated, because the server does that much work for it
VALUE_CAPS = {"events": 2_000}  # POST /api/synthetic/jobs generates `events` events in the background
COMPONENTS = "#/components/schemas/"
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def request_side(openapi: dict[str, Any]) -> dict[str, Any]:
    """Return the document with the caps applied to what clients send (parameters, request bodies).

    Those get capped copies of the components they use (`Name_Fuzz`): answers are still
    checked against the schemas the server documents.
    """
    document = copy.deepcopy(openapi)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for item in document.get("paths", {}).values():
        for operation in (value for method, value in item.items() if method in HTTP_METHODS):
            operation.update({part: capped(operation[part], schemas) for part in ("parameters", "requestBody")
                              if part in operation})
    return document


def capped(node: Any, schemas: dict[str, Any]) -> Any:
    """Return a copy of a schema (or a part of one) with the caps applied, `$ref`s to capped copies."""
    if isinstance(node, list):
        return [capped(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    return {key: _capped_entry(key, value, schemas) for key, value in node.items()}


def _capped_entry(key: str, value: Any, schemas: dict[str, Any]) -> Any:
    if key in SIZE_CAPS and isinstance(value, int):
        return min(value, SIZE_CAPS[key])
    if key == "$ref" and isinstance(value, str) and value.startswith(COMPONENTS):
        return capped_component(value[len(COMPONENTS):], schemas)
    if key == "properties" and isinstance(value, dict):
        return {name: _value_capped(name, capped(schema, schemas)) for name, schema in value.items()}
    return capped(value, schemas)


def _value_capped(name: str, schema: Any) -> Any:
    if name in VALUE_CAPS and isinstance(schema, dict) and isinstance(schema.get("maximum"), (int, float)):
        return {**schema, "maximum": min(schema["maximum"], VALUE_CAPS[name])}
    return schema


def capped_component(name: str, schemas: dict[str, Any]) -> str:
    """Return the `$ref` of the capped copy of component `name`, made on first use."""
    copy_name = f"{name}_Fuzz"
    if copy_name not in schemas:
        schemas[copy_name] = {}  # a recursive schema finds its own copy while it is being made
        schemas[copy_name] = capped(schemas.get(name, {}), schemas)
    return COMPONENTS + copy_name
