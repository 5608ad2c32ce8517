"""Euclidean one-loop master integrals in dimensional regularization and their Laurent expansions in epsilon:
``mu^(2 eps) ∫ d^d l/(2 pi)^d (l^2)^a / (l^2 + Delta)^n`` in ``d = D - 2 eps`` (D = 2, 4 or 6), through O(eps^0).

The closed form in d dimensions follows from the radial integral (a Beta function); sympy expands it."""

from __future__ import annotations

from functools import cache
from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.family import Family, latex, symbol

DIMENSIONS = (2, 4, 6)
NUMERATOR_POWERS = (0, 1, 2)
DENOMINATOR_POWERS = (1, 2, 3, 4)
QUANTITIES = ("expansion", "pole", "finite")

EPS = symbol("epsilon", "positive")
DELTA = symbol("Delta", "positive")
MU = symbol("mu", "positive")


def closed_form(a: int, n: int, d: sympy.Expr) -> sympy.Expr:
    """∫ d^d l/(2 pi)^d (l^2)^a/(l^2 + Delta)^n = Gamma(a + d/2) Gamma(n - a - d/2) / ((4 pi)^(d/2) Gamma(d/2)
    Gamma(n)) Delta^(d/2 + a - n): the angular volume 2 pi^(d/2)/Gamma(d/2) times the radial Beta function."""
    return (
        sympy.gamma(a + d / 2)
        * sympy.gamma(n - a - d / 2)
        / ((4 * sympy.pi) ** (d / 2) * sympy.gamma(d / 2) * sympy.gamma(n))
        * DELTA ** (d / 2 + a - n)
    )


def _first_order(factor: sympy.Expr) -> sympy.Expr:
    """A factor of the closed form to first order in eps (enough: the pole is at most simple)."""
    if isinstance(factor, sympy.gamma):
        k, c = factor.args[0].subs(EPS, 0), factor.args[0].diff(EPS)
        if k > 0:  # Gamma(k + c eps) = Gamma(k) (1 + c eps psi(k))
            return sympy.gamma(k) * (1 + c * EPS * sympy.polygamma(0, k))
        # Gamma(k + c eps) = Gamma(1 + c eps) / prod_{j=k}^{0} (j + c eps), Gamma(1 + x) = 1 - gamma_E x
        return (1 - sympy.EulerGamma * c * EPS) / sympy.Mul(*(j + c * EPS for j in range(int(k), 1)))
    if isinstance(factor, sympy.Pow) and factor.exp.has(EPS):
        base, c, e0 = factor.base, factor.exp.diff(EPS), factor.exp.subs(EPS, 0)
        return base**e0 * (1 + c * EPS * sympy.log(base))
    return factor


@cache
def laurent(dim: int, a: int, n: int) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr]:
    """(exact d-dimensional expression with mu^(2 eps), coefficient of 1/eps, coefficient of eps^0)."""
    exact = MU ** (2 * EPS) * closed_form(a, n, dim - 2 * EPS)
    truncated = sympy.Mul(
        *(_first_order(f) for f in sympy.Mul.make_args(sympy.powsimp(exact, combine="base")))
    )
    # The pole is at most simple, so eps * I is analytic: its value and slope at eps = 0 are the 1/eps and eps^0
    # coefficients, and first-order factors give both exactly.
    regular = EPS * truncated
    pole = sympy.simplify(regular.subs(EPS, 0))
    finite = sympy.expand_log(sympy.expand(sympy.diff(regular, EPS).subs(EPS, 0)), force=True)
    return exact, pole, sympy.collect(sympy.expand(finite), [sympy.EulerGamma, sympy.log(DELTA)])


class DimregIntegral(Family):
    name = "dimreg_integral"
    version = 1
    topic = "loop-integrals/dimensional-regularization"
    level = "post-graduate"
    task_type = "derivation"
    description = "one-loop Euclidean master integrals in d = 4-2eps / 6-2eps: pole, finite part, expansion"

    def parameter_space(self) -> list[dict[str, Any]]:
        space = []
        for dim in DIMENSIONS:
            for a in NUMERATOR_POWERS:
                for n in DENOMINATOR_POWERS:
                    for quantity in QUANTITIES:
                        divergent = 2 * a + dim - 2 * n >= 0
                        if quantity != "finite" and not divergent:
                            continue  # a finite integral has no pole to ask about
                        space.append({"D": dim, "a": a, "n": n, "quantity": quantity})
        return space

    def build(self, params: dict[str, Any]) -> Problem:
        dim, a, n, quantity = params["D"], params["a"], params["n"], params["quantity"]
        exact, pole, finite = laurent(dim, a, n)
        numerator = "" if a == 0 else ("\\ell^2" if a == 1 else f"(\\ell^2)^{{{a}}}")
        integrand = f"\\frac{{{numerator or '1'}}}{{(\\ell^2 + \\Delta)^{{{n}}}}}"
        statement = (
            f"In Euclidean signature and dimensional regularization with $d = {dim} - 2\\epsilon$, consider\n\n"
            f"$$I = \\mu^{{2\\epsilon}} \\int \\frac{{d^d\\ell}}{{(2\\pi)^d}}\\, {integrand},$$\n\n"
            "where $\\Delta > 0$ and $\\mu$ is the renormalization scale. Expand in $\\epsilon \\to 0$."
        )
        if quantity == "expansion":
            expr = pole / EPS + finite
            statement += (
                " Give the Laurent expansion of $I$ through order $\\epsilon^0$: the $1/\\epsilon$ pole plus the "
                "finite part, dropping $O(\\epsilon)$ terms."
            )
            q, fn, what = (
                "I",
                "expansion",
                "the pole plus finite part of I, for the given epsilon, Delta and mu",
            )
            symbols = {"epsilon": "positive", "Delta": "positive", "mu": "positive"}
        elif quantity == "pole":
            expr = pole
            statement += " Find the coefficient of the $1/\\epsilon$ pole of $I$."
            q, fn, what = "\\mathrm{Res}_{1/\\epsilon} I", "pole", "the coefficient of 1/epsilon"
            symbols = {"Delta": "positive"}
        else:
            expr = finite
            statement += " Find the finite part of $I$: the $\\epsilon^0$ term of its expansion."
            q, fn, what = "I_{\\rm fin}", "finite_part", "the epsilon^0 term of I"
            symbols = {"Delta": "positive", "mu": "positive"}
        symbols = {k: v for k, v in symbols.items() if symbol(k, v) in expr.free_symbols}
        steps = [
            "In $d$ dimensions, with $\\int d^d\\ell = \\frac{2\\pi^{d/2}}{\\Gamma(d/2)}\\int_0^\\infty "
            "\\ell^{d-1}d\\ell$ and the radial integral a Beta function,",
            f"$$\\int \\frac{{d^d\\ell}}{{(2\\pi)^d}}\\frac{{(\\ell^2)^{a}}}{{(\\ell^2+\\Delta)^{n}}} = "
            f"\\frac{{\\Gamma({a} + d/2)\\,\\Gamma({n} - {a} - d/2)}}{{(4\\pi)^{{d/2}}\\,\\Gamma(d/2)\\,\\Gamma({n})}}"
            f"\\,\\Delta^{{d/2 + {a} - {n}}}.$$",
            f"With $d = {dim} - 2\\epsilon$: $I = {latex(exact)}$.",
            f"Expanding with $\\Gamma(-k+\\epsilon)$ poles, $\\Gamma'(1) = -\\gamma_E$ and $x^{{\\epsilon}} = 1 + "
            f"\\epsilon\\ln x + O(\\epsilon^2)$: the $1/\\epsilon$ coefficient is ${latex(pole)}$ and the finite part is "
            f"${latex(finite)}$.",
            f"So ${q} = {latex(expr)}$.",
        ]
        return self.problem(
            params,
            statement=statement,
            expr=expr,
            symbols=symbols,
            solution="\n\n".join(steps),
            quantity=q,
            function_name=fn,
            describe_return=what,
            sample_point=lambda rng: {
                "epsilon": round(rng.uniform(0.01, 0.2), 4),
                "Delta": round(rng.uniform(0.5, 5.0), 3),
                "mu": round(rng.uniform(0.5, 5.0), 3),
            },
        )


FAMILY = DimregIntegral()
