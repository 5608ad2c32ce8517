"""AnswerSpec: what a correct answer to a Problem is, in one of five kinds (DESIGN.md contract).

Each kind is a frozen dataclass with ``to_dict()``; ``answer_from_dict`` is the one way in and
validates as it goes, raising ``FieldError`` with the dotted path of the offending field so the
record readers can add the file and line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

SYMBOL_DOMAINS = (
    "complex",
    "real",
    "positive",
    "negative",
    "nonnegative",
    "nonpositive",
    "integer",
    "positive_integer",
    "nonnegative_integer",
)
CODE_ARGUMENT_TYPES = ("float", "int", "bool", "complex", "str", "list", "dict", "tuple", "array", "any")

DEFAULT_SYMBOLIC_RTOL = 1e-8
DEFAULT_NUMERIC_RTOL = 1e-6


class FieldError(ValueError):
    """A record field is missing or malformed; ``path`` is the dotted field path, e.g. ``answer.items.1.expr``."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)

    def __reduce__(self):
        # Rebuild from the parts, so the error survives pickling (e.g. back from a worker process).
        return (type(self), (self.path, self.message))

    def under(self, prefix: str) -> FieldError:
        """The same error with ``prefix`` put in front of its path."""
        return FieldError(f"{prefix}.{self.path}" if self.path else prefix, self.message)


def _need(d: dict, key: str, types: type | tuple[type, ...], path: str) -> Any:
    if key not in d:
        raise FieldError(f"{path}.{key}" if path else key, "is required")
    value = d[key]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _as_tuple(types)):
        names = "/".join(t.__name__ for t in _as_tuple(types))
        raise FieldError(f"{path}.{key}" if path else key, f"must be {names}, got {type(value).__name__}")
    return value


def _opt(d: dict, key: str, types: type | tuple[type, ...], path: str, default: Any = None) -> Any:
    if d.get(key) is None:
        return default
    return _need(d, key, types, path)


def _as_tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _tolerance(d: dict, key: str, path: str, default: float | None) -> float | None:
    value = _opt(d, key, (int, float), path)
    if value is None:
        return default
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise FieldError(f"{path}.{key}" if path else key, f"must be a finite number >= 0, got {value!r}")
    return value


@dataclass(frozen=True)
class SymbolicAnswer:
    """A closed-form expression in sympy syntax over declared symbols, e.g. ``e**4/(8*pi*s)``."""

    expr: str
    symbols: dict[str, str] = field(default_factory=dict)
    rtol: float = DEFAULT_SYMBOLIC_RTOL
    kind: str = field(default="symbolic", init=False)

    def to_dict(self) -> dict:
        return {"kind": "symbolic", "expr": self.expr, "symbols": dict(self.symbols), "rtol": self.rtol}


@dataclass(frozen=True)
class NumericAnswer:
    """A number (real or complex) with relative/absolute tolerance and an optional unit, e.g. 86.8 nb."""

    value: float | complex
    rtol: float = DEFAULT_NUMERIC_RTOL
    atol: float = 0.0
    unit: str | None = None
    kind: str = field(default="numeric", init=False)

    def to_dict(self) -> dict:
        value: Any = self.value
        if isinstance(value, complex):
            value = repr(value).strip("()")
        out = {"kind": "numeric", "value": value, "rtol": self.rtol, "atol": self.atol}
        if self.unit is not None:
            out["unit"] = self.unit
        return out


@dataclass(frozen=True)
class CategoricalAnswer:
    """One label out of a declared list of choices, e.g. ``pseudoscalar``."""

    value: str
    choices: tuple[str, ...]
    kind: str = field(default="categorical", init=False)

    def to_dict(self) -> dict:
        return {"kind": "categorical", "value": self.value, "choices": list(self.choices)}


@dataclass(frozen=True)
class CodeArgument:
    name: str
    type: str = "float"

    def to_dict(self) -> dict:
        return {"name": self.name, "type": self.type}


@dataclass(frozen=True)
class CodeTestCase:
    """Inputs by argument name; ``output`` is the reference's value once computed (None until then)."""

    inputs: dict[str, Any]
    output: Any = None
    rtol: float | None = None
    atol: float | None = None
    case_id: str | None = None

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"inputs": dict(self.inputs)}
        if self.case_id is not None:
            out["case_id"] = self.case_id
        if self.output is not None:
            out["output"] = self.output
        if self.rtol is not None:
            out["rtol"] = self.rtol
        if self.atol is not None:
            out["atol"] = self.atol
        return out


@dataclass(frozen=True)
class CodeAnswer:
    """The paper's format: a Python function the solver writes, checked on test cases against ``reference``."""

    function_name: str
    arguments: tuple[CodeArgument, ...]
    reference: str
    test_cases: tuple[CodeTestCase, ...]
    kind: str = field(default="code", init=False)

    def to_dict(self) -> dict:
        return {
            "kind": "code",
            "function_name": self.function_name,
            "arguments": [a.to_dict() for a in self.arguments],
            "reference": self.reference,
            "test_cases": [t.to_dict() for t in self.test_cases],
        }


@dataclass(frozen=True)
class TupleAnswer:
    """A multi-part answer: each item is an AnswerSpec of its own."""

    items: tuple[AnswerSpec, ...]
    kind: str = field(default="tuple", init=False)

    def to_dict(self) -> dict:
        return {"kind": "tuple", "items": [item.to_dict() for item in self.items]}


AnswerSpec = SymbolicAnswer | NumericAnswer | CategoricalAnswer | CodeAnswer | TupleAnswer


def parse_complex(text: str, path: str = "value") -> complex:
    """Parse ``"1+2j"``/``"1-2i"``/``"3"`` into a complex without eval."""
    cleaned = text.strip().replace(" ", "").replace("i", "j").replace("J", "j")
    try:
        return complex(cleaned)
    except ValueError:
        raise FieldError(path, f'{text!r} is not a number; write e.g. 1.5e-3 or "1+2j"') from None


def answer_from_dict(d: Any, path: str = "answer") -> AnswerSpec:
    """Build and validate an AnswerSpec from its JSON form; errors name the field path."""
    if not isinstance(d, dict):
        raise FieldError(path, f"must be an object with a 'kind', got {type(d).__name__}")
    kind = _need(d, "kind", str, path)
    if kind == "symbolic":
        expr = _need(d, "expr", str, path)
        if not expr.strip():
            raise FieldError(f"{path}.expr", "is empty")
        symbols = _opt(d, "symbols", dict, path, {})
        for name, domain in symbols.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise FieldError(f"{path}.symbols", f"{name!r} is not a valid symbol name")
            if domain not in SYMBOL_DOMAINS:
                raise FieldError(
                    f"{path}.symbols.{name}",
                    f"unknown domain {domain!r}; use one of {', '.join(SYMBOL_DOMAINS)}",
                )
        rtol = _tolerance(d, "rtol", path, DEFAULT_SYMBOLIC_RTOL)
        return SymbolicAnswer(expr=expr, symbols=dict(symbols), rtol=rtol)
    if kind == "numeric":
        raw = _need(d, "value", (int, float, str), path)
        if isinstance(raw, str):
            value: float | complex = parse_complex(raw, f"{path}.value")
            if value.imag == 0:
                value = value.real
        else:
            value = float(raw)
        if not (math.isfinite(abs(value))):
            raise FieldError(f"{path}.value", f"must be finite, got {raw!r}")
        rtol = _tolerance(d, "rtol", path, DEFAULT_NUMERIC_RTOL)
        atol = _tolerance(d, "atol", path, 0.0)
        unit = _opt(d, "unit", str, path)
        return NumericAnswer(value=value, rtol=rtol, atol=atol, unit=unit or None)
    if kind == "categorical":
        value = _need(d, "value", str, path)
        choices = _opt(d, "choices", list, path, [])
        for i, choice in enumerate(choices):
            if not isinstance(choice, str):
                raise FieldError(f"{path}.choices.{i}", "must be a string")
        return CategoricalAnswer(value=value, choices=tuple(choices))
    if kind == "code":
        function_name = _need(d, "function_name", str, path)
        if not function_name.isidentifier():
            raise FieldError(f"{path}.function_name", f"{function_name!r} is not a Python identifier")
        arguments = []
        for i, arg in enumerate(_need(d, "arguments", list, path)):
            where = f"{path}.arguments.{i}"
            if not isinstance(arg, dict):
                raise FieldError(where, "must be an object with 'name' and 'type'")
            name = _need(arg, "name", str, where)
            if not name.isidentifier():
                raise FieldError(f"{where}.name", f"{name!r} is not a Python identifier")
            type_ = _opt(arg, "type", str, where, "float")
            if type_ not in CODE_ARGUMENT_TYPES:
                raise FieldError(
                    f"{where}.type", f"unknown type {type_!r}; use one of {', '.join(CODE_ARGUMENT_TYPES)}"
                )
            arguments.append(CodeArgument(name=name, type=type_))
        reference = _need(d, "reference", str, path)
        cases = []
        names = {a.name for a in arguments}
        for i, case in enumerate(_need(d, "test_cases", list, path)):
            where = f"{path}.test_cases.{i}"
            if not isinstance(case, dict):
                raise FieldError(where, "must be an object with 'inputs'")
            inputs = _need(case, "inputs", dict, where)
            missing = [a.name for a in arguments if a.name not in inputs]
            extra = sorted(set(inputs) - names)
            if missing or extra:
                raise FieldError(
                    f"{where}.inputs",
                    f"must give exactly the declared arguments; missing {missing}, unexpected {extra}",
                )
            case_id = case.get("case_id")
            cases.append(
                CodeTestCase(
                    inputs=dict(inputs),
                    output=case.get("output"),
                    rtol=_tolerance(case, "rtol", where, None),
                    atol=_tolerance(case, "atol", where, None),
                    case_id=None if case_id is None else str(case_id),
                )
            )
        if not cases:
            raise FieldError(f"{path}.test_cases", "needs at least one test case")
        return CodeAnswer(function_name, tuple(arguments), reference, tuple(cases))
    if kind == "tuple":
        items = _need(d, "items", list, path)
        if not items:
            raise FieldError(f"{path}.items", "needs at least one item")
        parsed = tuple(answer_from_dict(item, f"{path}.items.{i}") for i, item in enumerate(items))
        if any(isinstance(item, (CodeAnswer, TupleAnswer)) for item in parsed):
            raise FieldError(f"{path}.items", "items must be symbolic, numeric or categorical")
        return TupleAnswer(items=parsed)
    raise FieldError(
        f"{path}.kind", f"unknown kind {kind!r}; use symbolic, numeric, categorical, code or tuple"
    )
