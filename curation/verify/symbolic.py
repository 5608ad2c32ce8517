"""Symbolic answers: is the model's expression equal to the reference inside the declared domains?

Order of work, cheapest first: structural equality of the parsed trees; then randomized evaluation at
40 digits at several points drawn inside the declared domains (points where the reference is real are
preferred, since a physical region usually is where textbook identities such as ``sqrt(a) sqrt(b) =
sqrt(ab)`` hold); ``sympy.simplify`` only when the expressions cannot be evaluated numerically.
Sampling is seeded by the reference, so the same pair always gets the same verdict.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from functools import lru_cache

import sympy

from curation.records.answer import SymbolicAnswer
from curation.verify.evaluate import (
    Evaluator,
    NotEvaluable,
    compile_expression,
    evaluate,
    magnitude,
    mpc,
    relative_error,
)
from curation.verify.parse import NameResolver, ParseError, parse_math, symbol_for

RESERVED_NAMES = frozenset({"E", "I", "pi", "oo", "zoo", "nan", "EulerGamma"})
POINTS = 5
MAX_DRAWS = 40
# Both sides below this are zero at that point: an absolute floor for exact cancellations.
ZERO = 1e-28


class InvalidProblem(ValueError):
    """The reference answer itself cannot be graded against (undeclared name, reserved symbol, ...)."""


@dataclass(frozen=True)
class Reference:
    """A parsed reference answer with everything needed to grade candidates against it, built once."""

    expr: sympy.Expr
    declared: dict[str, sympy.Symbol]
    domains: dict[sympy.Symbol, str]
    evaluator: Evaluator | None
    points: tuple[dict[sympy.Symbol, object], ...]
    values: tuple[object, ...]
    seed: int


def _draw(rng: random.Random, domain: str):
    def positive() -> float:
        # Log-uniform over a decade around 1: no special values, no accidental cancellations.
        return 10 ** rng.uniform(-0.6, 0.6)

    if domain == "positive":
        return mpc(positive())
    if domain == "negative":
        return mpc(-positive())
    if domain == "nonnegative":
        return mpc(positive())
    if domain == "nonpositive":
        return mpc(-positive())
    if domain == "real":
        return mpc(positive() * rng.choice((-1, 1)))
    if domain == "integer":
        return mpc(rng.choice((-1, 1)) * rng.randint(1, 9))
    if domain in ("positive_integer", "nonnegative_integer"):
        return mpc(rng.randint(2, 11))
    return mpc(rng.uniform(-2, 2), rng.uniform(-2, 2))


@lru_cache(maxsize=8192)
def load_reference(expr: str, symbols: tuple[tuple[str, str], ...]) -> Reference:
    """Parse and prepare a reference expression; raises InvalidProblem with the reason."""
    reserved = sorted(RESERVED_NAMES & {name for name, _ in symbols})
    if reserved:
        raise InvalidProblem(f"declares reserved name(s) {', '.join(reserved)}; E, I and pi are constants")
    declared = {name: symbol_for(name, domain) for name, domain in symbols}
    try:
        parsed = parse_math(expr, NameResolver(declared=declared, strict=True))
    except ParseError as exc:
        raise InvalidProblem(f"reference expression {expr!r} cannot be read: {exc}") from None
    if parsed.has(sympy.oo, sympy.zoo, sympy.nan):
        raise InvalidProblem(f"reference expression {expr!r} is not finite")
    domains = {declared[name]: domain for name, domain in symbols}
    seed = int.from_bytes(hashlib.sha256(repr((expr, symbols)).encode()).digest()[:8], "big")
    try:
        evaluator = compile_expression(parsed)
    except NotEvaluable:
        return Reference(parsed, declared, domains, None, (), (), seed)
    points, values = _sample_points(evaluator, parsed, domains, seed)
    return Reference(parsed, declared, domains, evaluator, points, values, seed)


def _sample_points(evaluator, parsed, domains, seed):
    rng = random.Random(seed)
    free = sorted(parsed.free_symbols, key=str)
    draws: list[tuple[dict, object]] = []
    for _ in range(MAX_DRAWS):
        point = {symbol: _draw(rng, domains.get(symbol, "complex")) for symbol in domains}
        value = evaluate(evaluator, point)
        if value is None:
            continue
        draws.append((point, value))
        real = [d for d in draws if abs(d[1].imag) <= 1e-25 * max(magnitude(d[1]), 1e-300)]
        if len(real) >= POINTS or not free:
            break
    real = [d for d in draws if abs(d[1].imag) <= 1e-25 * max(magnitude(d[1]), 1e-300)]
    chosen = (real + [d for d in draws if d not in real])[: POINTS if free else 1]
    return tuple(p for p, _ in chosen), tuple(v for _, v in chosen)


def reference_for(spec: SymbolicAnswer) -> Reference:
    return load_reference(spec.expr, tuple(sorted(spec.symbols.items())))


def parse_candidate(text: str, reference: Reference) -> tuple[sympy.Expr, list[str]]:
    """The model's expression, with names resolved against the declared symbols; also the undeclared names."""
    resolver = NameResolver(declared=reference.declared)
    expr = parse_math(text, resolver)
    return expr, sorted(resolver.undeclared)


def compare(candidate: sympy.Expr, reference: Reference, rtol: float) -> tuple[bool, dict]:
    """(equal?, how it was decided) for a parsed candidate."""
    if candidate == reference.expr:
        return True, {"method": "structural"}
    if candidate.has(sympy.oo, sympy.zoo, sympy.nan):
        return False, {"method": "structural", "reason": "answer is not finite"}
    if reference.evaluator is not None and reference.points:
        try:
            candidate_eval = compile_expression(candidate)
        except NotEvaluable:
            candidate_eval = None
        if candidate_eval is not None:
            extra = sorted(candidate.free_symbols - set(reference.domains), key=str)
            rng = random.Random(reference.seed ^ 0x5EED)
            worst = 0.0
            for point, expected in zip(reference.points, reference.values, strict=True):
                values = dict(point)
                for symbol in extra:
                    values[symbol] = _draw(rng, "complex")
                got = evaluate(candidate_eval, values)
                if got is None:
                    return False, {
                        "method": "numeric",
                        "reason": "answer is undefined where the reference is not",
                    }
                if magnitude(got) <= ZERO and magnitude(expected) <= ZERO:
                    continue
                error = relative_error(got, expected)
                worst = max(worst, error)
                if error > rtol:
                    return False, {
                        "method": "numeric",
                        "points": len(reference.points),
                        "max_rel_error": error,
                    }
            return True, {"method": "numeric", "points": len(reference.points), "max_rel_error": worst}
    # Not numerically evaluable (e.g. an unknown special function): let sympy decide exactly.
    difference = sympy.simplify(candidate - reference.expr)
    return difference == 0, {"method": "simplify"}


def grade_symbolic_text(spec: SymbolicAnswer, text: str) -> tuple[str, dict]:
    """Grade an extracted answer string (relation and O-term already removed) against a symbolic spec."""
    try:
        reference = reference_for(spec)
    except InvalidProblem as exc:
        return "invalid_problem", {"reason": str(exc)}
    try:
        candidate, undeclared = parse_candidate(text, reference)
    except ParseError as exc:
        return "unparseable", {"extracted": text, "reason": str(exc)}
    equal, how = compare(candidate, reference, spec.rtol)
    details = {"extracted": text, "parsed": sympy.sstr(candidate), **how}
    if undeclared:
        details["undeclared"] = undeclared
    return ("correct" if equal else "incorrect"), details
