"""Input and filter types (Glific's names and fields), and their conversion to the plain
dicts the resolvers take: snake_case keys, only the keys the client sent, enums as values."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types.base import has_object_definition
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
