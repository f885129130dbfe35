"""A faster path through graphql-core for the commonest field: a plain attribute holding a
scalar or enum (`id`, `name`, `isActive` ...).

graphql-core builds a resolve-info object, looks up arguments, calls Strawberry's resolver
wrapper and checks for awaitables for every field, which made up most of the time of a
25-contact list with profiles. For fields that Strawberry itself treats as "basic" (no
resolver, no permission or extension) and whose type is a leaf, the value is simply
`getattr(source, python_name)` serialised by the leaf type: this executor does exactly that,
and hands anything unusual (a missing attribute, a null in a non-null field, a value the
scalar refuses) back to graphql-core, which reports it as usual.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from graphql import GraphQLNonNull, GraphQLSchema, is_leaf_type
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

# (type name, field name) -> (python attribute, serialize, non-null)
Plan = dict[tuple[str, str], tuple[str, Any, bool]]
_plans: WeakKeyDictionary[GraphQLSchema, Plan] = WeakKeyDictionary()
_MISSING = object()


def _plan(schema: GraphQLSchema) -> Plan:
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
            if definition is None or not getattr(definition, "is_basic_field", False):
                continue
            if field.args:
                continue
            output = field.type
            non_null = isinstance(output, GraphQLNonNull)
            leaf = output.of_type if non_null else output
            if is_leaf_type(leaf):
                plan[(type_name, field_name)] = (definition.python_name, leaf.serialize, non_null)
    _plans[schema] = plan
    return plan


class FastLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._leaf_plan = _plan(self.schema)
        # id(grouped field set) -> (the set, its steps or None): graphql-core reuses one
        # grouped field set for every object of a list, so the plan is worked out once.
        self._object_plans: dict[int, tuple[Any, list[tuple[Any, ...]] | None]] = {}

    def execute_fields(
        self,
        parent_type: Any,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """An object whose selected fields are all plain leaves (`profiles { id name }`) is
        built directly; anything else, or any surprise, goes the usual way."""
        cached = self._object_plans.get(id(grouped_field_set))
        if cached is None:
            steps: list[tuple[Any, ...]] | None = []
            for response_name, details in grouped_field_set.items():
                step = self._leaf_plan.get((parent_type.name, details[0].node.name.value))
                if step is None:
                    steps = None
                    break
                steps.append((response_name, *step))  # type: ignore[union-attr]
            cached = self._object_plans[id(grouped_field_set)] = (grouped_field_set, steps)
        steps = cached[1]
        if steps:
            out: dict[str, Any] = {}
            for response_name, python_name, serialize, non_null in steps:
                value = getattr(source_value, python_name, _MISSING)
                if value is None and not non_null:
                    out[response_name] = None
                    continue
                if value is _MISSING or value is None:
                    break
                try:
                    serialized = serialize(value)
                except Exception:  # graphql-core reports it, below
                    break
                if serialized is None:
                    break
                out[response_name] = serialized
            else:
                return out
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def execute_field(
        self,
        parent_type: Any,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        step = self._leaf_plan.get((parent_type.name, field_details_list[0].node.name.value))
        if step is not None:
            python_name, serialize, non_null = step
            value = getattr(source, python_name, _MISSING)
            if value is None and not non_null:
                return None
            if value is not _MISSING and value is not None:
                try:
                    serialized = serialize(value)
                except Exception:  # graphql-core reports it, below
                    serialized = None
                if serialized is not None:
                    return serialized
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
