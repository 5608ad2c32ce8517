"""One-loop Feynman-parameter integrals of a two-point function,
``I = ∫_0^1 dx x^a (1-x)^b / Delta(x)^n`` and ``L = ∫_0^1 dx x^a (1-x)^b ln(Delta(x)/mu^2)`` with
``Delta(x) = x m1^2 + (1-x) m2^2 - x(1-x) p^2``, at kinematic points where ``Delta`` is positive on (0, 1) and
factors into a power of ``x`` times a linear function (so the closed form is elementary and real):

- ``forward``: ``p^2 = 0``, ``m1 = M``, ``m2 = m`` (``M > m``): ``Delta = m^2 + (M^2 - m^2) x``;
- ``spacelike``: ``p^2 = -Q^2``, ``m1 = m``, ``m2 = 0``: ``Delta = x (m^2 + Q^2 - Q^2 x)``;
- ``massless``: ``p^2 = -Q^2``, ``m1 = m2 = 0``: ``Delta = x (1 - x) Q^2`` (log integrals only);
- ``on_shell``: ``p^2 = m^2``, ``m1 = m``, ``m2 = 0``: ``Delta = x^2 m^2`` (log integrals only).

The integral is done exactly by the substitution ``u = alpha + beta x`` of the linear factor, which turns the
integrand into a finite sum of powers of ``u`` (times ``ln u``); the result is rewritten over logarithms of
dimensionless ratios. Independent check: numeric quadrature (tests).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.family import Family, latex, symbol

M = symbol("M", "positive")
m = symbol("m", "positive")
Q = symbol("Q", "positive")
MU = symbol("mu", "positive")
X = sympy.Symbol("x", positive=True)
U = sympy.Symbol("u", positive=True)
# The algebra runs over the squared masses, named so that factored denominators come out as (M^2 - m^2)^k.
M2, m2, Q2, MU2 = (sympy.Symbol(name, positive=True) for name in ("a_M2", "b_m2", "c_Q2", "d_mu2"))
SQUARES = {M2: M**2, m2: m**2, Q2: Q**2, MU2: MU**2}

POWERS = (0, 1, 2)
DENOMINATOR_POWERS = (1, 2, 3)
KINEMATICS = ("forward", "spacelike", "massless", "on_shell")

KINEMATICS_TEXT = {
    "forward": "at zero external momentum, $p^2 = 0$, with $m_1 = M$ and $m_2 = m$ ($M > m > 0$)",
    "spacelike": "at spacelike momentum $p^2 = -Q^2$ ($Q > 0$), with $m_1 = m > 0$ and $m_2 = 0$",
    "massless": "at spacelike momentum $p^2 = -Q^2$ ($Q > 0$), with both masses zero, $m_1 = m_2 = 0$",
    "on_shell": "on shell, $p^2 = m^2$ ($m > 0$), with $m_1 = m$ and $m_2 = 0$",
}
SYMBOLS = {
    "forward": ("M", "m"),
    "spacelike": ("m", "Q"),
    "massless": ("Q",),
    "on_shell": ("m",),
}


def delta(kinematics: str) -> sympy.Expr:
    """Delta(x) = x m1^2 + (1-x) m2^2 - x(1-x) p^2 at the kinematic point."""
    mass1, mass2, p2 = {
        "forward": (M, m, 0),
        "spacelike": (m, 0, -(Q**2)),
        "massless": (0, 0, -(Q**2)),
        "on_shell": (m, 0, m**2),
    }[kinematics]
    return sympy.expand(X * mass1**2 + (1 - X) * mass2**2 - X * (1 - X) * p2)


def factorized_delta(kinematics: str) -> tuple[int, int, sympy.Expr, sympy.Expr]:
    """Delta = x^j (1-x)^k (alpha + beta x) (beta may be 0; alpha, beta over the squared-mass symbols):
    returns (j, k, alpha, beta)."""
    return {
        "forward": (0, 0, m2, M2 - m2),
        "spacelike": (1, 0, m2 + Q2, -Q2),
        "massless": (1, 1, Q2, sympy.Integer(0)),
        "on_shell": (2, 0, m2, sympy.Integer(0)),
    }[kinematics]


def log_basis(kinematics: str, logarithmic: bool) -> tuple[sympy.Expr, ...]:
    """The logarithms of dimensionless ratios the answer is written over."""
    if kinematics == "forward":
        return (sympy.log(M2 / MU2), sympy.log(m2 / MU2)) if logarithmic else (sympy.log(M2 / m2),)
    if kinematics == "spacelike":
        return (
            (sympy.log((m2 + Q2) / MU2), sympy.log(m2 / MU2)) if logarithmic else (sympy.log((m2 + Q2) / m2),)
        )
    if kinematics == "massless":
        return (sympy.log(Q2 / MU2),)
    return (sympy.log(m2 / MU2),)


def _beta(p: int, q: int) -> sympy.Rational:
    """∫_0^1 x^p (1-x)^q dx for integers p, q >= 0."""
    return sympy.factorial(p) * sympy.factorial(q) / sympy.factorial(p + q + 1)


def _log_moment(p: int, q: int) -> sympy.Rational:
    """∫_0^1 x^p (1-x)^q ln x dx, by expanding (1-x)^q: sum_i C(q,i) (-1)^i (-1/(p+i+1)^2)."""
    return sum(
        (sympy.binomial(q, i) * (-1) ** i * sympy.Rational(-1, (p + i + 1) ** 2) for i in range(q + 1)),
        sympy.Integer(0),
    )


def _antiderivative(s: int, t: sympy.Expr, logarithmic: bool) -> sympy.Expr:
    """A primitive of u^s (times ln u when ``logarithmic``, for s >= 0) at u = t."""
    if logarithmic:
        return t ** (s + 1) * (sympy.log(t) / (s + 1) - sympy.Rational(1, (s + 1) ** 2))
    return sympy.log(t) if s == -1 else t ** (s + 1) / (s + 1)


def _linear_moment(
    p: int, q: int, n: int, alpha: sympy.Expr, beta: sympy.Expr, logarithmic: bool
) -> sympy.Expr:
    """∫_0^1 x^p (1-x)^q (alpha + beta x)^(-n) [ln(alpha + beta x)] dx by u = alpha + beta x."""
    if beta == 0:
        base = _beta(p, q) * alpha ** (-n)
        return base * sympy.log(alpha) if logarithmic else base
    polynomial = sympy.Poly(sympy.expand(((U - alpha) / beta) ** p * ((alpha + beta - U) / beta) ** q), U)
    low, high = alpha, alpha + beta
    total = sympy.Integer(0)
    for (k,), c in polynomial.terms():
        s = k - n  # the power of u; n = 0 for the logarithmic integral, so s >= 0 there
        total += c * (_antiderivative(s, high, logarithmic) - _antiderivative(s, low, logarithmic))
    return total / beta


def in_log_basis(expr: sympy.Expr, basis: tuple[sympy.Expr, ...]) -> sympy.Expr:
    """``expr`` rewritten as R0 + sum_i R_i * basis_i with factored rational functions R_i.

    Each basis element is ``log(numerator/denominator)`` with a numerator no other element has, so R_i is the
    coefficient of ``log(numerator_i)``; the rewriting is then checked exactly, atom by atom, at rational points.
    """
    atoms = [sympy.log(s) for s in (M2, m2, Q2, MU2, m2 + Q2)]
    expanded = sympy.expand(sympy.expand_log(expr, force=True))
    values = [sympy.factor(expanded.coeff(sympy.log(sympy.numer(b.args[0])))) for b in basis]
    rest = sympy.factor(sympy.expand(expanded - sum(expanded.coeff(a) * a for a in atoms)))
    result = rest + sum(v * b for v, b in zip(values, basis, strict=True))
    leftover = sympy.expand(sympy.expand_log(result, force=True) - expanded)
    parts = [leftover.coeff(a) for a in atoms]
    parts.append(leftover - sum(c * a for c, a in zip(parts, atoms, strict=True)))
    for point in ({M2: 7, m2: 3, Q2: 5, MU2: 2}, {M2: sympy.Rational(13, 4), m2: 1, Q2: 11, MU2: 17}):
        if any(sympy.nsimplify(part.subs(point)) != 0 for part in parts):
            raise ArithmeticError(f"could not write {expr} over {basis}")
    return result


@cache
def evaluate(kinematics: str, a: int, b: int, n: int) -> tuple[sympy.Expr, str]:
    """(the integral as a closed form over dimensionless logarithms, the reduced one-dimensional integral in LaTeX);
    ``n = 0`` means the logarithmic integral L."""
    j, k, alpha, beta = factorized_delta(kinematics)
    if n == 0:
        # ln Delta = j ln x + k ln(1-x) + ln(alpha + beta x); ln(1-x) moments by x -> 1-x
        value = (
            j * _log_moment(a, b)
            + k * _log_moment(b, a)
            + _linear_moment(a, b, 0, alpha, beta, True)
            - _beta(a, b) * sympy.log(MU2)
        )
    else:
        value = _linear_moment(a - j * n, b - k * n, n, alpha, beta, False)
    reduced = (
        f"\\int_0^1 dx\\, x^{{{a - j * n}}} (1-x)^{{{b - k * n}}} ({latex((alpha + beta * X).subs(SQUARES))})^{{{-n}}}"
        if n
        else ""
    )
    return in_log_basis(value, log_basis(kinematics, n == 0)).subs(SQUARES), reduced


def _valid(kinematics: str, a: int, b: int, n: int) -> bool:
    j, k, _, beta = factorized_delta(kinematics)
    if n == 0:
        return True
    if beta == 0:
        return False  # a pure Beta function: too easy
    return a - j * n >= 0 and b - k * n >= 0  # convergent at the endpoints


class FeynmanParameterIntegral(Family):
    name = "feynman_parameter_integral"
    version = 1
    topic = "loop-integrals/feynman-parameters"
    level = "advanced graduate"
    task_type = "derivation"
    description = "one-loop two-point Feynman-parameter integrals x^a(1-x)^b/Delta^n and x^a(1-x)^b ln Delta"

    def parameter_space(self) -> list[dict[str, Any]]:
        space = []
        for kinematics in KINEMATICS:
            for n in (0, *DENOMINATOR_POWERS):
                spread = POWERS if kinematics != "spacelike" or n == 0 else range(n, n + 3)
                for a in spread:
                    for b in POWERS:
                        if _valid(kinematics, a, b, n):
                            space.append({"kinematics": kinematics, "a": a, "b": b, "n": n})
        return space

    def build(self, params: dict[str, Any]) -> Problem:
        kinematics, a, b, n = params["kinematics"], params["a"], params["b"], params["n"]
        value, reduced = evaluate(kinematics, a, b, n)
        weight = _monomial(a, b)
        names = SYMBOLS[kinematics] + (("mu",) if n == 0 else ())
        if n == 0:
            integrand = f"{weight}\\ln\\frac{{\\Delta(x)}}{{\\mu^2}}"
            q = "L"
        else:
            integrand = (
                f"\\frac{{{weight or '1'}}}{{\\Delta(x)^{{{n}}}}}"
                if n > 1
                else f"\\frac{{{weight or '1'}}}{{\\Delta(x)}}"
            )
            q = "I"
        statement = (
            "Feynman-parametrizing a one-loop two-point function with internal masses $m_1$, $m_2$ and external "
            "momentum $p$ (metric signature $(+,-,-,-)$) leads to\n\n"
            "$$\\Delta(x) = x\\, m_1^2 + (1-x)\\, m_2^2 - x(1-x)\\, p^2 .$$\n\n"
            f"Evaluate\n\n$${q} = \\int_0^1 dx\\, {integrand}$$\n\n{KINEMATICS_TEXT[kinematics]}"
            + (", where $\\mu > 0$ is the renormalization scale" if n == 0 else "")
            + ". Give the exact closed form."
        )
        delta_text = latex(sympy.factor(delta(kinematics)))
        j, k, alpha, beta = factorized_delta(kinematics)
        steps = [f"At this kinematic point $\\Delta(x) = {delta_text}$."]
        if n == 0:
            pieces = []
            if j:
                pieces.append(f"{j if j > 1 else ''}\\ln x")
            if k:
                pieces.append("\\ln(1-x)")
            pieces.append(
                f"\\ln\\left({latex((alpha + beta * X).subs(SQUARES))}\\right)"
                if beta != 0
                else f"\\ln {latex(alpha.subs(SQUARES))}"
            )
            steps.append(
                f"So $\\ln\\frac{{\\Delta}}{{\\mu^2}} = {' + '.join(pieces)} - \\ln\\mu^2$. The moments "
                "$\\int_0^1 x^p(1-x)^q\\ln x\\,dx$ follow from expanding $(1-x)^q$ and $\\int_0^1 x^s\\ln x\\,dx = "
                f"-1/(s+1)^2$; $\\int_0^1 x^{{{a}}}(1-x)^{{{b}}}dx = {latex(_beta(a, b))}$."
            )
            if beta != 0:
                steps.append(
                    f"For the linear factor substitute $u = {latex((alpha + beta * X).subs(SQUARES))}$ and use "
                    "$\\int u^s\\ln u\\,du = u^{s+1}\\left(\\frac{\\ln u}{s+1} - \\frac{1}{(s+1)^2}\\right)$."
                )
        else:
            if j:
                steps.append(
                    f"The factor $x^{{{j * n}}}$ of $\\Delta^{{{n}}}$ cancels against the numerator: ${q} = {reduced}$."
                )
            steps.append(
                f"Substitute $u = {latex((alpha + beta * X).subs(SQUARES))}$, running from ${latex(alpha.subs(SQUARES))}$ to "
                f"${latex((alpha + beta).subs(SQUARES))}$: the integrand becomes a polynomial in $u$ times $u^{{-{n}}}$, "
                "integrated term by term ($\\int du/u = \\ln u$)."
            )
        steps.append(f"Collecting terms, ${q} = {latex(value)}$.")

        def sample_point(rng):
            return {
                "M": round(rng.uniform(1.6, 3.0), 3),
                "m": round(rng.uniform(0.3, 1.2), 3),
                "Q": round(rng.uniform(0.3, 3.0), 3),
                "mu": round(rng.uniform(0.3, 3.0), 3),
            }

        return self.problem(
            params,
            statement=statement,
            expr=value,
            symbols={name: "positive" for name in names},
            solution="\n\n".join(steps),
            quantity=q,
            function_name="feynman_integral",
            describe_return=f"the value of {q}",
            sample_point=sample_point,
        )


def _monomial(a: int, b: int) -> str:
    parts = []
    if a:
        parts.append("x" if a == 1 else f"x^{{{a}}}")
    if b:
        parts.append("(1-x)" if b == 1 else f"(1-x)^{{{b}}}")
    return " ".join(parts)


FAMILY = FeynmanParameterIntegral()
