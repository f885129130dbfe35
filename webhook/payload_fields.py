"""Reading provider callbacks (Gupshup, Meta's Cloud API, the simulator) field by field: the
`PayloadError` every parser raises and the helpers that raise it.

Each helper takes the parent object, the key and `where`, the field's path as the error
message shows it (`payload.sender.phone`, `entry[0].changes[1].value.metadata`), so anything
missing or of the wrong type is a `PayloadError` naming the field, never a KeyError or a
TypeError. Pure functions of decoded JSON: no database, no I/O.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from resolvers.validation import unstorable_text

# Longest id, phone or name kept from a payload: the columns they land in hold 255.
MAX_ID_LENGTH = 255


class PayloadError(ValueError):
    """A callback body that cannot be read; `message` says what is wrong with it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def json_kind(value: Any) -> str:
    """How a JSON value is called in an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def shown(value: Any) -> str:
    """A string value quoted, anything else by its kind, cut short: for `..., not X`."""
    return (repr(value) if isinstance(value, str) else json_kind(value))[:60]


def decode_json(raw: bytes, expected: str = "a Gupshup message") -> Any:
    """A request body decoded as JSON; a PayloadError says why it cannot be read. `expected`
    names what the body should hold, for the message about an empty one."""
    if not raw.strip():
        raise PayloadError(f"The request body is empty; expected {expected} as JSON")
    try:
        decoded = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise PayloadError("The request body is not UTF-8 text") from None
    except RecursionError:
        raise PayloadError("The request body is nested too deeply") from None
    except ValueError as exc:
        raise PayloadError(f"Unable to parse the request body as JSON: {exc}") from None
    # (PostgreSQL refuses such text: refused here, before anything is looked up or stored.)
    unstorable = unstorable_text(decoded)
    if unstorable is not None:
        raise PayloadError(f"The request body cannot be kept: {unstorable}")
    return decoded


def body_object(body: Any) -> Mapping[str, Any]:
    """The decoded body, which must be a JSON object."""
    if not isinstance(body, Mapping):
        raise PayloadError(f"The body must be a JSON object, not {json_kind(body)}")
    return body


def get_object(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    """A required object."""
    value = parent.get(key)
    if key not in parent or value is None:
        raise PayloadError(f"{where} is missing")
    if not isinstance(value, Mapping):
        raise PayloadError(f"{where} must be an object, not {json_kind(value)}")
    return value


def get_optional_object(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    """An object that may be absent or null (then empty)."""
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError(f"{where} must be an object or null, not {json_kind(value)}")
    return value


def get_list(
    parent: Mapping[str, Any], key: str, where: str, *, required: bool = True
) -> Sequence[Any]:
    """A list; when not `required`, an absent or null one is empty."""
    value = parent.get(key)
    if value is None:
        if required:
            raise PayloadError(f"{where} is missing")
        return ()
    if not isinstance(value, list):
        qualifier = "" if required else " or null"
        raise PayloadError(f"{where} must be a list{qualifier}, not {json_kind(value)}")
    return value


def item_object(value: Any, where: str) -> Mapping[str, Any]:
    """One element of a list, which must be an object."""
    if not isinstance(value, Mapping):
        raise PayloadError(f"{where} must be an object, not {json_kind(value)}")
    return value


def get_string(
    parent: Mapping[str, Any], key: str, where: str, *, blank: bool = False, limit: int = 0
) -> str:
    """A required string; `blank` allows an empty one, `limit` caps its length."""
    value = parent.get(key)
    if key not in parent or value is None:
        raise PayloadError(f"{where} is missing")
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be a string, not {json_kind(value)}")
    if not blank and not value.strip():
        raise PayloadError(f"{where} must not be empty")
    if limit and len(value) > limit:
        raise PayloadError(f"{where} is longer than {limit} characters")
    return value


def get_optional_string(parent: Mapping[str, Any], key: str, where: str) -> str | None:
    """A string that may be absent or null (an empty one counts as absent)."""
    value = parent.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be a string or null, not {json_kind(value)}")
    return value or None


def get_coordinate(parent: Mapping[str, Any], key: str, where: str, bound: float) -> float:
    """A latitude or longitude: a number, or a string holding one (some clients quote them),
    within ±`bound` degrees."""
    value = parent.get(key)
    if key not in parent or value is None:
        raise PayloadError(f"{where} is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PayloadError(f"{where} must be a number, not {json_kind(value)}")
    try:
        number = float(value)
    except ValueError:
        raise PayloadError(f"{where} must be a number, not {str(value)[:40]!r}") from None
    if not math.isfinite(number) or abs(number) > bound:
        raise PayloadError(f"{where} must be between -{bound:g} and {bound:g}")
    return number


def from_epoch(seconds: float, where: str) -> datetime:
    """A unix time as a naive UTC datetime (stored that way, like every timestamp here)."""
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise PayloadError(f"{where} is not a time this server can represent") from None
    return moment.replace(tzinfo=None)


def get_unix_time(parent: Mapping[str, Any], key: str, where: str) -> datetime:
    """A required unix time in seconds: a whole number, or a string of digits (Meta sends
    `"1710000000"`)."""
    value = parent.get(key)
    if key not in parent or value is None:
        raise PayloadError(f"{where} is missing")
    return from_epoch(unix_seconds(value, where), where)


def unix_seconds(value: Any, where: str) -> float:
    """A unix time (a number, or a string holding a whole one) as seconds."""
    if isinstance(value, str):
        digits = value.strip()
        # ASCII digits only, and few enough that int() never refuses them for their length.
        if digits.isascii() and digits.isdigit() and len(digits) <= 20:
            return float(int(digits))
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise PayloadError(f"{where} must be a unix time in seconds, not {shown(value)}")
    return float(value)


def get_code(parent: Mapping[str, Any], key: str, where: str) -> str | None:
    """An error code as text (providers send a number or a string); None when absent."""
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, float):
        raise PayloadError(f"{where} must be a whole number or a string, not {value!r}")
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise PayloadError(f"{where} must be a number or a string, not {json_kind(value)}")
    return str(value)[:MAX_ID_LENGTH] or None
