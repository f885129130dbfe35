"""A faster path through graphql-core for the two commonest kinds of field:

- a plain attribute holding a scalar or enum (`id`, `name`, `isActive` ...): a field that
  Strawberry itself treats as "basic" (no resolver, permission or extension) and whose type
  is a leaf; its value is `getattr(source, python_name)` serialised by the leaf type;
- a `related` field (schema/types/common.py) whose rows were prefetched into the request
  context (`activeProfile`, `profiles`, `language` ...): its value is the primed entry for
  `getattr(source, key)`, completed here with the same fast path.

graphql-core builds a resolve-info object, looks up arguments, calls Strawberry's resolver
wrapper, checks for awaitables and completes lists item by item for every field, which made
up most of the time of a 25-contact list with profiles. This executor does only what those
fields need, and hands anything unusual (a missing attribute, a null in a non-null field, a
value the scalar refuses, rows that were not prefetched, @defer) back to graphql-core, which
resolves and reports it as usual. Bailing out is always safe: nothing here has side effects.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

from schema.types.common import RELATED

LEAF, RELATED_FIELD = 0, 1
_MISSING = object()
_BAIL = object()  # "let graphql-core do this one"

# (type name, field name) -> (LEAF, python attribute, serialize, non-null, passthrough type)
#                         or (RELATED_FIELD, loader, key attribute, non-null, many, item non-null,
#                             item type)
# Values of exactly this Python type that these scalars serialise to themselves.
_PASSTHROUGH: dict[str, type] = {"String": str, "ID": str, "Boolean": bool}

Plan = dict[tuple[str, str], tuple[Any, ...]]
_plans: WeakKeyDictionary[GraphQLSchema, Plan] = WeakKeyDictionary()


def _unwrap(output: Any) -> tuple[bool, Any]:
    if isinstance(output, GraphQLNonNull):
        return True, output.of_type
    return False, output


def field_plan(schema: GraphQLSchema) -> Plan:
    plan = _plans.get(schema)
    if plan is not None:
        return plan
    plan = {}
    for type_name, graphql_type in schema.type_map.items():
        fields = getattr(graphql_type, "fields", None)
        if type_name.startswith("__") or not fields or not hasattr(graphql_type, "interfaces"):
            continue
        for field_name, field in fields.items():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if definition is None or field.args:
                continue
            non_null, output = _unwrap(field.type)
            if getattr(definition, "is_basic_field", False) and is_leaf_type(output):
                plan[(type_name, field_name)] = (
                    LEAF,
                    definition.python_name,
                    output.serialize,
                    non_null,
                    _PASSTHROUGH.get(output.name),
                )
                continue
            relation = (getattr(definition, "metadata", None) or {}).get(RELATED)
            if relation is None or definition.extensions or definition.permission_classes:
                continue
            many = isinstance(output, GraphQLList)
            item_non_null, item = _unwrap(output.of_type) if many else (False, output)
            if isinstance(item, GraphQLObjectType) and item.is_type_of is None:
                plan[(type_name, field_name)] = (
                    RELATED_FIELD,
                    *relation,
                    non_null,
                    many,
                    item_non_null,
                    item,
                )
    _plans[schema] = plan
    return plan


def _leaf(
    source: Any, python_name: str, serialize: Any, non_null: bool, passthrough: type | None
) -> Any:
    value = getattr(source, python_name, _MISSING)
    if type(value) is passthrough:
        return value
    return _serialized(value, serialize, non_null)


def _serialized(value: Any, serialize: Any, non_null: bool) -> Any:
    if value is None and not non_null:
        return None
    if value is _MISSING or value is None:
        return _BAIL
    try:
        serialized = serialize(value)
    except Exception:  # graphql-core reports it
        return _BAIL
    return _BAIL if serialized is None else serialized


class FastLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._field_plan = field_plan(self.schema)
        self._primed: dict[str, dict[Any, Any]] | None = getattr(self.context_value, "primed", None)
        # id(grouped field set or field details list) -> (it, its steps or None): graphql-core
        # reuses one of each for every object of a list, so the steps are worked out once.
        self._object_steps: dict[int, tuple[Any, list[tuple[Any, ...]] | None]] = {}
        self._related_steps: dict[int, tuple[Any, tuple[Any, ...] | None]] = {}

    # --- planning ---------------------------------------------------------------------------

    def _steps_for(self, parent_type: Any, grouped_field_set: Any) -> list[tuple[Any, ...]] | None:
        """How to build an object of `parent_type` for this selection without graphql-core,
        or None when some selected field needs graphql-core."""
        cached = self._object_steps.get(id(grouped_field_set))
        if cached is not None:
            return cached[1]
        steps: list[tuple[Any, ...]] | None = []
        for response_name, details in grouped_field_set.items():
            step = self._step_for(parent_type, details)
            if step is None:
                steps = None
                break
            steps.append((response_name, step))  # type: ignore[union-attr]
        self._object_steps[id(grouped_field_set)] = (grouped_field_set, steps)
        return steps

    def _step_for(self, parent_type: Any, details: Any) -> tuple[Any, ...] | None:
        field = self._field_plan.get((parent_type.name, details[0].node.name.value))
        if field is None or field[0] == LEAF:
            return field
        cached = self._related_steps.get(id(details))
        if cached is not None:
            return cached[1]
        step: tuple[Any, ...] | None = None
        if self._primed is not None:
            sub_steps = self._sub_steps(field[-1], details)
            if sub_steps is not None:
                step = (*field[:-1], sub_steps)
        self._related_steps[id(details)] = (details, step)
        return step

    def _sub_steps(self, item_type: Any, details: Any) -> list[tuple[Any, ...]] | None:
        """The steps for objects of `item_type` under this field, or None."""
        if not isinstance(item_type, GraphQLObjectType) or item_type.is_type_of is not None:
            return None
        grouped, new_defer_usages, _ = self.collect_subfields(item_type, details)
        return None if new_defer_usages else self._steps_for(item_type, grouped)

    # --- building ---------------------------------------------------------------------------

    def _build(self, steps: list[tuple[Any, ...]], source: Any) -> Any:
        out: dict[str, Any] = {}
        for response_name, step in steps:
            # The commonest case (a string or boolean leaf) inline: this loop runs for every
            # value of a list.
            if step[0] == LEAF:
                _, name, serialize, non_null, passthrough = step
                value = getattr(source, name, _MISSING)
                if type(value) is not passthrough:
                    value = _serialized(value, serialize, non_null)
            else:
                value = self._related(step, source)
            if value is _BAIL:
                return _BAIL
            out[response_name] = value
        return out

    def _value(self, step: tuple[Any, ...], source: Any) -> Any:
        return _leaf(source, *step[1:]) if step[0] == LEAF else self._related(step, source)

    def _related(self, step: tuple[Any, ...], source: Any) -> Any:
        _, loader, key_name, non_null, many, item_non_null, sub_steps = step
        key = getattr(source, key_name, _MISSING)
        if key is _MISSING:
            return _BAIL
        if key is None:
            value = None
        else:
            primed = self._primed.get(loader) if self._primed is not None else None
            if primed is None or key not in primed:
                return _BAIL
            value = primed[key]
        if value is None:
            return _BAIL if non_null else None
        if not many:
            return self._build(sub_steps, value)
        if not isinstance(value, list):
            return _BAIL
        return self._build_items(sub_steps, value, item_non_null)

    def _build_items(self, steps: list[tuple[Any, ...]], items: list[Any], non_null: bool) -> Any:
        out: list[Any] = []
        for item in items:
            if item is None:
                if non_null:
                    return _BAIL
                out.append(None)
                continue
            built = self._build(steps, item)
            if built is _BAIL:
                return _BAIL
            out.append(built)
        return out

    # --- graphql-core entry points ------------------------------------------------------------

    def execute_fields(
        self,
        parent_type: Any,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """An object whose selected fields all have a fast path is built directly; anything
        else, or any surprise, goes the usual way."""
        steps = self._steps_for(parent_type, grouped_field_set)
        if steps:
            built = self._build(steps, source_value)
            if built is not _BAIL:
                return built
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def complete_iterable_value(
        self,
        item_type: Any,
        field_details_list: Any,
        info: Any,
        path: Any,
        items: Any,
        position_context: Any,
    ) -> Any:
        """A list of objects (a root field's rows) is built directly when its items' fields
        all have a fast path; graphql-core would complete it item by item."""
        if isinstance(items, list) and self.get_stream_usage(field_details_list, path) is None:
            non_null, object_type = _unwrap(item_type)
            steps = self._sub_steps(object_type, field_details_list)
            if steps:
                built = self._build_items(steps, items, non_null)
                if built is not _BAIL:
                    return built
        return super().complete_iterable_value(
            item_type, field_details_list, info, path, items, position_context
        )

    def execute_field(
        self,
        parent_type: Any,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        step = self._step_for(parent_type, field_details_list)
        if step is not None:
            value = self._value(step, source)
            if value is not _BAIL:
                return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
