"""Which columns of a table one GraphQL operation can read, so that its list reads select
only those (`contacts { name profiles { name } }` needs 3 of the contacts' 25 columns).

The answer is per type over the whole operation, not per field: rows fetched ahead for one
field are shared through the request's loader caches with every other field that looks up
the same rows, so each must carry what any of them may read. A field reads:
- a plain leaf: its own attribute;
- a `related` field: the attribute holding its key;
- a plain attribute holding an object: that attribute;
- a field declaring `metadata={COLUMNS: (...)}`: those;
- any other resolver: anything, so the type is read whole.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    get_named_type,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import Info

from schema.builders import LEAF, NESTED, RELATED_FIELD
from schema.executor import field_plan
from schema.types.common import COLUMNS

ALL = None  # the type is read whole

Needs = dict[str, frozenset[str] | None]
_cache: dict[int, tuple[Any, Needs]] = {}


def _field_reads(schema: GraphQLSchema, parent: GraphQLObjectType, name: str) -> Any:
    step = field_plan(schema).get((parent.name, name))
    if step is not None and step[0] in (LEAF, NESTED):
        return {step[1]}
    if step is not None and step[0] == RELATED_FIELD:
        return {step[2]}
    field = parent.fields[name]
    definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    declared = (getattr(definition, "metadata", None) or {}).get(COLUMNS)
    return set(declared) if declared is not None else ALL


def _walk(
    schema: GraphQLSchema,
    fragments: dict[str, Any],
    parent: Any,
    selection_set: Any,
    needs: dict[str, set[str] | None],
    seen: set[str],
) -> None:
    for node in selection_set.selections if selection_set else ():
        if isinstance(node, FieldNode):
            name = node.name.value
            if name.startswith("__") or not isinstance(parent, GraphQLObjectType):
                continue
            if name not in parent.fields:
                continue
            reads = _field_reads(schema, parent, name)
            current = needs.setdefault(parent.name, set())
            if reads is ALL or current is ALL:
                needs[parent.name] = ALL
            else:
                current |= reads
            child = get_named_type(parent.fields[name].type)
            if node.selection_set is not None:
                if not isinstance(child, GraphQLObjectType):
                    # An interface or union: every type it may be is read whole.
                    for possible in schema.get_possible_types(child):
                        needs[possible.name] = ALL
                _walk(schema, fragments, child, node.selection_set, needs, seen)
        elif isinstance(node, InlineFragmentNode):
            condition = node.type_condition
            target = schema.get_type(condition.name.value) if condition else parent
            _walk(schema, fragments, target, node.selection_set, needs, seen)
        elif isinstance(node, FragmentSpreadNode):
            fragment = fragments.get(node.name.value)
            if fragment is not None and node.name.value not in seen:
                seen.add(node.name.value)
                target = schema.get_type(fragment.type_condition.name.value)
                _walk(schema, fragments, target, fragment.selection_set, needs, seen)
                seen.discard(node.name.value)


def columns_read(info: Info) -> Needs:
    """{GraphQL type name: the attributes its rows must have, or None for all} for the
    operation being executed; worked out once per parsed document."""
    raw = info._raw_info
    operation = raw.operation
    cached = _cache.get(id(operation))
    if cached is not None and cached[0] is operation:
        return cached[1]
    needs: dict[str, set[str] | None] = {}
    _walk(
        raw.schema,
        raw.fragments,
        raw.schema.get_root_type(operation.operation),
        operation.selection_set,
        needs,
        set(),
    )
    result: Needs = {k: (frozenset(v) if v is not ALL else ALL) for k, v in needs.items()}
    if len(_cache) > 1024:
        _cache.clear()
    _cache[id(operation)] = (operation, result)
    return result
