"""``{{#expr:}}``: ParserFunctions' arithmetic, evaluated without ``eval``.

Numbers, ``+ - * / div mod ^``, comparisons, ``and or not``, ``round``,
unary ``abs floor ceil trunc``, ``e`` and ``pi``; precedence as in
ParserFunctions. Inputs are short; a length cap keeps it so.
"""

from __future__ import annotations

import math
import re

_TOKEN = re.compile(r"\s*(\d+\.?\d*(?:e[-+]?\d+)?|\.\d+|<=|>=|<>|!=|[-+*/^()=<>]|[a-z]+)", re.I)
_BINARY = [
    ({"or"}, 1), ({"and"}, 2), ({"=", "<>", "!=", "<", ">", "<=", ">="}, 3), ({"round"}, 4),
    ({"+", "-"}, 5), ({"*", "/", "div", "mod", "fmod"}, 6), ({"^"}, 7),
]
_UNARY = {"-", "+", "not", "abs", "floor", "ceil", "trunc", "ln", "exp", "sqrt", "sin", "cos", "tan"}
MAX_LENGTH = 1000


class ExprError(ValueError):
    """An expression ParserFunctions would also refuse; ``key`` names ParserFunctions' message, ``arg`` its $1."""

    def __init__(self, text: str, key: str = "", arg: str = "") -> None:
        super().__init__(text)
        self.key, self.arg = key, arg


def _unexpected(token: str) -> ExprError:
    """The error for a token where none of its kind may stand, as ParserFunctions words it."""
    if token == ")":
        return ExprError(f"unexpected {token!r}", "pfunc_expr_unexpected_closing_bracket")
    if token[:1].isdigit() or token[:1] == ".":
        return ExprError(f"unexpected {token!r}", "pfunc_expr_unexpected_number")
    if token.isalpha() and token not in _UNARY and not any(token in ops for ops, _ in _BINARY):
        return ExprError(f"unexpected {token!r}", "pfunc_expr_unrecognised_word", token)
    return ExprError(f"unexpected {token!r}", "pfunc_expr_unexpected_operator", token)


def evaluate(text: str) -> float:
    """The value of ``text``."""
    if len(text) > MAX_LENGTH:
        raise ExprError("expression too long")
    tokens = _tokens(text)
    try:
        value, rest = _binary(tokens, 0, 0)
    except RecursionError:
        raise ExprError("expression nested too deeply", "pfunc_expr_stack_exhausted") from None
    if rest != len(tokens):
        raise _unexpected(tokens[rest])
    return value


def format_number(value: float) -> str:
    """A result as ParserFunctions prints it."""
    if math.isnan(value) or math.isinf(value):
        return "NAN" if math.isnan(value) else ("INF" if value > 0 else "-INF")
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.14G}".replace("E+", "E")


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ExprError(f'Unrecognized punctuation character "{text[pos]}".',
                            "pfunc_expr_unrecognised_punctuation", text[pos])
        tokens.append(m.group(1).lower())
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def _binary(tokens: list[str], pos: int, level: int) -> tuple[float, int]:
    if level == len(_BINARY):
        return _unary(tokens, pos)
    left, pos = _binary(tokens, pos, level + 1)
    ops = _BINARY[level][0]
    while pos < len(tokens) and tokens[pos] in ops:
        op = tokens[pos]
        right, pos = _binary(tokens, pos + 1, level + 1)
        left = _apply(op, left, right)
    return left, pos


def _unary(tokens: list[str], pos: int) -> tuple[float, int]:
    if pos >= len(tokens):
        raise ExprError("missing operand")
    token = tokens[pos]
    if token in _UNARY:
        value, pos = _unary(tokens, pos + 1)
        return _apply_unary(token, value), pos
    if token == "(":
        value, pos = _binary(tokens, pos + 1, 0)
        if pos >= len(tokens) or tokens[pos] != ")":
            raise ExprError("unclosed bracket", "pfunc_expr_unclosed_bracket")
        return value, pos + 1
    if token == "e":
        return math.e, pos + 1
    if token == "pi":
        return math.pi, pos + 1
    try:
        return float(token), pos + 1
    except ValueError:
        raise _unexpected(token) from None


def _apply_unary(op: str, value: float) -> float:
    try:
        return {
            "-": lambda v: -v, "+": lambda v: v, "not": lambda v: float(not v), "abs": abs,
            "floor": math.floor, "ceil": math.ceil, "trunc": math.trunc, "ln": math.log,
            "exp": math.exp, "sqrt": math.sqrt, "sin": math.sin, "cos": math.cos, "tan": math.tan,
        }[op](value)
    except (ValueError, OverflowError) as exc:
        raise ExprError(str(exc)) from None


def _apply(op: str, a: float, b: float) -> float:
    try:
        if op in ("/", "div", "mod", "fmod") and b == 0:
            raise ExprError("division by zero", "pfunc_expr_division_by_zero")
        if op == "^" and abs(b) > 1000:
            raise ExprError("exponent too large")
        return {
            "or": lambda: float(bool(a) or bool(b)), "and": lambda: float(bool(a) and bool(b)),
            "=": lambda: float(a == b), "<>": lambda: float(a != b), "!=": lambda: float(a != b),
            "<": lambda: float(a < b), ">": lambda: float(a > b), "<=": lambda: float(a <= b),
            ">=": lambda: float(a >= b), "round": lambda: float(round(a, int(b))),
            "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
            "div": lambda: a / b, "mod": lambda: float(int(a) % int(b)), "fmod": lambda: math.fmod(a, b),
            "^": lambda: float(a) ** b,
        }[op]()
    except ExprError:
        raise
    except (OverflowError, ValueError, ZeroDivisionError) as exc:
        raise ExprError(str(exc)) from None
