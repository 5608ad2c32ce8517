"""The child side of a code check: run the response's function in a sandboxed child and send back plain data.

This module is what the fork server imports for code checks (``ENTRY``), so it imports nothing beyond the
standard library's core: every module in the server is paid for at every fork (see
:mod:`curation.verify.forkserver`). The grading around it (references, comparison, statuses) is in
:mod:`curation.verify.code`.

:func:`run_attempt` compiles the source, calls the function on each test case with its inputs in the declared
argument order, and emits one frame per case. :func:`to_wire` converts results by *exact* type (``type(x) is
float``; numpy scalars and numeric arrays by exact numpy type) into JSON with explicit tags for complex numbers,
NaN/inf, big ints and non-string dict keys; anything else (a float subclass with an ``__eq__`` that always says
yes, a list subclass, an arbitrary object) becomes an ``unsupported`` marker. :func:`from_wire` decodes that form.
"""

from __future__ import annotations

import builtins
import math
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

ENTRY = "curation.verify.attempt:run_attempt"
MAX_DEPTH = 64
MAX_LEAVES = 1_000_000

_TAG_COMPLEX = "__complex__"
_TAG_FLOAT = "__float__"
_TAG_INT = "__int__"
_TAG_DICT = "__dict__"
_TAG_UNSUPPORTED = "__unsupported__"
_TAGS = frozenset({_TAG_COMPLEX, _TAG_FLOAT, _TAG_INT, _TAG_DICT, _TAG_UNSUPPORTED})


class Unsupported:
    """A value the child could not represent as plain data (decoded form of the ``unsupported`` marker)."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<unsupported {self.type_name}>"


class WireMap(dict):
    """A decoded dict: canonical key text -> decoded value (so keys compare by value, not by Python identity)."""


# ------------------------------------------------------------------------------ child side: values -> plain JSON


def _float_wire(x: float) -> Any:
    if math.isfinite(x):
        return x
    return {_TAG_FLOAT: "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


_SCALAR_KINDS: dict[type, str] | None = None


def _numpy_scalar_kinds() -> dict[type, str]:
    """Exact numpy scalar type -> dtype kind, computed once (in the fork server, before any child runs)."""
    global _SCALAR_KINDS
    np = sys.modules.get("numpy")
    if np is None:
        return {}
    if _SCALAR_KINDS is not None:
        return _SCALAR_KINDS
    kinds = {}
    for t in set(np.sctypeDict.values()):
        try:
            kind = np.dtype(t).kind
        except TypeError:
            continue
        if kind in "biufc":
            kinds[t] = kind
    _SCALAR_KINDS = kinds
    return kinds


def to_wire(value: Any) -> Any:
    """Plain JSON for a function's result, by exact type; anything else becomes an ``unsupported`` marker."""
    np = sys.modules.get("numpy")
    return _convert(value, 0, [MAX_LEAVES, _numpy_scalar_kinds(), np.ndarray if np is not None else None])


# Module level, with plain loops rather than comprehensions: in a child every function object (a closure, a
# comprehension) is one more allocation on a page it shares with the fork server, i.e. a page it must copy.
def _convert(x: Any, depth: int, state: list) -> Any:
    """``state``: [leaves left, numpy scalar type -> kind, numpy.ndarray or None]."""
    state[0] -= 1
    if state[0] < 0:
        return {_TAG_UNSUPPORTED: "result too large"}
    if depth > MAX_DEPTH:
        return {_TAG_UNSUPPORTED: "result nested too deeply"}
    t = type(x)
    if x is None or t is bool or t is str:
        return x
    if t is int:
        if -(1 << 63) < x < (1 << 63):
            return x
        if x.bit_length() > 100_000:
            return {_TAG_UNSUPPORTED: "integer too large"}
        return {_TAG_INT: hex(x)}
    if t is float:
        return _float_wire(x)
    if t is complex:
        return {_TAG_COMPLEX: [_float_wire(x.real), _float_wire(x.imag)]}
    if t is list or t is tuple:
        items = []
        for e in x:
            items.append(_convert(e, depth + 1, state))
        return items
    if t is dict:
        keys = list(x)
        plain = not _TAGS.intersection(keys)
        for k in keys:
            if type(k) is not str:
                plain = False
        if plain:
            converted = {}
            for k in keys:
                converted[k] = _convert(x[k], depth + 1, state)
            return converted
        pairs = []
        for k in keys:
            pairs.append([_convert(k, depth + 1, state), _convert(x[k], depth + 1, state)])
        return {_TAG_DICT: pairs}
    kind = state[1].get(t)
    if kind is not None:
        if kind == "b":
            return bool(x)
        if kind in "iu":
            return _convert(int(x), depth, state)
        if kind == "f":
            return _float_wire(float(x))
        return _convert(complex(x), depth, state)
    if state[2] is not None and t is state[2]:
        if x.dtype.kind not in "biufcU":
            return {_TAG_UNSUPPORTED: f"ndarray of dtype {x.dtype.str}"}
        if x.size > state[0]:
            return {_TAG_UNSUPPORTED: "result too large"}
        return _convert(x.tolist(), depth, state)
    try:
        name = t.__qualname__ if type(t.__qualname__) is str else "object"
    except BaseException:
        name = "object"
    return {_TAG_UNSUPPORTED: name[:100]}


def _convert_input(value: Any, type_name: str) -> Any:
    """Test-case inputs arrive as JSON; give the function the declared Python type."""
    if type_name == "float" and type(value) is int:
        return float(value)
    if type_name == "complex":
        if type(value) is str:
            return complex(value.replace(" ", "").replace("i", "j"))
        if type(value) is list and len(value) == 2:
            return complex(value[0], value[1])
        if isinstance(value, dict):
            return from_wire(value)
        return complex(value)
    if type_name == "tuple" and type(value) is list:
        return tuple(value)
    if type_name == "array":
        import numpy

        return numpy.asarray(value)
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _TAGS - {_TAG_DICT}:
        return from_wire(value)
    return value


def _describe(exc: BaseException) -> str:
    try:
        text = f"{type(exc).__name__}: {exc}"
    except BaseException:
        text = "exception (unprintable)"
    return text[:300]


def run_attempt(payload: dict, emit: Callable[[Any], None]) -> None:
    """Sandbox entry: load the source, call the function on every case, emit one plain-data frame per case."""
    source = payload["source"]
    try:
        code = compile(source, "<answer>", "exec")
    except BaseException as exc:
        emit({"syntax_error": _describe(exc)})
        return
    namespace: dict[str, Any] = {"__name__": "__answer__", "__builtins__": builtins.__dict__}
    try:
        exec(code, namespace)
    except BaseException as exc:
        emit({"load_error": _describe(exc)})
        return
    name = payload["function_name"]
    function = namespace.get(name)
    if function is None or not callable(function):
        emit({"missing": f"the code does not define a function {name!r}"})
        return
    for index, inputs in enumerate(payload["cases"]):
        args = []
        try:
            for arg, type_name in payload["arguments"]:
                args.append(_convert_input(inputs[arg], type_name))
        except Exception as exc:
            emit({"case": index, "error": "bad test input: " + _describe(exc)})
            continue
        try:
            value = function(*args)
        except BaseException as exc:
            emit({"case": index, "error": _describe(exc)})
            continue
        try:
            wire = to_wire(value)
        except BaseException as exc:
            emit({"case": index, "error": "result could not be converted: " + _describe(exc)})
            continue
        emit({"case": index, "value": wire})


# ------------------------------------------------------------------------------------ plain JSON -> values


def _wire_float(x: Any) -> float:
    if type(x) in (int, float):
        return float(x)
    if type(x) is dict and set(x) == {_TAG_FLOAT} and x[_TAG_FLOAT] in ("nan", "inf", "-inf"):
        return float(x[_TAG_FLOAT])
    raise ValueError(f"not a float: {x!r}"[:100])


def _key_text(value: Any) -> str:
    if type(value) is float and value.is_integer():
        value = int(value)
    return repr(value)


def from_wire(value: Any, depth: int = 0) -> Any:
    """Decode the plain-JSON form (also what records store as ``output``) into values :func:`compare` takes."""
    if depth > MAX_DEPTH + 2:
        return Unsupported("nested too deeply")
    t = type(value)
    if value is None or t in (bool, int, float, str):
        return value
    if t is list:
        return [from_wire(e, depth + 1) for e in value]
    if t is dict:
        if len(value) == 1:
            ((tag, body),) = value.items()
            try:
                if tag == _TAG_COMPLEX and type(body) is list and len(body) == 2:
                    return complex(_wire_float(body[0]), _wire_float(body[1]))
                if tag == _TAG_FLOAT:
                    return _wire_float(value)
                if tag == _TAG_INT and type(body) is str:
                    return int(body, 16)
                if tag == _TAG_UNSUPPORTED:
                    return Unsupported(str(body)[:100])
                if tag == _TAG_DICT and type(body) is list:
                    decoded = WireMap()
                    for item in body:
                        if type(item) is not list or len(item) != 2:
                            return Unsupported("malformed dict")
                        decoded[_key_text(from_wire(item[0], depth + 1))] = from_wire(item[1], depth + 1)
                    return decoded
            except ValueError:
                return Unsupported("malformed value")
        decoded = WireMap()
        for k, v in value.items():
            decoded[repr(k)] = from_wire(v, depth + 1)
        return decoded
    return Unsupported(t.__name__)


def warm_up() -> None:
    """Exercise the child-side code once (the fork server calls this before it starts forking)."""
    _numpy_scalar_kinds()
    np = sys.modules.get("numpy")
    values = [1.5, 2, True, 1 + 2j, "s", None, [1.0, (2, 3)], {"a": 1.0}, {1: 2.0}, float("nan")]
    if np is not None:
        values += [np.float64(1.5), np.int64(3), np.bool_(True), np.arange(3.0), np.array([1 + 1j])]
    payload = {
        "source": "def f(x):\n    return x\n",
        "function_name": "f",
        "arguments": [["x", "any"]],
        "cases": [{"x": v} for v in values],
    }
    for _ in range(10):
        run_attempt(payload, _discard)


def _discard(value: Any) -> None:
    """The warm-up's ``emit``: the child's own encodes with the C encoder, which has no bytecode to warm."""
