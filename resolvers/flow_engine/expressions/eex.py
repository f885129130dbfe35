"""Stage 2: `<%= ... %>` blocks (Glific's `execute_eex`), for router operands, wait timeouts,
saved results, contact fields, profile values and the other places the spec lists (§2).

`evaluate` splits the template into text and blocks first, substitutes `@variables` in each
part (stage 1), then interprets each block's code with `interpreter` (never `eval`). Because
the split happens on the template as written, a value that contains `<%=` (text a person
typed) is never run; and a value pasted inside a string literal of a block is escaped, so
an answer containing `"` cannot end the string and change the code (Glific pastes it raw).

Any failure (unparseable or disallowed code, a runtime error, the budget or the output
limit) makes the whole result the literal string "Invalid Code", as in Glific.

`check_expression` is the publish-time check: the problems of every block, or [].
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from resolvers.flow_engine.expressions.budget import MAX_OUTPUT, Budget, BudgetExceeded
from resolvers.flow_engine.expressions.interpreter import (
    ExprError,
    ParseError,
    Unsupported,
    parse,
    run,
    to_text,
)
from resolvers.flow_engine.expressions.templates import substitute, substitute_with

INVALID = "Invalid Code"
OPEN = "<%"
CLOSE = "%>"


def split_tags(template: str) -> list[tuple[bool, str]]:
    """The template as (is_code, text) parts; ParseError on an unterminated block,
    Unsupported on a block that is not an output block (`<% %>`, `<%# %>`, `<%% %>`)."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    while True:
        start = template.find(OPEN, pos)
        if start < 0:
            parts.append((False, template[pos:]))
            return parts
        parts.append((False, template[pos:start]))
        if not template.startswith("<%=", start):
            raise Unsupported("only <%= ... %> blocks are allowed")
        end = template.find(CLOSE, start + 3)
        if end < 0:
            raise ParseError("<%= without a closing %>")
        parts.append((True, template[start + 3 : end]))
        pos = end + len(CLOSE)


def evaluate(template: str, ctx: Mapping[str, Any], budget: Budget) -> str:
    """Stage 1 then stage 2 (module docstring). Never raises: any failure gives
    "Invalid Code"."""
    try:
        if OPEN not in template:
            return substitute(template, ctx, budget)
        out: list[str] = []
        size = 0
        for is_code, text in split_tags(template):
            if is_code:
                piece = to_text(run(parse(substitute_code(text, ctx, budget)), budget))
            else:
                piece = substitute(text, ctx, budget)
            size += len(piece)
            if size > MAX_OUTPUT:
                raise BudgetExceeded(f"output longer than {MAX_OUTPUT} characters")
            out.append(piece)
        return "".join(out)
    except (ExprError, BudgetExceeded, RecursionError, ArithmeticError, ValueError):
        return INVALID


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("#{", "\\#{")


def substitute_code(code: str, ctx: Mapping[str, Any], budget: Budget) -> str:
    """Stage 1 on a block's code. A value pasted inside a string literal
    (`"@results.name"`) is escaped, so an answer containing `"` stays one string instead of
    breaking the code or changing what it does; elsewhere values are pasted as they are
    (`@results.age.input + 1`), as in Glific."""
    out: list[str] = []
    start = 0
    in_string = False
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if in_string and ch == "\\":
            i += 2
            continue
        if ch == '"':
            segment = code[start:i]
            out.append(substitute_with(segment, ctx, budget, _escape if in_string else None))
            out.append('"')
            in_string = not in_string
            start = i + 1
        i += 1
    out.append(substitute_with(code[start:], ctx, budget, _escape if in_string else None))
    return "".join(out)


def check_expression(text: str) -> list[str]:
    """The problems of the `<%= %>` blocks in `text`: [] when it has none or all are in the
    allowed subset. `@variables` inside a block are accepted (they are substituted first)."""
    if OPEN not in text:
        return []
    try:
        parts = split_tags(text)
    except ExprError as exc:
        return [str(exc)]
    problems: list[str] = []
    for is_code, code in parts:
        if not is_code:
            continue
        try:
            parse(code)
        except Unsupported as exc:
            problems.append(f"has unsupported expression: {exc} in <%={_excerpt(code)}%>")
        except ExprError as exc:
            problems.append(f"has invalid expression: {exc} in <%={_excerpt(code)}%>")
        except RecursionError:
            problems.append(f"has unsupported expression: too deep in <%={_excerpt(code)}%>")
    return problems


def _excerpt(code: str, limit: int = 60) -> str:
    return code if len(code) <= limit else code[:limit] + "…"
