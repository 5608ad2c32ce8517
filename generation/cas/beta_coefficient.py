"""One-loop beta-function coefficient b0 of an SU(N) gauge theory with n_f Dirac fermions and fixed scalar
matter, from Casimirs and Dynkin indices computed from explicit generators (``generation.cas.lie``); also the
Dynkin index and quadratic Casimir of a representation on their own.

Convention: ``mu dg/dmu = -b0 g^3 / (16 pi^2)`` with ``b0 = 11/3 C_2(G) - 4/3 T(R_f) n_f - 1/3 T(R_s) n_s`` for
complex scalars (1/6 per real scalar).
"""

from __future__ import annotations

from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.family import Family, latex, symbol
from generation.cas.lie import REPRESENTATION_LATEX, REPRESENTATIONS, casimir, dimension, dynkin_index

GROUP_RANKS = (2, 3, 4, 5, 6)
SCALAR_COUNTS = (1, 2, 3, 4)


def distinct_representations(n: int) -> list[str]:
    """The representations that are new for SU(n): drop the trivial and those equal to (or conjugate to)
    an earlier one (SU(2): symmetric = adjoint, antisymmetric = singlet; SU(3): antisymmetric = anti-fundamental)."""
    reps = []
    for rep in REPRESENTATIONS:
        if dimension(n, rep) == 1:
            continue
        if any(
            dimension(n, r) == dimension(n, rep) and dynkin_index(n, r) == dynkin_index(n, rep) for r in reps
        ):
            continue
        reps.append(rep)
    return reps


def b0_terms(n: int, fermion_rep: str, scalar: dict | None, n_f: sympy.Expr) -> dict[str, sympy.Expr]:
    """The gauge, fermion and scalar contributions to b0 and their sum."""
    gauge = sympy.Rational(11, 3) * casimir(n, "adjoint")
    fermions = -sympy.Rational(4, 3) * dynkin_index(n, fermion_rep) * n_f
    scalars = sympy.Integer(0)
    if scalar:
        weight = sympy.Rational(1, 3) if scalar["type"] == "complex" else sympy.Rational(1, 6)
        scalars = -weight * dynkin_index(n, scalar["rep"]) * scalar["count"]
    return {"gauge": gauge, "fermions": fermions, "scalars": scalars, "b0": gauge + fermions + scalars}


def matter_text(n: int, fermion_rep: str, scalar: dict | None) -> str:
    text = (
        f"$n_f$ Dirac fermions in the {REPRESENTATION_LATEX[fermion_rep]} representation "
        f"(dimension {dimension(n, fermion_rep)})"
    )
    if scalar:
        what = "complex" if scalar["type"] == "complex" else "real"
        plural = "s" if scalar["count"] > 1 else ""
        text += (
            f" and {scalar['count']} {what} scalar field{plural} in the {REPRESENTATION_LATEX[scalar['rep']]} "
            f"representation (dimension {dimension(n, scalar['rep'])})"
        )
    return text


class BetaCoefficient(Family):
    name = "beta_coefficient"
    version = 1
    topic = "renormalization/beta-functions"
    level = "graduate"
    task_type = "derivation"
    description = "one-loop b0 for SU(N) with fermions and scalars; Dynkin indices and Casimirs of SU(N) reps"

    def parameter_space(self) -> list[dict[str, Any]]:
        space: list[dict[str, Any]] = []
        for n in GROUP_RANKS:
            reps = distinct_representations(n)
            for rep in reps:
                space.append({"N": n, "quantity": "dynkin_index", "rep": rep})
                space.append({"N": n, "quantity": "casimir", "rep": rep})
            scalars: list[dict | None] = [None]
            for rep in reps:
                for count in SCALAR_COUNTS:
                    scalars.append({"rep": rep, "count": count, "type": "complex"})
                    if rep == "adjoint":  # a real representation: real scalars are possible
                        scalars.append({"rep": rep, "count": count, "type": "real"})
            for rep in reps:
                for scalar in scalars:
                    space.append({"N": n, "quantity": "b0", "fermions": rep, "scalars": scalar})
        return space

    def build(self, params: dict[str, Any]) -> Problem:
        n, quantity = params["N"], params["quantity"]
        if quantity != "b0":
            rep = params["rep"]
            index, c2 = dynkin_index(n, rep), casimir(n, rep)
            asked = "Dynkin index $T(R)$" if quantity == "dynkin_index" else "quadratic Casimir $C_2(R)$"
            statement = (
                f"Let $R$ be the {REPRESENTATION_LATEX[rep]} representation of $SU({n})$ (dimension "
                f"{dimension(n, rep)}), with generators normalized so that the fundamental has "
                "$\\mathrm{tr}(T^a T^b) = \\frac12\\delta^{ab}$. Define $T(R)$ by $\\mathrm{tr}(T^a_R T^b_R) = "
                "T(R)\\,\\delta^{ab}$ and $C_2(R)$ by $\\sum_a T^a_R T^a_R = C_2(R)\\,\\mathbb 1$. "
                f"Find the {asked}."
            )
            value = index if quantity == "dynkin_index" else c2
            solution = (
                f"Build the generators of $R$ explicitly: {_construction(rep)}. Then $\\mathrm{{tr}}(T^1_R T^1_R) = "
                f"{latex(index)}$, so $T(R) = {latex(index)}$, and $\\sum_a T^a_R T^a_R = {latex(c2)}\\,\\mathbb 1$, so "
                f"$C_2(R) = {latex(c2)}$. (Check: $C_2(R)\\,\\dim R = T(R)\\,(N^2-1)$: ${latex(c2)} \\cdot "
                f"{dimension(n, rep)} = {latex(index)} \\cdot {n * n - 1}$.)"
            )
            q = "T(R)" if quantity == "dynkin_index" else "C_2(R)"
            return self.problem(
                params,
                statement=statement,
                expr=value,
                symbols={},
                solution=solution,
                quantity=q,
                function_name=quantity,
                describe_return=f"{q} as a number",
            )
        rep, scalar = params["fermions"], params["scalars"]
        n_f = symbol("n_f", "nonnegative_integer")
        terms = b0_terms(n, rep, scalar, n_f)
        statement = (
            f"Consider an $SU({n})$ gauge theory with gauge coupling $g$, coupled to {matter_text(n, rep, scalar)}. "
            "Write the one-loop beta function as $\\mu\\frac{dg}{d\\mu} = -\\frac{b_0\\,g^3}{16\\pi^2}$. "
            "Find $b_0$ as a function of $n_f$."
        )
        steps = [
            "At one loop $b_0 = \\frac{11}{3}C_2(G) - \\frac43\\sum_{\\rm Dirac} T(R_f) - \\frac13\\sum_{\\rm complex\\ "
            "scalars} T(R_s)$, with $\\frac16$ per real scalar.",
            f"From the explicit $SU({n})$ generators: $C_2(G) = {latex(casimir(n, 'adjoint'))}$, "
            f"$T(R_f) = {latex(dynkin_index(n, rep))}$"
            + (f", $T(R_s) = {latex(dynkin_index(n, scalar['rep']))}$" if scalar else "")
            + ".",
            f"Gauge bosons: ${latex(terms['gauge'])}$; fermions: ${latex(terms['fermions'])}$"
            + (f"; scalars: ${latex(terms['scalars'])}$" if scalar else "")
            + ".",
            f"So $b_0 = {latex(terms['b0'])}$.",
        ]
        return self.problem(
            params,
            statement=statement,
            expr=terms["b0"],
            symbols={"n_f": "nonnegative_integer"},
            solution="\n\n".join(steps),
            quantity="b_0",
            function_name="b0",
            describe_return="the one-loop coefficient b0 for n_f Dirac fermions",
            sample_point=lambda rng: {"n_f": rng.randint(0, 12)},
        )


def _construction(rep: str) -> str:
    return {
        "fundamental": "the generalized Gell-Mann matrices divided by 2",
        "adjoint": "$(T^a_{\\rm adj})_{bc} = -i f^{abc}$ with $f^{abc} = -2i\\,\\mathrm{tr}([T^a, T^b]T^c)$",
        "symmetric": "$T^a \\otimes 1 + 1 \\otimes T^a$ restricted to symmetric tensors",
        "antisymmetric": "$T^a \\otimes 1 + 1 \\otimes T^a$ restricted to antisymmetric tensors",
    }[rep]


FAMILY = BetaCoefficient()
