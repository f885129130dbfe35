"""Object builders compiled from the executor's steps (schema/executor.py).

Building a list of 25 contacts with their profiles walks the same few steps a hundred
times; interpreting them (a loop, a tuple unpacked and a kind tested per field) cost more
than the work itself. A builder is a function generated once per selection shape, with one
straight block per field, that does exactly what the interpreted steps did:

    builder(source, primed, context) -> dict, or BAIL when graphql-core must build the object
    instead.

Only names bound in the builder's namespace appear in its code; every string that comes from
a document (response names) or the schema is a namespace value, never source text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Kinds of step (schema.executor plans them):
#   (LEAF, attribute, serialize, non-null, passthrough type, convert type, convert): convert
#    turns a value of exactly the convert type into its serialised form, or answers BAIL
#   (COMPUTED, function of the source, serialize, non-null, passthrough type, convert type,
#    convert): a leaf whose resolver takes the object alone (`def type(self)`)
#   (CONTEXTUAL, function of the source and the request's context, serialize, ...): a leaf
#    declared with schema.types.common.contextual (`Contact.phone`)
#   (RELATED_FIELD, loader name, key attribute, non-null, many, item non-null, sub-steps)
#   (NESTED, attribute, non-null, many, item non-null, sub-steps): an attribute holding an
#    object or a list of them (`Conversation.contact`, `Conversation.messages`)
LEAF, RELATED_FIELD, COMPUTED, CONTEXTUAL, NESTED = 0, 1, 2, 3, 4
# The kinds whose last item is the steps of the objects under them.
OBJECT_KINDS = (RELATED_FIELD, NESTED)
MISSING = object()
BAIL = object()  # "let graphql-core do this one"

Builder = Callable[[Any, Any, Any], Any]
_builders: dict[Any, Builder] = {}


def serialized(value: Any, serialize: Any, non_null: bool) -> Any:
    """A leaf value as graphql-core would serialise it, or BAIL where graphql-core would
    report an error (a missing attribute, a null in a non-null field, a refused value)."""
    if value is None and not non_null:
        return None
    if value is MISSING or value is None:
        return BAIL
    try:
        result = serialize(value)
    except Exception:  # graphql-core reports it
        return BAIL
    return BAIL if result is None else result


def _signature(steps: list[tuple[Any, ...]]) -> Any:
    return tuple(
        (name, step if step[0] not in OBJECT_KINDS else (*step[:-1], _signature(step[-1])))
        for name, step in steps
    )


def builder(steps: list[tuple[Any, ...]]) -> Builder:
    """The builder for `steps`, generated on first use of this shape."""
    signature = _signature(steps)
    made = _builders.get(signature)
    if made is None:
        if len(_builders) > 512:
            _builders.clear()
        made = _builders[signature] = _generate(steps)
    return made


def _generate(steps: list[tuple[Any, ...]]) -> Builder:
    namespace: dict[str, Any] = {
        "MISSING": MISSING,
        "BAIL": BAIL,
        "serialized": serialized,
        "getattr": getattr,
        "type": type,
        "list": list,
    }
    lines = ["def build(source, primed, context):", "    out = {}"]
    for i, (response_name, step) in enumerate(steps):
        namespace[f"name{i}"] = response_name
        if step[0] in (LEAF, COMPUTED, CONTEXTUAL):
            kind, attribute, serialize, non_null, passthrough, convert_type, convert = step
            namespace.update(
                {
                    f"attr{i}": attribute,
                    f"ser{i}": serialize,
                    f"pass{i}": passthrough,
                    f"ctype{i}": convert_type,
                    f"conv{i}": convert,
                }
            )
            if kind == LEAF:
                lines.append(f"    v = getattr(source, attr{i}, MISSING)")
            else:
                # A resolver that fails is left to graphql-core, which reports it.
                call = f"attr{i}(source)" if kind == COMPUTED else f"attr{i}(source, context)"
                lines += [
                    "    try:",
                    f"        v = {call}",
                    "    except Exception:",
                    "        return BAIL",
                ]
            lines += [
                f"    if type(v) is not pass{i}:",
                f"        if type(v) is ctype{i}:",
                f"            v = conv{i}(v)",
                "            if v is BAIL:",
                "                return BAIL",
                "        else:",
                f"            v = serialized(v, ser{i}, {bool(non_null)})",
                "            if v is BAIL:",
                "                return BAIL",
            ]
        elif step[0] == NESTED:
            _, attribute, non_null, many, item_non_null, sub_steps = step
            namespace.update({f"attr{i}": attribute, f"sub{i}": builder(sub_steps)})
            lines += [
                f"    v = getattr(source, attr{i}, MISSING)",
                "    if v is MISSING:",
                "        return BAIL",
            ]
        else:
            _, loader, key, non_null, many, item_non_null, sub_steps = step
            namespace.update({f"loader{i}": loader, f"key{i}": key, f"sub{i}": builder(sub_steps)})
            lines += [
                f"    k = getattr(source, key{i}, MISSING)",
                "    if k is MISSING:",
                "        return BAIL",
                "    if k is None:",
                "        v = None",
                "    else:",
                f"        cache = primed.get(loader{i}) if primed is not None else None",
                "        if cache is None or k not in cache:",
                "            return BAIL",
                "        v = cache[k]",
            ]
        if step[0] in OBJECT_KINDS:
            lines += [
                "    if v is None:",
                f"        if {bool(non_null)}:",
                "            return BAIL",
            ]
            if many:
                lines += [
                    "    elif type(v) is not list:",
                    "        return BAIL",
                    "    else:",
                    "        items = []",
                    "        for item in v:",
                    "            if item is None:",
                    f"                if {bool(item_non_null)}:",
                    "                    return BAIL",
                    "                items.append(None)",
                    "                continue",
                    f"            built = sub{i}(item, primed, context)",
                    "            if built is BAIL:",
                    "                return BAIL",
                    "            items.append(built)",
                    "        v = items",
                ]
            else:
                lines += [
                    "    else:",
                    f"        v = sub{i}(v, primed, context)",
                    "        if v is BAIL:",
                    "            return BAIL",
                ]
        lines.append(f"    out[name{i}] = v")
    lines.append("    return out")
    exec(compile("\n".join(lines), "<schema.builders>", "exec"), namespace)
    return namespace["build"]
