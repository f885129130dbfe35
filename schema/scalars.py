"""Glific's scalars: `Json` is a JSON-encoded string both ways; `DateTime` is ISO-8601 UTC
with `Z` on output and must carry an offset on input; `RoleLabel` is a user role as Glific
shows it ("Manager", "No access"); `Gid` is an id written as a string."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NewType

import strawberry
from graphql import StringValueNode, ValueNode
from strawberry.types.scalar import ScalarDefinition

from resolvers.roles import ROLE_ORDER, role_labels, role_of_label
from resolvers.validation import unstorable_text

JsonValue = NewType("JsonValue", object)
RoleLabel = NewType("RoleLabel", str)
UUID4 = NewType("UUID4", str)
Gid = NewType("Gid", str)


def _serialize_json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _no_constant(name: str) -> Any:
    raise ValueError(f"is not valid JSON ({name} is not a JSON number)")


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"is not valid JSON (the number {text[:40]} is too large)")
    return number


def _check_strings(decoded: Any) -> None:
    reason = unstorable_text(decoded)
    if reason is not None:
        raise ValueError(f"is not valid JSON here ({reason})")


def _parse_json(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError('Json values are sent as a JSON-encoded string, e.g. "{\\"a\\":1}"')
    try:
        decoded = json.loads(value, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not valid JSON ({exc.msg} at position {exc.pos})") from None
    except RecursionError:
        raise ValueError("is not valid JSON here (nested too deeply)") from None
    _check_strings(decoded)
    return decoded


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


def _parse_uuid4(value: Any) -> str:
    """Glific's UUID4: any UUID string (checked), passed on as written."""
    if isinstance(value, str):
        try:
            uuid.UUID(value)
        except ValueError:
            pass
        else:
            return value
    raise ValueError(f"{value!r} is not a UUID")


def _parse_role_label(value: Any) -> str:
    """A label as Glific shows it, or the role's own name, read back as the role's name."""
    role = role_of_label(value) if isinstance(value, str) else None
    if role is not None:
        return role
    raise ValueError(f"{value!r} is not a role (one of {', '.join(role_labels(ROLE_ORDER))})")


def _string_literal(parse: Callable[[str], Any], refusal: str) -> Callable[..., Any]:
    """A literal parser for scalars written as strings in a document: `parse` its text, or
    refuse any other kind of literal with `refusal`."""

    def parse_literal(node: ValueNode, _variables: Any = None) -> Any:
        if not isinstance(node, StringValueNode):
            raise ValueError(refusal)
        return parse(node.value)

    return parse_literal


JSON_SCALAR = strawberry.scalar(
    name="Json",
    description="A JSON value encoded as a string (Glific's convention)",
    serialize=_serialize_json,
    parse_value=_parse_json,
    parse_literal=_string_literal(_parse_json, "Json values are sent as a JSON-encoded string"),
)

DATETIME_SCALAR = strawberry.scalar(
    name="DateTime",
    description="An ISO-8601 date and time in UTC (output ends in Z; input needs an offset)",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
    parse_literal=_string_literal(_parse_datetime, "DateTime values are ISO-8601 strings"),
)

ROLE_LABEL_SCALAR = strawberry.scalar(
    name="RoleLabel",
    description='A user role as Glific shows it: "No access", "Staff", "Manager", "Admin", ...',
    serialize=str,
    parse_value=_parse_role_label,
    parse_literal=_string_literal(
        _parse_role_label, 'RoleLabel values are strings such as "Manager"'
    ),
)

UUID4_SCALAR = strawberry.scalar(
    name="UUID4",
    description="A UUID as a string",
    serialize=str,
    parse_value=_parse_uuid4,
    parse_literal=_string_literal(_parse_uuid4, "UUID4 values are strings"),
)


def _parse_gid(value: Any) -> str:
    """Glific's `Gid`: an id as a string holding an integer ("5"), handed on as that string."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        text = str(value).strip()
        if text.isascii() and text.isdigit() and 0 < int(text) <= 2**63 - 1:
            return str(int(text))
    raise ValueError(f'{value!r} is not an id (a string holding an integer, e.g. "5")')


GID_SCALAR = strawberry.scalar(
    name="Gid",
    description='An id as a string holding an integer ("5"); a literal must be a string',
    serialize=str,
    parse_value=_parse_gid,
    parse_literal=_string_literal(_parse_gid, 'Gid values are strings holding an integer ("5")'),
)

SCALAR_MAP: dict[object, ScalarDefinition] = {
    JsonValue: JSON_SCALAR,
    datetime: DATETIME_SCALAR,
    RoleLabel: ROLE_LABEL_SCALAR,
    UUID4: UUID4_SCALAR,
    Gid: GID_SCALAR,
}
