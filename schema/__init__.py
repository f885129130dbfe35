"""The GraphQL API (Strawberry): types, inputs, scalars, permissions, DataLoaders and the
Query/Mutation/Subscription roots. Thin: arguments in, a resolver call, a type out."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import AddValidationRules, MaskErrors
from strawberry.extensions.query_depth_limiter import create_validator
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from models.errors import DatabaseUnavailable
from resolvers.errors import GENERIC_ERROR, DomainError
from schema.executor import FastLeafExecutionContext
from schema.extensions.documents import DocumentCaches, GlificDocuments
from schema.relations import relations
from schema.root import RootMutationType, RootQueryType
from schema.root import RootSubscriptionType as RootSubscriptionType  # for the server
from schema.scalars import SCALAR_MAP
from settings import Settings

log = logging.getLogger("glific.graphql")


def is_unexpected(error: GraphQLError) -> bool:
    """A crash inside a resolver (not a refusal we meant to send): shown only generically."""
    original = error.original_error
    return (
        error.path is not None
        and original is not None
        and not isinstance(original, (DomainError, GraphQLError, DatabaseUnavailable))
    )


class GlificSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if is_unexpected(error):
                log.error("resolver crashed at %s", error.path, exc_info=error.original_error)


def build_schema(
    settings: Settings,
    *,
    query: type = RootQueryType,
    mutation: type | None = RootMutationType,
    subscription: type | None = None,
) -> strawberry.Schema:
    """The API's schema; the relations its types declare are checked here (schema.relations),
    so a declaration the read path cannot serve stops the start-up. The server passes
    `subscription=RootSubscriptionType` (left out by default, so a schema built around a
    query type of its own holds only what that type reaches)."""
    caches = DocumentCaches()
    depth_rule = create_validator(settings.max_query_depth, None, None)
    extensions: list[Any] = [
        lambda: GlificDocuments(
            caches, max_tokens=settings.max_tokens, max_aliases=settings.max_aliases
        ),
        # One rule class for the schema (QueryDepthLimiter would build one per request).
        lambda: AddValidationRules([depth_rule]),
        # A crash shows only Glific's generic message, over HTTP and on the socket alike.
        lambda: MaskErrors(should_mask_error=is_unexpected, error_message=GENERIC_ERROR),
    ]
    schema = GlificSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        execution_context_class=FastLeafExecutionContext,
    )
    relations(schema._schema)
    return schema
