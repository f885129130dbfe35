"""Parsing and validating documents the way Glific's server reads them, cached per text.

* snake_case names are read as the camelCase field, argument or input field
  (`is_active` -> `isActive`); a renamed field gets the name the client wrote as its alias,
  so the response key echoes the client (Absinthe's LanguageConventions adapter);
* variable values' input-object keys are camelised the same way (`{"contact_id": 1}`);
* token and alias limits are enforced on the text the client sent (our own aliases from
  the rewrite do not count);
* strings holding a NUL character or an unpaired UTF-16 surrogate (literals or variable
  values) are refused with a clear error: neither can be stored as text (PostgreSQL refuses
  NUL, nothing can encode a lone surrogate as UTF-8), so they would end as a crash;
* the parsed, rewritten document and its validation errors are cached by query text
  (ParserCache + ValidationCache in one, so the rewrite is not redone per request).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLError,
    NameNode,
    ObjectFieldNode,
    StringValueNode,
    Visitor,
    parse,
    visit,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from resolvers.validation import unstorable_text


def camel(name: str) -> str:
    if "_" not in name or name.startswith("__"):
        return name
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camelize_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {camel(k) if isinstance(k, str) else k: camelize_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camelize_keys(v) for v in value]
    return value


class _ToCamel(Visitor):
    def enter_field(self, node: FieldNode, *_: Any) -> FieldNode | None:
        name = node.name.value
        if camel(name) == name:
            return None
        return FieldNode(
            alias=node.alias or NameNode(value=name),
            name=NameNode(value=camel(name)),
            arguments=node.arguments,
            directives=node.directives,
            selection_set=node.selection_set,
            loc=node.loc,
        )

    def enter_argument(self, node: ArgumentNode, *_: Any) -> ArgumentNode | None:
        name = node.name.value
        if camel(name) == name:
            return None
        return ArgumentNode(name=NameNode(value=camel(name)), value=node.value, loc=node.loc)

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> ObjectFieldNode | None:
        name = node.name.value
        if camel(name) == name:
            return None
        return ObjectFieldNode(name=NameNode(value=camel(name)), value=node.value, loc=node.loc)


class _AliasCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.count += 1


class _UnstorableFinder(Visitor):
    """The GraphQL lexer refuses lone surrogate escapes itself; NUL (`\\u0000`) it allows."""

    def __init__(self) -> None:
        super().__init__()
        self.error: str | None = None

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        self.error = unstorable_text(node.value)
        return self.BREAK if self.error else None


class _LRU(OrderedDict[Any, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_fresh(self, key: Any) -> Any:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        if len(self) > self.size:
            self.popitem(last=False)


class DocumentCaches:
    """Shared by every request's extension instance (one per schema)."""

    def __init__(self, size: int = 512) -> None:
        self.documents = _LRU(size)
        self.validations = _LRU(size)


class GlificDocuments(SchemaExtension):
    def __init__(self, caches: DocumentCaches, *, max_tokens: int, max_aliases: int) -> None:
        self.max_tokens = max_tokens
        self.max_aliases = max_aliases
        self._documents = caches.documents
        self._validations = caches.validations

    def _document(self, query: str) -> DocumentNode:
        cached = self._documents.get_fresh(query)
        if cached is not None:
            return cached
        document = parse(query, max_tokens=self.max_tokens)
        counter = _AliasCounter()
        visit(document, counter)
        if counter.count > self.max_aliases:
            raise GraphQLError(
                f"{counter.count} aliases found; at most {self.max_aliases} are allowed"
            )
        unstorable = _UnstorableFinder()
        visit(document, unstorable)
        if unstorable.error:
            raise GraphQLError(unstorable.error)
        document = visit(document, _ToCamel())
        self._documents.put(query, document)
        return document

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is None and ec.query:
            ec.graphql_document = self._document(ec.query)
        if ec.variables:
            error = unstorable_text(ec.variables)
            if error:
                raise GraphQLError(error)
            ec.variables = {name: camelize_keys(v) for name, v in ec.variables.items()}
        yield

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.query and ec.graphql_document is not None and ec.pre_execution_errors is None:
            key = ec.query  # the rules are fixed for the schema these caches belong to
            errors = self._validations.get_fresh(key)
            if errors is None:
                errors = validate_document(
                    ec.schema._schema, ec.graphql_document, tuple(ec.validation_rules)
                )
                self._validations.put(key, errors)
            ec.pre_execution_errors = list(errors)
        yield
