"""The chat screen's types: `Conversation`, `SearchCup` (`searchMulti`), `SavedSearch` and its
result, and the inputs of `search` (`SearchFilter`, `DateInput`, ...)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types.unset import UNSET

from schema.scalars import Gid, JsonValue
from schema.types.common import InputError
from schema.types.message import Message
from schema.types.user import Group

if TYPE_CHECKING:
    from schema.types.contact import Contact

ContactRef = Annotated["Contact", strawberry.lazy("schema.types.contact")]


@strawberry.input(name="DateInput")
class DateInput:
    from_: date | None = strawberry.field(default=UNSET, name="from")
    to: date | None = UNSET


@strawberry.input(name="DateExpressionInput")
class DateExpressionInput:
    from_expression: str | None = UNSET
    to_expression: str | None = UNSET


@strawberry.input(name="SearchFilter")
class SearchFilter:
    id: Gid | None = UNSET
    ids: list[Gid | None] | None = UNSET
    search_group: bool | None = UNSET
    include_tags: list[Gid | None] | None = UNSET
    include_labels: list[Gid | None] | None = UNSET
    include_groups: list[Gid | None] | None = UNSET
    include_users: list[Gid | None] | None = UNSET
    term: str | None = UNSET
    status: str | None = UNSET
    date_range: DateInput | None = UNSET
    date_expression: DateExpressionInput | None = UNSET
    saved_search_id: strawberry.ID | None = UNSET
    group_label: str | None = UNSET
    cursor: str | None = strawberry.field(
        default=UNSET,
        description="Beyond Glific: a conversation's `cursor`; the list continues after it "
        "(keyset paging, when contactOpts has no offset).",
    )


@strawberry.input(name="SaveSearchInput")
class SaveSearchInput:
    label: str | None = UNSET
    shortcode: str | None = UNSET


@strawberry.input(name="SavedSearchInput")
class SavedSearchInput:
    label: str | None = UNSET
    shortcode: str | None = UNSET
    args: JsonValue | None = UNSET


@strawberry.input(name="SavedSearchFilter")
class SavedSearchFilter:
    label: str | None = UNSET
    shortcode: str | None = UNSET
    is_reserved: bool | None = UNSET


@strawberry.type(name="SavedSearch")
class SavedSearch:
    id: strawberry.ID | None
    label: str | None
    shortcode: str | None
    args: JsonValue | None
    is_reserved: bool | None


@strawberry.type(name="SavedSearchResult")
class SavedSearchResult:
    saved_search: SavedSearch | None = None
    errors: list[InputError | None] | None = None


@strawberry.type(name="Conversation")
class Conversation:
    id: strawberry.ID | None
    contact: ContactRef | None
    group: Group | None
    messages: list[Message | None] | None
    cursor: str | None = strawberry.field(
        description="Beyond Glific: pass as `filter.cursor` for the conversations after this one."
    )


@strawberry.type(name="SearchCup")
class SearchCup:
    contacts: list[ContactRef | None] | None
    messages: list[Message | None] | None
    tags: list[Message | None] | None = strawberry.field(
        description="Always empty here: messages are not tagged."
    )
    labels: list[Message | None] | None = strawberry.field(
        description="Messages whose flow label holds the term."
    )
