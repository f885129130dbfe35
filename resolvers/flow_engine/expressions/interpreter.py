"""Stage 2's language: a small, safe subset of Elixir expressions, tokenized, parsed by
recursive descent and interpreted here. Never `eval`.

Supported: integers, floats, strings (no interpolation), `true` / `false` / `nil`, lists;
`+ - * /` (`/` always gives a float, as in Elixir), `<>` and `++`; comparisons
(`== != === !== < > <= >=`, Elixir's term order across types); `and or not` (strict booleans)
and `&& || !` (truthiness: only `nil` and `false` are false); `in` / `not in` on lists;
`|>` pipes; `if c, do: a, else: b`, `if(c, do: a)`, `if c do a else b end`, and `unless`;
`cond do c1 -> v1 ... end`; and the functions in `FUNCTIONS` (Kernel's `rem`, `div`, `abs`,
`round`, ...; `String.*`, `Enum.*`, `List.*`, `Integer.to_string`, `Float.round`). Everything
else (variables, atoms, tuples, maps, anonymous functions, `Enum.random`, any other module) is
refused when parsing, so `check_expression` can report it before a flow is published.

Limits: 300 AST nodes, nesting depth 32, literals of bounded size, integers below 2**4000,
strings and lists of at most 10,000 characters / elements, and the shared `Budget`.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from resolvers.flow_engine.expressions.budget import MAX_OUTPUT, Budget, BudgetExceeded
from resolvers.flow_engine.expressions.templates import format_float

MAX_NODES = 300
MAX_DEPTH = 32  # syntactic nesting (parentheses, calls, lists, if, unary operators)
MAX_TREE_DEPTH = 200  # a left-associative chain `1 + 1 + ...` is deep but not nested
MAX_LITERAL = 64  # digits in a number literal
MAX_INT_BITS = 4000
MAX_LIST = 10_000


class ExprError(Exception):
    """Anything that makes a `<%= %>` block "Invalid Code"."""


class ParseError(ExprError):
    """The block is not a well-formed expression."""


class Unsupported(ExprError):
    """The block uses a construct or function outside the allowed subset."""


class EvalError(ExprError):
    """The block failed while running (a type error, division by zero, a bad argument)."""


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # int float str ident alias kw op var eof
    text: str
    value: Any = None
    newline_before: bool = False


_OPERATORS = (
    "===",
    "!==",
    "not in",
    "==",
    "!=",
    "<=",
    ">=",
    "<>",
    "|>",
    "&&",
    "||",
    "++",
    "->",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "!",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
)
_NUMBER = re.compile(r"\d[\d_]*(\.\d[\d_]*(?:[eE][+-]?\d+)?)?")
_IDENT = re.compile(r"[a-z_][A-Za-z0-9_]*[?!]?")
_ALIAS = re.compile(r"[A-Z][A-Za-z0-9_]*")
_VAR = re.compile(r"@[\w-]+(?:\.[\w-]+)*")
_NOT_IN = re.compile(r"not\s+in\b")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "#": "#", "s": " "}
_WORDS = {"and", "or", "not", "in", "if", "unless", "do", "else", "end", "cond", "true"}
_WORDS |= {"false", "nil", "fn", "case", "when", "with", "for", "receive", "try", "quote"}


def tokenize(code: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(code)
    newline = False
    while i < n:
        ch = code[i]
        if ch in " \t\r\n":
            newline = newline or ch == "\n"
            i += 1
            continue
        if ch == "#":
            while i < n and code[i] != "\n":
                i += 1
            continue
        start = i
        if ch.isdigit() and ch.isascii():
            m = _NUMBER.match(code, i)
            assert m is not None
            text = m.group(0)
            if len(text) > MAX_LITERAL:
                raise ParseError("number literal too long")
            if code[m.end() : m.end() + 1].isalpha():
                raise ParseError(f"bad number {code[i : m.end() + 1]!r}")
            clean = text.replace("_", "")
            if m.group(1):
                tokens.append(Token("float", text, float(clean), newline))
            else:
                tokens.append(Token("int", text, int(clean), newline))
            i = m.end()
        elif ch == '"':
            value, i = _string(code, i)
            tokens.append(Token("str", code[start:i], value, newline))
        elif ch == "@":
            m = _VAR.match(code, i)
            if m is None:
                raise Unsupported("module attributes are not allowed")
            tokens.append(Token("var", m.group(0), m.group(0)[1:].split("."), newline))
            i = m.end()
        elif (m := _NOT_IN.match(code, i)) is not None:
            tokens.append(Token("op", "not in", None, newline))
            i = m.end()
        elif (m := _IDENT.match(code, i)) is not None:
            text = m.group(0)
            i = m.end()
            if code[i : i + 1] == ":" and code[i + 1 : i + 2] != ":":
                tokens.append(Token("kw", text, None, newline))
                i += 1
            else:
                tokens.append(Token("ident", text, None, newline))
        elif (m := _ALIAS.match(code, i)) is not None:
            tokens.append(Token("alias", m.group(0), None, newline))
            i = m.end()
        else:
            for op in _OPERATORS:
                if code.startswith(op, i):
                    tokens.append(Token("op", op, None, newline))
                    i += len(op)
                    break
            else:
                raise _unsupported_char(code, i)
        newline = False
    tokens.append(Token("eof", "", None, newline))
    return tokens


def _unsupported_char(code: str, i: int) -> ExprError:
    ch = code[i]
    names = {
        "{": "tuples and maps",
        "%": "maps and structs",
        ":": "atoms",
        "&": "function captures",
        "=": "the match operator",
        "'": "charlists",
        "~": "sigils",
        "|": "the | operator",
        "^": "the pin operator",
        ";": "several expressions",
    }
    if ch in names:
        return Unsupported(f"{names[ch]} are not allowed")
    return ParseError(f"unexpected character {ch!r}")


def _string(code: str, i: int) -> tuple[str, int]:
    if code.startswith('"""', i):
        raise Unsupported("heredocs are not allowed")
    out: list[str] = []
    i += 1
    n = len(code)
    while i < n:
        ch = code[i]
        if ch == '"':
            return "".join(out), i + 1
        if ch == "\\":
            nxt = code[i + 1 : i + 2]
            if nxt not in _ESCAPES:
                raise ParseError(f"unsupported escape \\{nxt}")
            out.append(_ESCAPES[nxt])
            i += 2
            continue
        if ch == "#" and code[i + 1 : i + 2] == "{":
            raise Unsupported("string interpolation is not allowed")
        out.append(ch)
        i += 1
        if len(out) > MAX_OUTPUT:
            raise ParseError("string literal too long")
    raise ParseError("unterminated string")


# --- the tree -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """kind: const (value), list, unary (value = op), binary (value = op), call (value = the
    function's name), if (cond, then, else), cond (pairs of children), var (value = path)."""

    kind: str
    value: Any = None
    children: tuple[Node, ...] = ()
    depth: int = field(default=1, compare=False)


@dataclass
class _Parser:
    tokens: list[Token]
    pos: int = 0
    nodes: int = 0
    nesting: int = 0
    work: int = 0  # tokens consumed, backtracking included

    # helpers

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def next(self) -> Token:
        tok = self.peek()
        self.pos += 1
        self.work += 1
        if self.work > 20 * len(self.tokens) + 1000:
            raise Unsupported("expression too complex")
        return tok

    def at(self, kind: str, text: str | None = None) -> bool:
        tok = self.peek()
        return tok.kind == kind and (text is None or tok.text == text)

    def at_op(self, *ops: str) -> bool:
        tok = self.peek()
        return tok.kind == "op" and tok.text in ops

    def at_word(self, *words: str) -> bool:
        tok = self.peek()
        return tok.kind == "ident" and tok.text in words

    def expect_op(self, op: str) -> None:
        if not self.at_op(op):
            raise ParseError(f"expected {op!r}, found {self.peek().text or 'end of code'!r}")
        self.pos += 1

    def expect_word(self, word: str) -> None:
        if not self.at_word(word):
            raise ParseError(f"expected {word!r}, found {self.peek().text or 'end of code'!r}")
        self.pos += 1

    def make(self, kind: str, value: Any = None, children: tuple[Node, ...] = ()) -> Node:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise Unsupported(f"expression longer than {MAX_NODES} nodes")
        depth = 1 + max((c.depth for c in children), default=0)
        if depth > MAX_TREE_DEPTH:
            raise Unsupported("expression nested too deeply")
        return Node(kind, value, children, depth)

    def nest(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise Unsupported("expression nested too deeply")

    # grammar, loosest first

    def program(self) -> Node:
        if self.at("eof"):
            raise ParseError("empty expression")
        node = self.expr()
        if not self.at("eof"):
            raise ParseError(f"unexpected {self.peek().text!r}")
        return node

    def expr(self) -> Node:
        self.nest()
        node = self.binary_left(0)
        self.nesting -= 1
        return node

    # (operators, right-hand side parser level) from loosest to tightest; each level is
    # left-associative except concatenation (handled in `concat`).
    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||", "or"),
        ("&&", "and"),
        ("==", "!=", "===", "!=="),
        ("<", ">", "<=", ">="),
        ("|>",),
        ("in", "not in"),
    )

    def binary_left(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.concat()
        ops = self._LEVELS[level]
        left = self.binary_left(level + 1)
        while True:
            tok = self.peek()
            is_op = (tok.kind == "op" and tok.text in ops) or (
                tok.kind == "ident" and tok.text in ops
            )
            if not is_op:
                return left
            self.pos += 1
            right = self.binary_left(level + 1)
            if tok.text == "|>":
                left = self.pipe(left, right)
            else:
                left = self.make("binary", tok.text, (left, right))

    def pipe(self, left: Node, right: Node) -> Node:
        if right.kind != "call":
            raise ParseError("the right side of |> must be a function call")
        return self.make("call", right.value, (left, *right.children))

    def concat(self) -> Node:
        operands = [self.additive()]
        ops: list[str] = []
        while self.at_op("<>", "++"):
            ops.append(self.next().text)
            operands.append(self.additive())
        node = operands[-1]
        for op, left in zip(reversed(ops), reversed(operands[:-1]), strict=True):
            node = self.make("binary", op, (left, node))
        return node

    def additive(self) -> Node:
        left = self.multiplicative()
        while self.at_op("+", "-"):
            op = self.next().text
            left = self.make("binary", op, (left, self.multiplicative()))
        return left

    def multiplicative(self) -> Node:
        left = self.unary()
        while self.at_op("*", "/"):
            op = self.next().text
            left = self.make("binary", op, (left, self.unary()))
        return left

    def unary(self) -> Node:
        if self.at_op("-", "+", "!") or self.at_word("not"):
            op = self.next().text
            self.nest()
            operand = self.unary()
            self.nesting -= 1
            if op == "-" and operand.kind == "const" and _is_number(operand.value):
                return self.make("const", -operand.value)
            return self.make("unary", op, (operand,))
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        if self.at_op("."):
            raise Unsupported("field access is not allowed")
        if self.at_op("[") and not self.peek().newline_before:
            raise Unsupported("access syntax is not allowed")
        return node

    def primary(self) -> Node:
        tok = self.next()
        if tok.kind in ("int", "float", "str"):
            return self.make("const", tok.value)
        if tok.kind == "var":
            return self.make("var", tuple(tok.value))
        if tok.kind == "op":
            if tok.text == "(":
                node = self.expr()
                self.expect_op(")")
                return node
            if tok.text == "[":
                return self.list_literal()
            raise ParseError(f"unexpected {tok.text!r}")
        if tok.kind == "alias":
            return self.remote_call(tok)
        if tok.kind == "ident":
            return self.word(tok)
        if tok.kind == "kw":
            raise Unsupported("keyword lists are only allowed in if/unless")
        raise ParseError("unexpected end of code")

    def word(self, tok: Token) -> Node:
        text = tok.text
        if text == "true":
            return self.make("const", True)
        if text == "false":
            return self.make("const", False)
        if text == "nil":
            return self.make("const", None)
        if text in ("if", "unless"):
            return self.if_expr(negate=text == "unless")
        if text == "cond":
            return self.cond_expr()
        if text in ("and", "or", "in", "do", "else", "end"):
            raise ParseError(f"unexpected {text!r}")
        if text in _WORDS:
            raise Unsupported(f"{text!r} is not allowed")
        if self.at_op("(") and not self.peek().newline_before:
            return self.call(text, text)
        raise Unsupported(f"variables are not allowed ({text})")

    def remote_call(self, first: Token) -> Node:
        parts = [first.text]
        while self.at_op("."):
            self.pos += 1
            tok = self.next()
            if tok.kind == "alias":
                parts.append(tok.text)
            elif tok.kind == "ident":
                parts.append(tok.text)
                break
            else:
                raise ParseError("expected a function name after '.'")
        name = ".".join(parts)
        if parts[-1][:1].isupper():
            raise Unsupported(f"module {name} used as a value")
        if not self.at_op("("):
            # `x |> String.upcase` without parentheses.
            if name not in FUNCTIONS:
                raise Unsupported(f"function {name} is not allowed")
            return self.make("call", name)
        return self.call(name, name)

    def call(self, name: str, shown: str) -> Node:
        if name not in FUNCTIONS:
            raise Unsupported(f"function {shown} is not allowed")
        self.expect_op("(")
        args: list[Node] = []
        self.nest()
        if not self.at_op(")"):
            args.append(self.expr())
            while self.at_op(","):
                self.pos += 1
                args.append(self.expr())
        self.expect_op(")")
        self.nesting -= 1
        return self.make("call", name, tuple(args))

    def list_literal(self) -> Node:
        items: list[Node] = []
        self.nest()
        if not self.at_op("]"):
            items.append(self.expr())
            while self.at_op(","):
                self.pos += 1
                items.append(self.expr())
        self.expect_op("]")
        self.nesting -= 1
        return self.make("list", None, tuple(items))

    def if_expr(self, *, negate: bool) -> Node:
        self.nest()
        # `if(c, do: a, else: b)`: try the call form first, fall back to a parenthesized
        # condition (`if (a > b) and c, do: ...`).
        if self.at_op("("):
            saved = (self.pos, self.nodes)
            self.pos += 1
            cond = self.expr()
            if self.at_op(","):
                self.pos += 1
                then, other = self.keyword_branches()
                self.expect_op(")")
                return self.finish_if(cond, then, other, negate)
            self.pos, self.nodes = saved
        cond = self.expr()
        if self.at_op(","):
            self.pos += 1
            then, other = self.keyword_branches()
        elif self.at_word("do"):
            self.pos += 1
            then = self.expr()
            other = None
            if self.at_word("else"):
                self.pos += 1
                other = self.expr()
            self.expect_word("end")
        else:
            raise ParseError("if needs `, do:` or `do ... end`")
        return self.finish_if(cond, then, other, negate)

    def finish_if(self, cond: Node, then: Node, other: Node | None, negate: bool) -> Node:
        self.nesting -= 1
        if other is None:
            other = self.make("const", None)
        if negate:
            then, other = other, then
        return self.make("if", None, (cond, then, other))

    def keyword_branches(self) -> tuple[Node, Node | None]:
        if not self.at("kw", "do"):
            raise ParseError("expected do:")
        self.pos += 1
        then = self.expr()
        other = None
        if self.at_op(","):
            self.pos += 1
            if not self.at("kw", "else"):
                raise ParseError("expected else:")
            self.pos += 1
            other = self.expr()
        return then, other

    def cond_expr(self) -> Node:
        self.nest()
        self.expect_word("do")
        clauses: list[Node] = []
        while not self.at_word("end"):
            if self.at("eof"):
                raise ParseError("cond without end")
            if clauses and not self.peek().newline_before:
                raise ParseError("cond clauses must be on separate lines")
            clauses.append(self.expr())
            self.expect_op("->")
            clauses.append(self.expr())
        self.pos += 1
        if not clauses:
            raise ParseError("cond without clauses")
        self.nesting -= 1
        return self.make("cond", None, tuple(clauses))


def parse(code: str) -> Node:
    """The tree of one `<%= %>` block's code; ParseError or Unsupported when it is not in the
    allowed subset."""
    if len(code) > MAX_OUTPUT:
        raise Unsupported("expression too long")
    tree = _Parser(tokenize(code)).program()
    _validate(tree)
    return tree


def _validate(node: Node) -> None:
    """Arity of every call (checked after parsing: a pipe adds the first argument)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.kind == "call":
            low, high, _ = FUNCTIONS[current.value]
            if not low <= len(current.children) <= high:
                raise ParseError(
                    f"{current.value} takes {_arity_text(low, high)}, got {len(current.children)}"
                )
        stack.extend(current.children)


def _arity_text(low: int, high: int) -> str:
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} to {high} arguments"


# --- values ---------------------------------------------------------------------------------


def _is_number(v: Any) -> bool:
    return type(v) in (int, float)


def _type_name(v: Any) -> str:
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "list"
    return type(v).__name__


def _rank(v: Any) -> int:
    # Elixir's term order: number < atom < ... < list < bitstring.
    if _is_number(v):
        return 0
    if v is None or isinstance(v, bool):
        return 1
    if isinstance(v, list):
        return 7
    return 8


def _atom(v: Any) -> str:
    return "nil" if v is None else ("true" if v else "false")


def equal(a: Any, b: Any) -> bool:
    """Elixir `==`: 1 == 1.0, but true != 1 and "1" != 1."""
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def strict_equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def compare(a: Any, b: Any) -> int:
    """-1, 0 or 1 in Elixir's term order."""
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra == 1:
        a, b = _atom(a), _atom(b)
    elif ra == 7:
        for x, y in zip(a, b, strict=False):
            c = compare(x, y)
            if c:
                return c
        a, b = len(a), len(b)
    elif ra == 8:
        # Binaries compare byte-wise.
        a, b = a.encode(), b.encode()
    return -1 if a < b else (1 if a > b else 0)


def truthy(v: Any) -> bool:
    return v is not None and v is not False


def to_text(v: Any) -> str:
    """Elixir `to_string` for what a block may output."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return format_float(v)
    if isinstance(v, str):
        return v
    raise EvalError(f"cannot output a {_type_name(v)}")


# --- evaluation -----------------------------------------------------------------------------


def run(node: Node, budget: Budget) -> Any:
    """The value of a parsed tree; EvalError when it fails, BudgetExceeded when it costs
    more than the budget."""
    budget.spend()
    kind = node.kind
    if kind == "const":
        return node.value
    if kind == "var":
        raise EvalError("@" + ".".join(node.value) + " is not defined")
    if kind == "list":
        return [run(c, budget) for c in node.children]
    if kind == "if":
        cond, then, other = node.children
        return run(then if truthy(run(cond, budget)) else other, budget)
    if kind == "cond":
        pairs = node.children
        for i in range(0, len(pairs), 2):
            if truthy(run(pairs[i], budget)):
                return run(pairs[i + 1], budget)
        raise EvalError("no cond clause evaluated to a truthy value")
    if kind == "unary":
        return _unary(node.value, run(node.children[0], budget))
    if kind == "binary":
        return _binary(node, budget)
    if kind == "call":
        impl = FUNCTIONS[node.value][2]
        args = [run(c, budget) for c in node.children]
        return _checked(impl(args, budget))
    raise EvalError(f"unknown node {kind}")  # pragma: no cover


def _unary(op: str, v: Any) -> Any:
    if op == "-":
        return -_number(v, "-")
    if op == "+":
        return _number(v, "+")
    if op == "!":
        return not truthy(v)
    if not isinstance(v, bool):
        raise EvalError(f"not expects a boolean, got {_type_name(v)}")
    return not v


def _binary(node: Node, budget: Budget) -> Any:
    op = node.value
    left_node, right_node = node.children
    a = run(left_node, budget)
    # Short-circuit operators.
    if op in ("and", "or"):
        if not isinstance(a, bool):
            raise EvalError(f"{op} expects a boolean on its left, got {_type_name(a)}")
        if (op == "and") != a:
            return a
        return run(right_node, budget)
    if op == "&&":
        return run(right_node, budget) if truthy(a) else a
    if op == "||":
        return a if truthy(a) else run(right_node, budget)
    b = run(right_node, budget)
    if op == "==":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    if op == "===":
        return strict_equal(a, b)
    if op == "!==":
        return not strict_equal(a, b)
    if op in ("<", ">", "<=", ">="):
        budget.spend(_cost(a) + _cost(b))
        c = compare(a, b)
        return {"<": c < 0, ">": c > 0, "<=": c <= 0, ">=": c >= 0}[op]
    if op in ("in", "not in"):
        if not isinstance(b, list):
            raise EvalError(f"{op} expects a list on its right")
        budget.spend(len(b))
        found = any(equal(a, x) for x in b)
        return found if op == "in" else not found
    if op == "<>":
        if not isinstance(a, str) or not isinstance(b, str):
            raise EvalError("<> expects two strings")
        budget.spend(_cost(a) + _cost(b))
        return _checked(a + b)
    if op == "++":
        if not isinstance(a, list) or not isinstance(b, list):
            raise EvalError("++ expects two lists")
        budget.spend(len(a) + len(b))
        return _checked(a + b)
    x, y = _number(a, op), _number(b, op)
    try:
        return _arithmetic(op, x, y)
    except OverflowError as exc:
        raise EvalError(f"arithmetic overflow in {op}") from exc


def _arithmetic(op: str, x: int | float, y: int | float) -> Any:
    if op == "+":
        return _checked(x + y)
    if op == "-":
        return _checked(x - y)
    if op == "*":
        if isinstance(x, int) and isinstance(y, int) and x.bit_length() + y.bit_length() > 4000:
            raise EvalError("integer too large")
        return _checked(x * y)
    if y == 0:
        raise EvalError("division by zero")
    return _checked(x / y)


def _number(v: Any, op: str) -> int | float:
    if not _is_number(v):
        raise EvalError(f"bad argument in arithmetic expression ({op} on {_type_name(v)})")
    return v  # type: ignore[no-any-return]


def _cost(v: Any) -> int:
    return len(v) // 64 if isinstance(v, (str, list)) else 0


def _checked(v: Any) -> Any:
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, int):
        if v.bit_length() > MAX_INT_BITS:
            raise EvalError("integer too large")
    elif isinstance(v, float):
        if not math.isfinite(v):
            raise EvalError("float overflow")
    elif isinstance(v, str):
        if len(v) > MAX_OUTPUT:
            raise BudgetExceeded(f"string longer than {MAX_OUTPUT} characters")
    elif isinstance(v, list) and len(v) > MAX_LIST:
        raise BudgetExceeded(f"list longer than {MAX_LIST} elements")
    return v


# --- functions ------------------------------------------------------------------------------

Impl = Callable[[list[Any], Budget], Any]


def _int(v: Any, fn: str) -> int:
    if type(v) is not int:
        raise EvalError(f"{fn} expects integers, got {_type_name(v)}")
    return v


def _str(v: Any, fn: str) -> str:
    if not isinstance(v, str):
        raise EvalError(f"{fn} expects a string, got {_type_name(v)}")
    return v


def _list(v: Any, fn: str) -> list[Any]:
    if not isinstance(v, list):
        raise EvalError(f"{fn} expects a list, got {_type_name(v)}")
    return v


def _rem(args: list[Any], _: Budget) -> int:
    a, b = _int(args[0], "rem"), _int(args[1], "rem")
    if b == 0:
        raise EvalError("rem by zero")
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def _div(args: list[Any], _: Budget) -> int:
    a, b = _int(args[0], "div"), _int(args[1], "div")
    if b == 0:
        raise EvalError("div by zero")
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def _round_half_away(x: float) -> int:
    return math.floor(abs(x) + 0.5) * (1 if x >= 0 else -1)


def _round(args: list[Any], _: Budget) -> int:
    x = _number(args[0], "round")
    return x if isinstance(x, int) else _round_half_away(x)


def _trunc(args: list[Any], _: Budget) -> int:
    x = _number(args[0], "trunc")
    return x if isinstance(x, int) else int(x)


def _float_round(args: list[Any], _: Budget) -> float:
    x = _number(args[0], "Float.round")
    if not isinstance(x, float):
        raise EvalError("Float.round expects a float")
    places = _int(args[1], "Float.round") if len(args) > 1 else 0
    if not 0 <= places <= 15:
        raise EvalError("Float.round precision must be 0..15")
    exp = Decimal(1).scaleb(-places)
    return float(Decimal(repr(x)).quantize(exp, rounding=ROUND_HALF_UP))


def _max_min(pick: Callable[[int], bool]) -> Impl:
    def impl(args: list[Any], _: Budget) -> Any:
        a, b = args
        return a if pick(compare(a, b)) else b

    return impl


def _to_string(args: list[Any], _: Budget) -> str:
    return to_text(args[0])


def _length(args: list[Any], _: Budget) -> int:
    return len(_list(args[0], "length"))


def _is(check: Callable[[Any], bool]) -> Impl:
    return lambda args, _: check(args[0])


def _s(fn: Callable[[str], Any], name: str) -> Impl:
    def impl(args: list[Any], budget: Budget) -> Any:
        s = _str(args[0], name)
        budget.spend(_cost(s))
        return fn(s)

    return impl


def _capitalize(s: str) -> str:
    return s[:1].upper() + s[1:].lower()


def _contains(args: list[Any], budget: Budget) -> bool:
    s = _str(args[0], "String.contains?")
    subs = args[1] if isinstance(args[1], list) else [args[1]]
    budget.spend(_cost(s) * max(1, len(subs)))
    return any(_str(sub, "String.contains?") in s for sub in subs)


def _affix(name: str, check: Callable[[str, str], bool]) -> Impl:
    def impl(args: list[Any], budget: Budget) -> bool:
        s = _str(args[0], name)
        fixes = args[1] if isinstance(args[1], list) else [args[1]]
        budget.spend(len(fixes))
        return any(check(s, _str(f, name)) for f in fixes)

    return impl


def _replace(args: list[Any], budget: Budget) -> str:
    s = _str(args[0], "String.replace")
    old = _str(args[1], "String.replace")
    new = _str(args[2], "String.replace")
    if not old:
        raise EvalError("String.replace with an empty pattern is not supported")
    budget.spend(_cost(s) + 1)
    if len(new) > len(old) and s.count(old) * (len(new) - len(old)) + len(s) > MAX_OUTPUT:
        raise BudgetExceeded(f"string longer than {MAX_OUTPUT} characters")
    return s.replace(old, new)


def _split(args: list[Any], budget: Budget) -> list[str]:
    s = _str(args[0], "String.split")
    budget.spend(_cost(s) + 1)
    if len(args) == 1:
        return s.split()
    sep = _str(args[1], "String.split")
    if sep == "":
        return [*list(s), ""] if s else [""]
    return s.split(sep)


def _slice(args: list[Any], budget: Budget) -> str:
    s = _str(args[0], "String.slice")
    start = _int(args[1], "String.slice")
    length = _int(args[2], "String.slice")
    if length < 0:
        raise EvalError("String.slice length must not be negative")
    if start < 0:
        start = max(0, len(s) + start)
    return s[start : start + length]


def _at(args: list[Any], _: Budget) -> Any:
    items = _list(args[0], "Enum.at")
    i = _int(args[1], "Enum.at")
    if -len(items) <= i < len(items):
        return items[i]
    return args[2] if len(args) > 2 else None


def _to_integer(args: list[Any], _: Budget) -> int:
    s = _str(args[0], "String.to_integer")
    if not re.fullmatch(r"[+-]?[0-9]{1,60}", s):
        raise EvalError(f"String.to_integer: not an integer: {s[:20]!r}")
    return int(s)


def _to_float(args: list[Any], _: Budget) -> float:
    s = _str(args[0], "String.to_float")
    if not re.fullmatch(r"[+-]?[0-9]{1,60}\.[0-9]{1,60}(?:[eE][+-]?[0-9]{1,3})?", s):
        raise EvalError(f"String.to_float: not a float: {s[:20]!r}")
    return _checked(float(s))  # type: ignore[no-any-return]


def _join(args: list[Any], budget: Budget) -> str:
    items = _list(args[0], "Enum.join")
    sep = _str(args[1], "Enum.join") if len(args) > 1 else ""
    budget.spend(len(items))
    parts = [to_text(x) for x in items]
    if sum(map(len, parts)) + len(sep) * len(parts) > MAX_OUTPUT:
        raise BudgetExceeded(f"string longer than {MAX_OUTPUT} characters")
    return sep.join(parts)


def _sum(args: list[Any], budget: Budget) -> int | float:
    items = _list(args[0], "Enum.sum")
    budget.spend(len(items))
    total: int | float = 0
    for x in items:
        total = _checked(total + _number(x, "Enum.sum"))
    return total


def _extreme(name: str, pick: Callable[[int], bool]) -> Impl:
    def impl(args: list[Any], budget: Budget) -> Any:
        items = _list(args[0], name)
        if not items:
            raise EvalError(f"{name} of an empty list")
        budget.spend(len(items))
        best = items[0]
        for x in items[1:]:
            if pick(compare(x, best)):
                best = x
        return best

    return impl


def _sort(args: list[Any], budget: Budget) -> list[Any]:
    items = _list(args[0], "Enum.sort")
    budget.spend(len(items) * max(1, len(items).bit_length()))
    return sorted(items, key=functools.cmp_to_key(compare))


def _first_last(index: int, name: str) -> Impl:
    def impl(args: list[Any], _: Budget) -> Any:
        items = _list(args[0], name)
        return items[index] if items else None

    return impl


def _member(args: list[Any], budget: Budget) -> bool:
    items = _list(args[0], "Enum.member?")
    budget.spend(len(items))
    return any(equal(args[1], x) for x in items)


def _integer_to_string(args: list[Any], _: Budget) -> str:
    return str(_int(args[0], "Integer.to_string"))


def _number_is(kind: type) -> Callable[[Any], bool]:
    return lambda v: type(v) is kind


# name -> (min arity, max arity, implementation)
FUNCTIONS: dict[str, tuple[int, int, Impl]] = {
    "rem": (2, 2, _rem),
    "div": (2, 2, _div),
    "abs": (1, 1, lambda a, _: abs(_number(a[0], "abs"))),
    "round": (1, 1, _round),
    "trunc": (1, 1, _trunc),
    "max": (2, 2, _max_min(lambda c: c >= 0)),
    "min": (2, 2, _max_min(lambda c: c <= 0)),
    "to_string": (1, 1, _to_string),
    "length": (1, 1, _length),
    "is_nil": (1, 1, _is(lambda v: v is None)),
    "is_number": (1, 1, _is(_is_number)),
    "is_integer": (1, 1, _is(_number_is(int))),
    "is_float": (1, 1, _is(_number_is(float))),
    "is_binary": (1, 1, _is(lambda v: isinstance(v, str))),
    "is_boolean": (1, 1, _is(lambda v: isinstance(v, bool))),
    "is_list": (1, 1, _is(lambda v: isinstance(v, list))),
    "String.upcase": (1, 1, _s(str.upper, "String.upcase")),
    "String.downcase": (1, 1, _s(str.lower, "String.downcase")),
    "String.capitalize": (1, 1, _s(_capitalize, "String.capitalize")),
    "String.trim": (1, 1, _s(str.strip, "String.trim")),
    "String.length": (1, 1, _s(len, "String.length")),
    "String.reverse": (1, 1, _s(lambda s: s[::-1], "String.reverse")),
    "String.contains?": (2, 2, _contains),
    "String.starts_with?": (2, 2, _affix("String.starts_with?", str.startswith)),
    "String.ends_with?": (2, 2, _affix("String.ends_with?", str.endswith)),
    "String.replace": (3, 3, _replace),
    "String.split": (1, 2, _split),
    "String.slice": (3, 3, _slice),
    "String.to_integer": (1, 1, _to_integer),
    "String.to_float": (1, 1, _to_float),
    "Integer.to_string": (1, 1, _integer_to_string),
    "Float.round": (1, 2, _float_round),
    "Enum.member?": (2, 2, _member),
    "Enum.count": (1, 1, _length),
    "Enum.join": (1, 2, _join),
    "Enum.at": (2, 3, _at),
    "Enum.sum": (1, 1, _sum),
    "Enum.max": (1, 1, _extreme("Enum.max", lambda c: c > 0)),
    "Enum.min": (1, 1, _extreme("Enum.min", lambda c: c < 0)),
    "Enum.sort": (1, 1, _sort),
    "Enum.reverse": (1, 1, lambda a, _: list(reversed(_list(a[0], "Enum.reverse")))),
    "List.first": (1, 1, _first_last(0, "List.first")),
    "List.last": (1, 1, _first_last(-1, "List.last")),
}
for _name in ("rem", "div", "abs", "round", "trunc", "max", "min", "to_string", "length"):
    FUNCTIONS["Kernel." + _name] = FUNCTIONS[_name]


def names() -> Sequence[str]:
    """The functions a block may call, for error messages and documentation."""
    return sorted(FUNCTIONS)
