"""Types shared by every domain: Glific's `InputError`; `related`, the one way a type
points at other rows; and `contextual`, a leaf that depends on who is asking."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.types import Info

from resolvers.errors import InputErrors

if TYPE_CHECKING:
    from schema.loaders import Loader


@strawberry.type(name="InputError")
class InputError:
    key: str
    message: str


def input_errors(exc: InputErrors) -> list[InputError | None]:
    return [InputError(key=key, message=message) for key, message in exc.errors]


# Metadata key of a resolver field that reads only these attributes of its row (schema.columns).
COLUMNS = "columns"
# Metadata key of a `related` field: (the Loader, attribute of the row holding the key).
RELATED = "related"
# Metadata key of a `contextual` field: the function of (row, request context) it answers.
CONTEXTUAL_FUNCTION = "contextual"


def contextual(
    function: Callable[[Any, Any], Any],
    *,
    columns: tuple[str, ...],
    description: str | None = None,
) -> Any:
    """A leaf whose value is `function(row, context)`, reading only `columns` of its row
    (a contact's phone, blank for a staff user). Declared this way, the executor
    (schema/executor.py) calls the function itself instead of building a resolve info for
    every row, as it would for a resolver taking `info`."""

    def resolve(root: Any, info: Info) -> Any:
        return function(root, info.context)

    return strawberry.field(
        resolver=resolve,
        description=description,
        metadata={CONTEXTUAL_FUNCTION: function, COLUMNS: columns},
    )


def related(loader: Loader, key: str, *, description: str | None = None) -> Any:
    """A field whose value is what `loader` (schema/loaders.py) holds for `getattr(row, key)`,
    or null when that key is null: the one declaration of a relation. The pair is kept in the
    field's metadata, so the schema's relations (schema/relations.py, checked when the schema
    is built), look-ahead prefetching (schema/prefetch.py) and the executor
    (schema/executor.py) resolve the field the same way without calling it."""
    name = getattr(loader, "name", None)  # anything but a Loader fails the schema's build

    def resolve(root: Any, info: Info) -> Any:
        value = getattr(root, key)
        return None if value is None else info.context.lookup(name, value)

    return strawberry.field(
        resolver=resolve, description=description, metadata={RELATED: (loader, key)}
    )
