"""Stage 1: `@variable` substitution (Glific's MessageVarParser), used on every text a flow
sends or stores.

A token is `@` and two to five dot-separated segments of word characters and `-`
(`@contact.fields.school-name`); a sixth segment or a trailing `.` is plain text. A token is
looked up in the binding map segment by segment. When the whole path does not resolve, the
longest prefix that does is used and the rest stays as text (`@results.foo.bar` with a string
`foo` gives "<foo>.bar"); when no prefix of two or more segments resolves the token stays as
literal text. A map yields its `"value"`; a result map (`@results.x`, `@results.parent.x`,
`@results.child.x`) without one yields its `"input"`; `@contact.language` yields the language
label; lists print like `[3, 7]`; datetimes print ISO-8601; booleans `true` / `false`.

Values are never scanned again: text a person typed that looks like `@contact.phone` or
`<%= ... %>` stays text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from resolvers.flow_engine.expressions.budget import MAX_OUTPUT, Budget, BudgetExceeded

TOKEN = re.compile(r"@([\w-]+(?:\.[\w-]+){1,4})")

# Paths whose map value falls back to its "input" (the result of a wait or a webhook).
_RESULT_SCOPES = ("parent", "child")

_MISSING = object()


def substitute(template: str, ctx: Mapping[str, Any], budget: Budget) -> str:
    """Replace every `@a.b…` token of `template` that resolves in `ctx` (see the module
    docstring). Raises BudgetExceeded when the budget runs out or the output would be longer
    than 10,000 characters."""
    return substitute_with(template, ctx, budget, None)


def substitute_with(
    template: str,
    ctx: Mapping[str, Any],
    budget: Budget,
    transform: Callable[[str], str] | None,
) -> str:
    """`substitute`, passing each resolved value through `transform` (stage 2 escapes values
    pasted into a string literal)."""
    if len(template) > 4 * MAX_OUTPUT:
        raise BudgetExceeded(f"template longer than {4 * MAX_OUTPUT} characters")
    budget.spend(1 + len(template) // 1000)
    if "@" not in template:
        return budget.check_output(template)
    out: list[str] = []
    size = 0
    last = 0
    for match in TOKEN.finditer(template):
        budget.spend()
        piece = template[last : match.start()] + _replace(
            match.group(1).split("."), ctx, budget, transform
        )
        size += len(piece)
        if size > MAX_OUTPUT:
            raise BudgetExceeded(f"output longer than {MAX_OUTPUT} characters")
        out.append(piece)
        last = match.end()
    out.append(template[last:])
    return budget.check_output("".join(out))


def substitute_value(value: Any, ctx: Mapping[str, Any], budget: Budget) -> Any:
    """`substitute` applied to every string inside a JSON-like value (Glific's `parse_map`:
    interactive content, webhook bodies and headers); keys and non-strings are kept."""
    budget.spend()
    if isinstance(value, str):
        return substitute(value, ctx, budget)
    if isinstance(value, Mapping):
        return {k: substitute_value(v, ctx, budget) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [substitute_value(v, ctx, budget) for v in value]
    return value


def _replace(
    segments: list[str],
    ctx: Mapping[str, Any],
    budget: Budget,
    transform: Callable[[str], str] | None,
) -> str:
    for k in range(len(segments), 1, -1):
        budget.spend(k)
        text = resolve(segments[:k], ctx)
        if text is not None:
            if transform is not None:
                text = transform(text)
            rest = segments[k:]
            return text + "".join("." + s for s in rest)
    return "@" + ".".join(segments)


def lookup(path: Sequence[str], ctx: Mapping[str, Any]) -> Any:
    """The raw value at `path` in `ctx`, or None when any step is missing."""
    value: Any = ctx
    for i, segment in enumerate(path):
        if not isinstance(value, Mapping):
            return None
        found = value.get(segment, _MISSING)
        if found is _MISSING and i > 0 and path[0] == "results":
            # Result names are stored lowercased; `@results.Name` still finds them.
            found = value.get(segment.lower(), _MISSING)
        if found is _MISSING:
            return None
        value = found
    return value


def resolve(path: Sequence[str], ctx: Mapping[str, Any]) -> str | None:
    """The text a complete token `@<path>` becomes, or None when it does not resolve."""
    value = lookup(path, ctx)
    if value is None:
        return None
    if len(path) == 2 and path[0] == "contact" and path[1] == "language":
        # Only a language object renders (as its label); anything else stays literal.
        if isinstance(value, Mapping) and value.get("label") is not None:
            return render(value["label"])
        return None
    if isinstance(value, Mapping):
        if "value" in value:
            inner = value["value"]
            return "" if inner is None else render(inner)
        if _is_result_path(path) and "input" in value:
            inner = value["input"]
            return "" if inner is None else render(inner)
        return None
    return render(value)


def _is_result_path(path: Sequence[str]) -> bool:
    if path[0] != "results":
        return False
    return len(path) == 2 or (len(path) == 3 and path[1] in _RESULT_SCOPES)


def render(value: Any) -> str:
    """A value as text: strings as they are, `true`/`false`, numbers, ISO datetimes, lists and
    maps printed the way Glific inspects them (`[3, 7]`, `%{"a" => 1}`)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Mapping) and "value" in value:
        return render(value["value"]) if value["value"] is not None else ""
    return inspect(value)


def inspect(value: Any, depth: int = 0) -> str:
    """Elixir-like `inspect` of a value, depth-limited."""
    if depth > 8:
        return "..."
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value.bit_length() < 4000 else "..."
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return value if depth == 0 else '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Mapping):
        items = ", ".join(
            f"{inspect(str(k), depth + 1)} => {inspect(v, depth + 1)}" for k, v in value.items()
        )
        return "%{" + items + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(inspect(v, depth + 1) for v in value) + "]"
    return str(value)


def format_float(value: float) -> str:
    """A float the way Elixir prints one: `2.5`, `5.0`, `1.0e20`."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        return f"{mantissa}e{int(exponent)}"
    return text
