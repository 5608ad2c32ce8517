"""Solving one-loop RG running: alpha(mu) and the scale where 1/alpha vanishes, for SU(N) with n_f fundamental
Dirac fermions, by solving ``d alpha / d ln mu = -b0 alpha^2 / (2 pi)`` with sympy's ``dsolve``."""

from __future__ import annotations

from functools import cache
from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.beta_coefficient import b0_terms
from generation.cas.family import Family, latex, symbol

GROUP_RANKS = (2, 3, 4, 5, 6)
MAX_FLAVOURS = 16
QUANTITIES = ("alpha", "pole_scale")


@cache
def running_solution() -> tuple[sympy.Expr, sympy.Symbol, sympy.Symbol, sympy.Symbol]:
    """alpha(t) solving d alpha/dt = -b alpha^2/(2 pi), alpha(0) = alpha0, with t = ln(mu/mu0): (solution, b,
    alpha0, t)."""
    t = sympy.Symbol("t", real=True)
    b = sympy.Symbol("b", nonzero=True)
    alpha0 = symbol("alpha_0", "positive")
    alpha = sympy.Function("alpha")
    ode = sympy.Eq(alpha(t).diff(t), -b * alpha(t) ** 2 / (2 * sympy.pi))
    solution = sympy.dsolve(ode, alpha(t), ics={alpha(0): alpha0}).rhs
    return sympy.simplify(solution), b, alpha0, t


class RgRunning(Family):
    name = "rg_running"
    version = 1
    topic = "renormalization/running-couplings"
    level = "graduate"
    task_type = "derivation"
    description = "one-loop running alpha(mu) and its pole scale for SU(N) with n_f fundamental fermions"

    def parameter_space(self) -> list[dict[str, Any]]:
        space = []
        for n in GROUP_RANKS:
            for n_f in range(0, MAX_FLAVOURS + 1):
                if b0_terms(n, "fundamental", None, sympy.Integer(n_f))["b0"] == 0:
                    continue
                for quantity in QUANTITIES:
                    space.append({"N": n, "n_f": n_f, "quantity": quantity})
        return space

    def build(self, params: dict[str, Any]) -> Problem:
        n, n_f, quantity = params["N"], params["n_f"], params["quantity"]
        b0 = b0_terms(n, "fundamental", None, sympy.Integer(n_f))["b0"]
        solution, b, alpha0, t = running_solution()
        mu, mu0 = symbol("mu", "positive"), symbol("mu_0", "positive")
        alpha_mu = sympy.together(solution.subs({b: b0, t: sympy.log(mu / mu0)}))
        statement = (
            f"An $SU({n})$ gauge theory with {n_f} Dirac fermion flavour{'s' if n_f != 1 else ''} in the fundamental "
            "representation has, at one loop, $\\mu\\frac{dg}{d\\mu} = -\\frac{b_0 g^3}{16\\pi^2}$ with "
            "$b_0 = \\frac{11}{3}N - \\frac{2}{3}n_f$. Let $\\alpha = g^2/(4\\pi)$ and $\\alpha(\\mu_0) = \\alpha_0$ "
            "at a reference scale $\\mu_0$. Keep only the one-loop term."
        )
        steps = [
            f"Here $b_0 = \\frac{{11}}{{3}}\\cdot {n} - \\frac23\\cdot {n_f} = {latex(b0)}$.",
            "With $\\alpha = g^2/4\\pi$, $\\frac{d\\alpha}{d\\ln\\mu} = \\frac{g}{2\\pi}\\mu\\frac{dg}{d\\mu} = "
            "-\\frac{b_0}{2\\pi}\\alpha^2$.",
            f"Solving with $\\alpha(t=0) = \\alpha_0$, $t = \\ln(\\mu/\\mu_0)$: $\\alpha(t) = {latex(solution)}$ "
            f"with $b = b_0$, i.e. $\\alpha(\\mu) = {latex(alpha_mu)}$.",
        ]
        if quantity == "alpha":
            statement += " Find $\\alpha(\\mu)$."
            expr, q, fn, what = alpha_mu, "\\alpha(\\mu)", "alpha", "alpha(mu) given alpha_0, mu and mu_0"
            symbols = {"alpha_0": "positive", "mu": "positive", "mu_0": "positive"}
        else:
            where = "below" if b0 > 0 else "above"
            statement += (
                f" The one-loop coupling diverges at a scale $\\Lambda$ ({where} $\\mu_0$). Find $\\Lambda$."
            )
            pole = sympy.solve(sympy.Eq(1 / alpha_mu, 0), mu)
            (expr,) = pole
            steps.append(
                f"$1/\\alpha(\\mu) = 1/\\alpha_0 + \\frac{{b_0}}{{2\\pi}}\\ln(\\mu/\\mu_0)$ vanishes at "
                f"$\\Lambda = {latex(expr)}$."
            )
            q, fn, what = "\\Lambda", "pole_scale", "Lambda given alpha_0 and mu_0"
            symbols = {"alpha_0": "positive", "mu_0": "positive"}
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
                "alpha_0": round(rng.uniform(0.1, 0.4), 3),
                "mu": round(rng.uniform(1.0, 50.0), 3),
                "mu_0": round(rng.uniform(1.0, 50.0), 3),
            },
        )


FAMILY = RgRunning()
