"""The flow expression language: `@variable` substitution (stage 1, `templates`), the
`<%= ... %>` blocks (stage 2, `eex` over our own `interpreter`; never `eval`), the binding
map (`context`) and the cost budget every evaluation runs under (`budget`).

    ctx = bindings(org=..., contact=..., session=..., run=..., flow_name=..., flow_uuid=...,
                   now=...)
    substitute("Hi @contact.name", ctx, Budget(10_000))  # send_msg text, webhook parts
    evaluate("<%= rem(@results.n, 2) %>", ctx, Budget(10_000))  # operands, saved values
    check_expression(value)  # publish-time validation: [] when safe
"""

from resolvers.flow_engine.expressions.budget import MAX_OUTPUT, Budget, BudgetExceeded
from resolvers.flow_engine.expressions.context import bindings
from resolvers.flow_engine.expressions.eex import INVALID, check_expression, evaluate
from resolvers.flow_engine.expressions.templates import substitute, substitute_value

__all__ = [
    "INVALID",
    "MAX_OUTPUT",
    "Budget",
    "BudgetExceeded",
    "bindings",
    "check_expression",
    "evaluate",
    "substitute",
    "substitute_value",
]
