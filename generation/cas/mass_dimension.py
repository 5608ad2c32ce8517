"""Mass dimensions of couplings in d spacetime dimensions, and the critical dimension where one is marginal.

The field dimensions are solved from the canonical kinetic terms (the action is dimensionless), then the
coupling of an operator ``phi^a (psibar psi)^b A^v ∂^c`` has dimension ``d - [operator]``.
"""

from __future__ import annotations

from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.family import Family, latex, symbol

QUANTITIES = ("coupling", "critical")


def field_dimensions(d: sympy.Symbol) -> dict[str, sympy.Expr]:
    """[phi], [psi], [A] and [∂] in d dimensions, solved from dimensionless kinetic terms."""
    x_phi, x_psi, x_a = sympy.symbols("x_phi x_psi x_A")
    # ∫ d^dx (∂phi)^2, ∫ d^dx psibar i∂slash psi, ∫ d^dx F_{mu nu}F^{mu nu} with F ~ ∂A: each has dimension 0.
    solved = sympy.solve(
        [-d + 2 * x_phi + 2, -d + 2 * x_psi + 1, -d + 2 * x_a + 2], [x_phi, x_psi, x_a], dict=True
    )[0]
    return {"phi": solved[x_phi], "psi": solved[x_psi], "A": solved[x_a], "partial": sympy.Integer(1)}


def operator_latex(a: int, b: int, v: int, c: int) -> str:
    parts = []
    if c:
        parts.append(f"\\partial^{{{c}}}" if c > 1 else "\\partial")
    if a:
        parts.append("\\phi" if a == 1 else f"\\phi^{{{a}}}")
    if v:
        parts.append("A_\\mu" if v == 1 else f"(A_\\mu)^{{{v}}}")
    if b:
        parts.append("\\bar\\psi\\psi" if b == 1 else f"(\\bar\\psi\\psi)^{{{b}}}")
    return "\\,".join(parts)


class MassDimension(Family):
    name = "mass_dimension"
    version = 1
    topic = "renormalization/power-counting"
    level = "advanced undergraduate"
    task_type = "derivation"
    description = "mass dimension of a coupling in d dimensions; critical dimension where it is marginal"

    def parameter_space(self) -> list[dict[str, Any]]:
        d = sympy.Symbol("d")
        dims = field_dimensions(d)
        space = []
        for a in range(0, 9):
            for b in range(0, 3):
                for v in range(0, 3):
                    for c in (0, 2, 4):
                        if a + b + v < 2 and not (a == 1 and b + v + c == 0):
                            continue  # a linear term in phi is allowed; other one-field operators are not
                        if c and a < 2:
                            continue  # derivatives act on the scalars
                        if (c + v) % 2 and not b:
                            continue  # an odd number of vector indices needs a gamma^mu between fermions
                        if (a, b, v, c) in ((2, 0, 0, 2), (2, 0, 0, 0), (0, 0, 2, 2)):
                            continue  # kinetic and mass terms fix the normalization
                        for quantity in QUANTITIES:
                            if quantity == "critical":
                                coupling = d - a * dims["phi"] - 2 * b * dims["psi"] - v * dims["A"] - c
                                roots = sympy.solve(coupling, d)
                                if len(roots) != 1 or roots[0] <= 0:
                                    continue
                            space.append(
                                {
                                    "scalars": a,
                                    "fermion_bilinears": b,
                                    "vectors": v,
                                    "derivatives": c,
                                    "quantity": quantity,
                                }
                            )
        return space

    def build(self, params: dict[str, Any]) -> Problem:
        a, b, v, c = params["scalars"], params["fermion_bilinears"], params["vectors"], params["derivatives"]
        d = symbol("d", "positive")
        dims = field_dimensions(d)
        operator = operator_latex(a, b, v, c)
        op_dim = sympy.expand(a * dims["phi"] + 2 * b * dims["psi"] + v * dims["A"] + c * dims["partial"])
        coupling = sympy.expand(d - op_dim)
        statement = (
            f"In $d$ spacetime dimensions, with natural units ($\\hbar = c = 1$) so that the action is "
            "dimensionless, consider a real scalar $\\phi$, a Dirac fermion $\\psi$ and a vector field $A_\\mu$ "
            "with canonically normalized kinetic terms $\\frac12 \\partial_\\mu\\phi\\,\\partial^\\mu\\phi$, "
            "$\\bar\\psi i\\gamma^\\mu\\partial_\\mu\\psi$ and $-\\frac14 F_{\\mu\\nu}F^{\\mu\\nu}$ "
            "(with $F_{\\mu\\nu} = \\partial_\\mu A_\\nu - \\partial_\\nu A_\\mu$). A coupling $g$ multiplies the "
            f"interaction term $g\\,{operator}$ in the Lagrangian density (Lorentz indices contracted as needed; "
            f"$\\partial^{{n}}$ means $n$ derivatives acting on the scalars)."
        )
        steps = [
            f"From $[\\mathcal L] = d$: $2[\\phi] + 2 = d$, $2[\\psi] + 1 = d$, $2[A] + 2 = d$, so "
            f"$[\\phi] = {latex(dims['phi'])}$, $[\\psi] = {latex(dims['psi'])}$, $[A_\\mu] = {latex(dims['A'])}$, "
            "$[\\partial] = 1$.",
            f"The operator has dimension $[{operator}] = {latex(op_dim)}$, so "
            f"$[g] = d - ({latex(op_dim)}) = {latex(coupling)}$.",
        ]
        if params["quantity"] == "coupling":
            statement += " Find the mass dimension $[g]$ as a function of $d$."
            expr, q, symbols, fn, what = (
                coupling,
                "[g]",
                {"d": "positive"},
                "coupling_dimension",
                "[g] at dimension d",
            )
        else:
            (root,) = sympy.solve(coupling, d)
            statement += (
                " Find the critical dimension $d_c$: the value of $d$ at which $g$ is dimensionless "
                "(marginal by power counting)."
            )
            steps.append(f"Setting $[g] = 0$ gives $d_c = {latex(root)}$.")
            expr, q, symbols, fn, what = root, "d_c", {}, "critical_dimension", "the critical dimension d_c"
        return self.problem(
            params,
            statement=statement,
            expr=expr,
            symbols=symbols,
            solution="\n\n".join(steps),
            quantity=q,
            function_name=fn,
            describe_return=what,
            sample_point=lambda rng: {"d": round(rng.uniform(2.0, 11.0), 3)},
        )


FAMILY = MassDimension()
