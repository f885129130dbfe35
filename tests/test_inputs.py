"""Input objects are built by our `from_input` hook (schema/inputs.py) exactly as Strawberry
would build them: same fields, same defaults for omitted ones, nested inputs and lists too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from strawberry.types.arguments import convert_argument

from schema import build_schema
from schema.enums import ContactStatusEnum, SortOrder
from schema.inputs import INPUT_TYPES, ContactFilter, ContactInput, Opts, build_input
from settings import Settings

CASES: list[tuple[type, dict[str, Any]]] = [
    (Opts, {"order": SortOrder.DESC, "orderWith": "name", "limit": 5, "offset": 2}),
    (Opts, {"limit": 25}),
    (Opts, {}),
    (Opts, {"limit": None, "order": None}),
    (ContactInput, {"name": "Asha", "fields": {"age": 9}, "status": ContactStatusEnum.VALID}),
    (ContactInput, {"languageId": "2", "activeProfileId": None}),
    (
        ContactFilter,
        {
            "term": "as",
            "includeGroups": ["1", None, "3"],
            "dateRange": {"from": datetime(2026, 1, 1), "column": "inserted_at"},
        },
    ),
    (ContactFilter, {"dateRange": {"to": datetime(2026, 2, 1)}}),
]


def _fields(value: Any) -> Any:
    if getattr(getattr(value, "__strawberry_definition__", None), "is_input", False):
        return {
            f.python_name: _fields(getattr(value, f.python_name))
            for f in value.__strawberry_definition__.fields
        }
    if isinstance(value, list):
        return [_fields(v) for v in value]
    return value


@pytest.mark.parametrize(("cls", "value"), CASES)
def test_inputs_are_built_as_strawberry_builds_them(cls: type, value: dict[str, Any]) -> None:
    schema = build_schema(Settings())
    registry, config = schema.schema_converter.scalar_registry, schema.config
    ours = convert_argument(value, cls, registry, config)
    definitions = [t.__strawberry_definition__ for t in INPUT_TYPES]
    assert all(d.from_input is build_input for d in definitions)
    for d in definitions:
        d.from_input = None
    try:
        theirs = convert_argument(value, cls, registry, config)
    finally:
        for d in definitions:
            d.from_input = build_input
    assert type(ours) is type(theirs) is cls
    assert _fields(ours) == _fields(theirs)
