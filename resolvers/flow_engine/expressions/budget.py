"""The cost budget every expression evaluation runs under.

One `Budget` is shared by everything one evaluation does: stage 1 spends a step per token
and per lookup, stage 2 a step per AST node evaluated and more for work proportional to a
string's length. When the steps run out, `spend` raises `BudgetExceeded`; the caller decides
what that means (`substitute` lets it propagate, `evaluate` turns it into "Invalid Code").
"""

from __future__ import annotations

# The longest text one evaluation may produce (Glific's safe interpreter: 10,000 characters).
MAX_OUTPUT = 10_000


class BudgetExceeded(Exception):
    """An evaluation spent all its steps or produced more than `MAX_OUTPUT` characters."""


class Budget:
    """A number of evaluation steps; `spend(n)` takes n of them or raises `BudgetExceeded`."""

    __slots__ = ("remaining", "steps")

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.remaining = steps

    def spend(self, n: int = 1) -> None:
        self.remaining -= n
        if self.remaining < 0:
            self.remaining = 0
            raise BudgetExceeded(f"expression budget of {self.steps} steps spent")

    def check_output(self, text: str) -> str:
        """`text` if it fits in `MAX_OUTPUT` characters; BudgetExceeded otherwise."""
        if len(text) > MAX_OUTPUT:
            raise BudgetExceeded(f"expression output longer than {MAX_OUTPUT} characters")
        return text

    def __repr__(self) -> str:
        return f"Budget(steps={self.steps}, remaining={self.remaining})"
