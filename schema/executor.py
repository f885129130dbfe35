"""A faster path through graphql-core for the two commonest kinds of field:

- a plain attribute holding a scalar or enum (`id`, `name`, `isActive` ...): a field that
  Strawberry itself treats as "basic" (no resolver, permission or extension) and whose type
  is a leaf; its value is `getattr(source, python_name)` serialised by the leaf type;
- a leaf computed from the object alone (a resolver taking only `self`: `Message.type`) or
  from the object and the request's context (declared with `contextual`: `Contact.phone`);
- a `related` field (schema/types/common.py) whose rows were prefetched into the request
  context (`activeProfile`, `profiles`, `language` ...): its value is the primed entry for
  `getattr(source, key)`, completed here with the same fast path;
- a plain attribute holding an object or a list of them (`Conversation.contact`,
  `Conversation.messages`), completed here with the same fast path.

graphql-core builds a resolve-info object, looks up arguments, calls Strawberry's resolver
wrapper, checks for awaitables and completes lists item by item for every field, which made
up most of the time of a 25-contact list with profiles. This executor does only what those
fields need, and hands anything unusual (a missing attribute, a null in a non-null field, a
value the scalar refuses, rows that were not prefetched, @defer) back to graphql-core, which
resolves and reports it as usual. Bailing out is always safe: nothing here has side effects.

An operation run with resolve hooks (a Strawberry extension that overrides `resolve`, which
reaches graphql-core as middleware) goes graphql-core's way throughout: a hook asks to see
every field resolved, and skipping those calls is all this path does.
"""

from __future__ import annotations

import inspect
from datetime import datetime
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

from schema.builders import (
    BAIL,
    COMPUTED,
    CONTEXTUAL,
    LEAF,
    NESTED,
    OBJECT_KINDS,
    RELATED_FIELD,
    Builder,
    builder,
)
from schema.types.common import CONTEXTUAL_FUNCTION, RELATED

# Values of exactly this Python type that these scalars serialise to themselves.
_PASSTHROUGH: dict[str, type] = {"String": str, "ID": str, "Boolean": bool}


# ... and values of this type they serialise with this function (IDs held as integers,
# Ints within GraphQL's 32 bits; anything else is serialised the usual way, which reports it).
def _int32(value: int) -> Any:
    return value if -(2**31) <= value < 2**31 else BAIL


_CONVERT: dict[str, tuple[type, Any]] = {"ID": (int, str), "Int": (int, _int32)}
# Scalars whose own serialise is called directly on values of this type (no checks around it).
_DIRECT: dict[str, type] = {"DateTime": datetime}


# (type name, field name) -> a step (schema.builders), whose last item for a related field is
# the item type until the executor replaces it by the steps of the selection under it.
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
            if is_leaf_type(output):
                leaf = (
                    output.serialize,
                    non_null,
                    _PASSTHROUGH.get(output.name),
                    *(_CONVERT.get(output.name) or _direct(output) or _enum_names(output)),
                )
                if getattr(definition, "is_basic_field", False):
                    plan[(type_name, field_name)] = (LEAF, definition.python_name, *leaf)
                    continue
                computed = _computed(definition)
                if computed is not None:
                    plan[(type_name, field_name)] = (COMPUTED, computed, *leaf)
                    continue
            if definition.extensions or definition.permission_classes:
                continue
            metadata = getattr(definition, "metadata", None) or {}
            if is_leaf_type(output) and metadata.get(CONTEXTUAL_FUNCTION) is not None:
                plan[(type_name, field_name)] = (CONTEXTUAL, metadata[CONTEXTUAL_FUNCTION], *leaf)
                continue
            many = isinstance(output, GraphQLList)
            item_non_null, item = _unwrap(output.of_type) if many else (False, output)
            if not isinstance(item, GraphQLObjectType) or item.is_type_of is not None:
                continue
            objects = (non_null, many, item_non_null, item)
            relation = metadata.get(RELATED)
            if relation is not None:
                loader, key = relation
                plan[(type_name, field_name)] = (RELATED_FIELD, loader.name, key, *objects)
            elif getattr(definition, "is_basic_field", False):
                plan[(type_name, field_name)] = (NESTED, definition.python_name, *objects)
    _plans[schema] = plan
    return plan


def _direct(output: Any) -> tuple[type, Any] | None:
    exact = _DIRECT.get(output.name)
    return None if exact is None else (exact, output.serialize)


def _enum_names(output: Any) -> tuple[Any, Any]:
    """(the Python enum, member -> GraphQL name) for a Strawberry enum: its own serialise
    compares the member with every value in turn."""
    wrapped = getattr(output, "wrapped_cls", None)
    if wrapped is None:
        return None, None
    names: dict[Any, str] = {}
    for member in wrapped:
        found = [name for name, value in output.values.items() if value.value == member.value]
        if not found:
            return None, None  # (serialised the slow way, which reports it)
        names[member] = found[0]
    return wrapped, names.__getitem__


def _computed(definition: Any) -> Any:
    """The function of a field whose resolver takes the object alone and nothing else (no
    arguments, no info, not async) and which has no permission or extension: calling it
    with the object is all Strawberry would do."""
    resolver = getattr(definition, "base_resolver", None)
    if (
        resolver is None
        or definition.permission_classes
        or definition.extensions
        or resolver.is_async
        or resolver.arguments
        or resolver.info_parameter is not None
        or resolver.root_parameter is not None
        or resolver.parent_parameter is not None
        or resolver.self_parameter is None
        or not inspect.isfunction(resolver.wrapped_func)
    ):
        return None
    return resolver.wrapped_func


class FastLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        hooked = self.middleware_manager is not None and self.middleware_manager.middlewares
        self._field_plan = {} if hooked else field_plan(self.schema)
        # Whether the context primes rows (schema.context). The dict itself is read when it is
        # used: a write in the operation replaces it (Context.reset_reads).
        self._primes = hasattr(self.context_value, "primed")
        # id(grouped field set or field details list) -> (it, its steps or None): graphql-core
        # reuses one of each for every object of a list, so the steps are worked out once.
        self._object_steps: dict[int, tuple[Any, list[tuple[Any, ...]] | None]] = {}
        self._related_steps: dict[int, tuple[Any, tuple[Any, ...] | None]] = {}
        # id(steps) -> (steps, builder), and one-field step lists, for this request.
        self._builders: dict[int, tuple[Any, Builder]] = {}
        self._single: dict[int, list[tuple[Any, ...]]] = {}

    # --- planning ---------------------------------------------------------------------------

    def _steps_for(self, parent_type: Any, grouped_field_set: Any) -> list[tuple[Any, ...]] | None:
        """How to build an object of `parent_type` for this selection without graphql-core,
        or None when some selected field needs graphql-core."""
        cached = self._object_steps.get(id(grouped_field_set))
        if cached is not None:
            return cached[1]
        steps: list[tuple[Any, ...]] = []
        for response_name, details in grouped_field_set.items():
            step = self._step_for(parent_type, details)
            if step is None:
                self._object_steps[id(grouped_field_set)] = (grouped_field_set, None)
                return None
            steps.append((response_name, step))
        self._object_steps[id(grouped_field_set)] = (grouped_field_set, steps)
        return steps

    def _step_for(self, parent_type: Any, details: Any) -> tuple[Any, ...] | None:
        field = self._field_plan.get((parent_type.name, details[0].node.name.value))
        if field is None or field[0] not in OBJECT_KINDS:
            return field
        cached = self._related_steps.get(id(details))
        if cached is not None:
            return cached[1]
        step: tuple[Any, ...] | None = None
        if self._primes or field[0] == NESTED:
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

    def _builder(self, steps: list[tuple[Any, ...]]) -> Builder:
        cached = self._builders.get(id(steps))
        if cached is None:
            cached = self._builders[id(steps)] = (steps, builder(steps))
        return cached[1]

    def _build(self, steps: list[tuple[Any, ...]], source: Any) -> Any:
        primed = self.context_value.primed if self._primes else None
        return self._builder(steps)(source, primed, self.context_value)

    def _value(self, step: tuple[Any, ...], source: Any) -> Any:
        """One field's value, through a one-field builder."""
        steps = self._single.get(id(step))
        if steps is None:
            steps = self._single[id(step)] = [("value", step)]
        built = self._build(steps, source)
        return BAIL if built is BAIL else built["value"]

    def _build_items(self, steps: list[tuple[Any, ...]], items: list[Any], non_null: bool) -> Any:
        build = self._builder(steps)
        primed = self.context_value.primed if self._primes else None
        context = self.context_value
        out: list[Any] = []
        for item in items:
            if item is None:
                if non_null:
                    return BAIL
                out.append(None)
                continue
            built = build(item, primed, context)
            if built is BAIL:
                return BAIL
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
            if built is not BAIL:
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
                if built is not BAIL:
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
            if value is not BAIL:
                return value
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
