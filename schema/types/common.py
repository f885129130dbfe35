"""Types shared by every domain: Glific's `InputError`."""

from __future__ import annotations

import strawberry

from resolvers.errors import InputErrors


@strawberry.type(name="InputError")
class InputError:
    key: str
    message: str


def input_errors(exc: InputErrors) -> list[InputError]:
    return [InputError(key=key, message=message) for key, message in exc.errors]
