"""Glific's scalars: `Json` is a JSON-encoded string both ways; `DateTime` is ISO-8601 UTC
with `Z` on output and must carry an offset on input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, NewType

import strawberry
from graphql import StringValueNode, ValueNode

JsonValue = NewType("JsonValue", object)


def _serialize_json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _parse_json(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError('Json values are sent as a JSON-encoded string, e.g. "{\\"a\\":1}"')
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not valid JSON ({exc.msg} at position {exc.pos})") from None


def _parse_json_literal(node: ValueNode, _variables: Any = None) -> Any:
    if not isinstance(node, StringValueNode):
        raise ValueError("Json values are sent as a JSON-encoded string")
    return _parse_json(node.value)


def _serialize_datetime(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime values are ISO-8601 strings, e.g. 2024-05-01T10:20:30Z")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        raise ValueError(f"'{value}' is not an ISO-8601 date and time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"'{value}' has no UTC offset (add Z or +05:30)")
    return parsed.astimezone(UTC).replace(tzinfo=None)


def _parse_datetime_literal(node: ValueNode, _variables: Any = None) -> datetime:
    if not isinstance(node, StringValueNode):
        raise ValueError("DateTime values are ISO-8601 strings")
    return _parse_datetime(node.value)


JSON_SCALAR = strawberry.scalar(
    name="Json",
    description="A JSON value encoded as a string (Glific's convention)",
    serialize=_serialize_json,
    parse_value=_parse_json,
    parse_literal=_parse_json_literal,
)

DATETIME_SCALAR = strawberry.scalar(
    name="DateTime",
    description="An ISO-8601 date and time in UTC (output ends in Z; input needs an offset)",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
    parse_literal=_parse_datetime_literal,
)

SCALAR_MAP = {JsonValue: JSON_SCALAR, datetime: DATETIME_SCALAR}
