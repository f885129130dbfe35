"""The domain: every GraphQL field and every webhook event ends in a function here.

Functions take an `AsyncSession` opened for one organization plus that organization's id, and
raise `resolvers.errors` exceptions; they never import `schema` or `webhook`."""
