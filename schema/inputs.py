"""Input and filter types (Glific's names and fields), and their conversion to the plain
dicts the resolvers take: snake_case keys, only the keys the client sent, enums as values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryMaybe,
    StrawberryOptional,
    get_object_definition,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.unset import UNSET

from resolvers.querying import NO_OPTS, ListOpts
from schema.enums import (
    ContactFieldScopeEnum,
    ContactFieldValueTypeEnum,
    ContactProviderStatusEnum,
    ContactStatusEnum,
    SortOrder,
)
from schema.scalars import JsonValue


def to_params(value: Any) -> Any:
    """A strawberry input as a dict of the fields the client actually sent."""
    if value is None or value is UNSET:
        return {} if value is UNSET else None
    if has_object_definition(value):
        out: dict[str, Any] = {}
        for field in value.__strawberry_definition__.fields:
            item = getattr(value, field.python_name)
            if item is not UNSET:
                out[field.python_name] = _plain(item)
        return out
    return _plain(value)


def _plain(item: Any) -> Any:
    if isinstance(item, Enum):
        return item.value
    if isinstance(item, list):
        return [_plain(i) for i in item]
    if has_object_definition(item):
        return to_params(item)
    return item


def to_opts(opts: Opts | None) -> ListOpts:
    if opts is None:
        return NO_OPTS
    return ListOpts(
        order=(opts.order or SortOrder.ASC).value,
        order_with=opts.order_with or None,
        limit=opts.limit,
        offset=opts.offset or 0,
    )


@strawberry.input(name="Opts")
class Opts:
    order: SortOrder | None = SortOrder.ASC
    order_with: str | None = None
    limit: int | None = None
    offset: int | None = 0


@strawberry.input(name="DateRangeInput")
class DateRangeInput:
    from_: datetime | None = strawberry.field(default=UNSET, name="from")
    to: datetime | None = UNSET
    column: str | None = UNSET


@strawberry.input(name="ContactInput")
class ContactInput:
    name: str | None = UNSET
    phone: str | None = UNSET
    status: ContactStatusEnum | None = UNSET
    bsp_status: ContactProviderStatusEnum | None = UNSET
    language_id: strawberry.ID | None = UNSET
    active_profile_id: strawberry.ID | None = UNSET
    fields: JsonValue | None = UNSET
    settings: JsonValue | None = UNSET


@strawberry.input(name="ContactFilter")
class ContactFilter:
    term: str | None = UNSET
    name: str | None = UNSET
    phone: str | None = UNSET
    status: ContactStatusEnum | None = UNSET
    bsp_status: ContactProviderStatusEnum | None = UNSET
    include_tags: list[strawberry.ID | None] | None = UNSET
    include_groups: list[strawberry.ID | None] | None = UNSET
    include_wa_groups: list[strawberry.ID | None] | None = UNSET
    exclude_groups: list[strawberry.ID | None] | None = UNSET
    exclude_wa_groups: list[strawberry.ID | None] | None = UNSET
    date_range: DateRangeInput | None = UNSET


@strawberry.input(name="ContactsHistoryFilter")
class ContactsHistoryFilter:
    contact_id: strawberry.ID | None = UNSET
    event_type: str | None = UNSET
    event_label: str | None = UNSET
    profile_id: strawberry.ID | None = UNSET


@strawberry.input(name="ProfileInput")
class ProfileInput:
    name: str | None = UNSET
    type: str | None = UNSET
    fields: JsonValue | None = UNSET
    language_id: strawberry.ID | None = UNSET
    contact_id: strawberry.ID | None = UNSET


@strawberry.input(name="ProfileFilter")
class ProfileFilter:
    organization_id: strawberry.ID | None = UNSET
    contact_id: strawberry.ID | None = UNSET
    name: str | None = UNSET
    is_active: bool | None = UNSET


@strawberry.input(name="ContactsFieldInput")
class ContactsFieldInput:
    name: str | None = UNSET
    shortcode: str | None = UNSET
    value_type: ContactFieldValueTypeEnum | None = UNSET
    scope: ContactFieldScopeEnum | None = UNSET


@strawberry.input(name="ContactsFieldFilter")
class ContactsFieldFilter:
    name: str | None = UNSET
    shortcode: str | None = UNSET
    scope: ContactFieldScopeEnum | None = UNSET


@strawberry.input(name="LanguageInput")
class LanguageInput:
    label: str
    label_locale: str
    locale: str
    is_active: bool | None = UNSET
    is_reserved: bool | None = UNSET
    localized: bool | None = UNSET
    description: str | None = UNSET


@strawberry.input(name="LanguageFilter")
class LanguageFilter:
    label: str | None = UNSET
    locale: str | None = UNSET
    localized: bool | None = UNSET


# --- building inputs ----------------------------------------------------------------------
# Strawberry converts an input value field by field, working out each field's GraphQL name
# and type again on every request: a twelfth of a `contacts(opts: {limit: 25})` request.
# Its `from_input` hook lets a type build itself; ours works that out once per type, passes
# leaf values (scalars and enums, which graphql-core has already parsed) through, and hands
# anything else (lists, nested inputs) back to Strawberry's own conversion.

_InputPlan = tuple[dict[str, None], list[tuple[str, str, Any]]]
_input_plans: dict[type, _InputPlan] = {}


def _is_leaf(type_: Any, context: InputContext) -> bool:
    if isinstance(type_, StrawberryOptional) and not isinstance(type_, StrawberryMaybe):
        type_ = type_.of_type
    return isinstance(type_, StrawberryEnumDefinition) or type_ in context.scalar_registry


def _input_plan(cls: type, context: InputContext) -> _InputPlan:
    definition = get_object_definition(cls, strict=True)
    required: dict[str, None] = {}
    steps: list[tuple[str, str, Any]] = []
    for field in definition.fields:
        if field.default_value is MISSING and field.default_factory is MISSING:
            required[field.python_name] = None
        type_ = field.resolve_type(type_definition=definition)
        graphql_name = context.config.name_converter.from_field(field)
        steps.append((graphql_name, field.python_name, None if _is_leaf(type_, context) else type_))
    return required, steps


def build_input(cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
    """`from_input` for our input types: the same object Strawberry would build."""
    plan = _input_plans.get(cls)
    if plan is None:
        plan = _input_plans[cls] = _input_plan(cls, context)
    required, steps = plan
    kwargs: dict[str, Any] = dict(required)
    for graphql_name, python_name, type_ in steps:
        if graphql_name in value:
            item = value[graphql_name]
            kwargs[python_name] = (
                item if type_ is None else context.convert(item, type_, graphql_name)
            )
    return cls(**kwargs)


INPUT_TYPES = [
    item
    for item in list(globals().values())
    if isinstance(item, type)
    and has_object_definition(item)
    and item.__strawberry_definition__.is_input
]
for _input in INPUT_TYPES:
    _input.__strawberry_definition__.from_input = build_input
