"""The domain's error hierarchy. The GraphQL layer maps it onto Glific's two error channels.

* `InputErrors` -> the payload's `errors: [{key, message}]` (Glific's changeset and lookup
  errors), with the object null and no top-level error.
* `ClientError` -> a top-level GraphQL error whose message is shown as is ("Unauthorized").
Anything else is a bug: logged, and shown only as Glific's generic message.
"""

from __future__ import annotations

from collections.abc import Iterable


class DomainError(Exception):
    """Base class for errors whose message is meant for the API client."""


class ClientError(DomainError):
    """A refusal reported as a top-level GraphQL error with exactly this message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputErrors(DomainError):
    """One or more `{key, message}` pairs reported in the result payload."""

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(m for _, m in self.errors))

    @classmethod
    def field(cls, key: str, message: str) -> InputErrors:
        """A changeset-style error: key `language_id` -> message `Language_id: <message>`."""
        return cls([(key, f"{key[:1].upper()}{key[1:].lower()}: {message}")])

    @classmethod
    def raw(cls, key: str, message: str) -> InputErrors:
        return cls([(key, message)])


def not_found(entity: str) -> InputErrors:
    """Glific's `Repo.fetch_by` miss: key is the Elixir module name of the schema."""
    return InputErrors.raw(f"Elixir.Glific.{entity}", "Resource not found")


UNAUTHORIZED = "Unauthorized"
GENERIC_ERROR = (
    "Something unexpected has happened, please reach out to Glific team over discord "
    "to get this resolved"
)
