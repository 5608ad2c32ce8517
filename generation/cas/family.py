"""The one interface every computer-algebra problem family implements, and the code that turns a computed
sympy answer into a Problem with both answer forms the verifier grades.

A family enumerates a finite parameter space (``parameter_space()``; ``capacity()`` is its size), samples from
it with a seeded RNG (``sample``), and ``build(params)`` computes the answer with sympy from those parameters and
wraps it with :meth:`Family.problem`. ``build`` is a pure function of the parameters, so a problem's id (a hash
of statement and answer) is the same on every machine and every run.

The code form (the paper's format) is derived from the symbolic answer by :func:`code_answer_from_expr`: the
reference is ``sympy.pycode`` of the expression over ``math`` (our own trusted output), the arguments are the
declared symbols in declaration order, and the test cases sit at points drawn inside the symbols' domains
(seeded by the problem's parameters). Expected outputs come from evaluating the exact expression at 30 digits;
the generated reference is executed here too and must agree to 1e-10, so the verifier's own run of it agrees with
the stored outputs to far within the per-case ``rtol`` of 1e-8 (``atol`` 0, never vacuous).
"""

from __future__ import annotations

import json
import math
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from typing import Any

import mpmath
import sympy
from sympy.printing.pycode import pycode

from curation.records.answer import CodeAnswer, CodeArgument, CodeTestCase, SymbolicAnswer
from curation.records.problem import Problem, Source
from curation.verify.parse import symbol_for

LEVELS = ("advanced undergraduate", "graduate", "advanced graduate", "post-graduate")
CODE_RTOL = 1e-8
CODE_CASES = 4
# How closely the float reference must reproduce the exact value before a test point is accepted.
REFERENCE_AGREEMENT = 1e-10

_INTEGER_DOMAINS = ("integer", "positive_integer", "nonnegative_integer")

Point = dict[str, float | int]


def symbol(name: str, domain: str) -> sympy.Symbol:
    """A sympy Symbol carrying the assumptions of an AnswerSpec domain (``positive``, ``real``, ...), exactly as
    the verifier declares it, so generated answers and graded answers mean the same symbol."""
    return symbol_for(name, domain)


def default_point(symbols: Mapping[str, str], rng: random.Random) -> Point:
    """A test point inside each symbol's domain: moderate values with 3 decimals, so outputs stay O(1)."""
    point: Point = {}
    for name, domain in symbols.items():
        if domain in _INTEGER_DOMAINS:
            low = {"integer": -6, "positive_integer": 1, "nonnegative_integer": 0}[domain]
            point[name] = rng.randint(low, 9)
        else:
            value = round(rng.uniform(0.3, 3.0), 3)
            point[name] = -value if domain in ("negative", "nonpositive") else value
            if domain in ("real", "complex") and rng.random() < 0.3:
                point[name] = -value
    return point


def code_answer_from_expr(
    expr: sympy.Expr,
    symbols: Mapping[str, str],
    function_name: str,
    seed: str,
    sample_point: Callable[[random.Random], Point] | None = None,
    cases: int = CODE_CASES,
) -> CodeAnswer:
    """The paper's code form of a symbolic answer: pycode reference, test cases with exact expected outputs."""
    names = list(symbols)
    body = pycode(expr, fully_qualified_modules=True, strict=True)
    arguments = ", ".join(f"{n}: {'int' if symbols[n] in _INTEGER_DOMAINS else 'float'}" for n in names)
    reference = f"import math\n\n\ndef {function_name}({arguments}) -> float:\n    return {body}\n"
    namespace: dict[str, Any] = {}
    exec(compile(reference, f"<reference {function_name}>", "exec"), namespace)  # our own sympy output
    function = namespace[function_name]
    by_name = {s.name: s for s in expr.free_symbols}
    # 30-digit evaluation of the exact expression; a float input is an exact binary number, so mpf(x) is exact.
    exact_function = sympy.lambdify([by_name.get(n, sympy.Symbol(n)) for n in names], expr, modules="mpmath")
    rng = random.Random(seed)
    draw = sample_point or (lambda r: default_point(symbols, r))
    if not names:
        cases = 1  # a constant answer: one call checks it
    test_cases: list[CodeTestCase] = []
    seen: set[str] = set()
    for _ in range(50 * cases):
        if len(test_cases) == cases:
            break
        point = {n: v for n, v in draw(rng).items() if n in symbols}
        key = json.dumps(point, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        with mpmath.workdps(30):
            try:
                value = complex(exact_function(*(mpmath.mpf(point[n]) for n in names)))
            except (ArithmeticError, ValueError):
                continue
        if value.imag != 0 or not math.isfinite(value.real) or value.real == 0:
            continue  # real, nonzero outputs only: atol is 0, so 0 would demand bit-exact arithmetic
        try:
            computed = float(function(*(point[n] for n in names)))
        except (ArithmeticError, ValueError):
            continue
        if abs(computed - value.real) > REFERENCE_AGREEMENT * abs(value.real):
            continue  # cancellation in float arithmetic at this point; take another
        test_cases.append(
            CodeTestCase(
                inputs=dict(point), output=value.real, rtol=CODE_RTOL, atol=0.0, case_id=str(len(test_cases))
            )
        )
    if len(test_cases) < min(cases, 1 if not names else 2):
        raise ValueError(f"{function_name}: found only {len(test_cases)} usable test points for {expr}")
    return CodeAnswer(
        function_name=function_name,
        arguments=tuple(CodeArgument(n, "int" if symbols[n] in _INTEGER_DOMAINS else "float") for n in names),
        reference=reference,
        test_cases=tuple(test_cases),
    )


def _math_list(names: Sequence[str]) -> str:
    items = [f"${sympy.latex(sympy.Symbol(n))}$" for n in names]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


class Family(ABC):
    """A computer-algebra problem family: a finite parameter space and a pure ``build(params) -> Problem``."""

    name: str = ""
    version: int = 1
    topic: str = ""
    level: str = ""
    task_type: str = "derivation"
    description: str = ""

    @abstractmethod
    def parameter_space(self) -> list[dict[str, Any]]:
        """Every distinct parameter set this family can build a problem from (JSON-able dicts)."""

    @abstractmethod
    def build(self, params: dict[str, Any]) -> Problem:
        """The problem for these parameters, its answer computed from them."""

    @cached_property
    def _space(self) -> list[dict[str, Any]]:
        return self.parameter_space()

    def capacity(self) -> int:
        """How many distinct problems this family can produce."""
        return len(self._space)

    def sample(self, rng: random.Random) -> dict[str, Any]:
        """One parameter set drawn with ``rng``."""
        return dict(rng.choice(self._space))

    def parameters_at(self, index: int) -> dict[str, Any]:
        """The ``index``-th parameter set (``0 <= index < capacity()``), for sampling without replacement."""
        return dict(self._space[index])

    def problem(
        self,
        params: dict[str, Any],
        *,
        statement: str,
        expr: sympy.Expr,
        symbols: Mapping[str, str],
        solution: str,
        quantity: str,
        function_name: str,
        describe_return: str,
        sample_point: Callable[[random.Random], Point] | None = None,
        tags: Sequence[str] = (),
    ) -> Problem:
        """Wrap a computed answer: symbolic spec, code form, requirements texts, solution and provenance.

        ``quantity`` is the LaTeX name of what is asked (``\\Gamma``, ``S``); ``describe_return`` says in words
        what the code function returns.
        """
        expr = sympy.sympify(expr)
        stray = {s.name for s in expr.free_symbols} - set(symbols)
        if stray:
            raise ValueError(f"{self.name}: the answer uses undeclared symbols {sorted(stray)}")
        seed = f"{self.name}:{self.version}:{json.dumps(params, sort_keys=True)}"
        code = code_answer_from_expr(expr, symbols, function_name, seed, sample_point)
        names = list(symbols)
        if names:
            requirements = (
                f"Give the final answer for ${quantity}$ in terms of {_math_list(names)} as a single closed-form "
                "expression in `\\boxed{...}`."
            )
        else:
            requirements = f"Give the final answer for ${quantity}$ as an exact number in `\\boxed{{...}}`."
        signature = ", ".join(f"{a.name}: {a.type}" for a in code.arguments)
        code_requirements = (
            f"Give the final answer as a Python function that returns {describe_return}. "
            "Use only the standard library (`math`) or `numpy`; complete this skeleton in a ```python block:\n\n"
            f"```python\ndef {function_name}({signature}) -> float:\n    ...\n```"
        )
        if names:
            code_requirements += f"\n\nThe arguments are {_math_list(names)} in this order."
        return Problem.create(
            statement=statement.strip(),
            answer=SymbolicAnswer(expr=sympy.sstr(expr), symbols=dict(symbols)),
            source=Source(
                "synthetic-cas",
                {
                    "generator": "generation.cas",
                    "family": self.name,
                    "version": self.version,
                    "parameters": params,
                },
            ),
            solution=solution.strip(),
            topic=self.topic,
            level=self.level,
            task_type=self.task_type,
            answer_requirements=requirements,
            answer_text=f"${quantity} = {latex(expr)}$",
            code_answer=code,
            code_answer_requirements=code_requirements,
            tags=("cas", self.name, *tags),
        )


_GAMMA_E = sympy.Symbol("gamma_E")


def latex(expr: Any) -> str:
    r"""sympy's LaTeX for an expression, with Euler's constant as ``\gamma_{E}``.

    sympy writes it as a bare ``\gamma``, which a reader (and the verifier, by DESIGN's rules) takes for a
    symbol gamma."""
    if isinstance(expr, sympy.Basic):
        expr = expr.xreplace({sympy.EulerGamma: _GAMMA_E})
    return sympy.latex(expr)
