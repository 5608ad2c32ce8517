"""Gauge and gravitational anomaly coefficients of chiral fermions under SU(3) x SU(2) x U(1)_X.

Every fermion is a left-handed Weyl multiplet ``(r3, r2)_X`` with ``r3`` in {1, 3, 3bar}, ``r2`` in {1, 2} and a
rational U(1) charge ``X``. The anomaly coefficients are

- ``U(1)^3``: ``sum d3 d2 X^3``;  mixed gravitational ``U(1)-grav^2``: ``sum d3 d2 X``;
- ``SU(3)^2 U(1)``: ``sum T(r3) d2 X``;  ``SU(2)^2 U(1)``: ``sum d3 T(r2) X``;  ``SU(3)^3``: ``sum A(r3) d2``,

with the dimensions, Dynkin indices ``T`` (``T(fund) = 1/2``) and cubic indices ``A`` (``A(3) = 1``) computed from
explicit generators (``generation.cas.lie``). Questions: a coefficient's value; the ``U(1)^3`` or gravitational
coefficient as a polynomial in one unknown charge ``z``; the charge of one multiplet that cancels a linear anomaly.
The charge sets are one Standard-Model generation (hypercharge or B-L, with one charge removed) and seeded random
sets. Independent check: the Standard Model hypercharges cancel every anomaly (tests).
"""

from __future__ import annotations

import random
from functools import cache
from typing import Any

import numpy as np
import sympy

from curation.records.problem import Problem
from generation.cas.family import Family, latex, symbol
from generation.cas.lie import dimension, dynkin_index, fundamental_generators

Z = symbol("z", "real")

# Linear anomalies (solvable for one charge), cubic in the charges, and the charge-independent SU(3)^3.
LINEAR = ("gravitational", "su3_u1", "su2_u1")
COEFFICIENTS = ("u1_cubed", *LINEAR, "su3_cubed")
QUANTITY_LATEX = {
    "u1_cubed": "\\mathcal A_{U(1)^3}",
    "gravitational": "\\mathcal A_{\\rm grav}",
    "su3_u1": "\\mathcal A_{SU(3)^2 U(1)}",
    "su2_u1": "\\mathcal A_{SU(2)^2 U(1)}",
    "su3_cubed": "\\mathcal A_{SU(3)^3}",
}
DEFINITIONS = {
    "u1_cubed": "\\mathcal A_{U(1)^3} = \\mathrm{Tr}\\,[X^3]",
    "gravitational": "\\mathcal A_{\\rm grav} = \\mathrm{Tr}\\,[X]",
    "su3_u1": "\\mathrm{Tr}\\,[T_3^a T_3^b X] = \\mathcal A_{SU(3)^2 U(1)}\\,\\delta^{ab}",
    "su2_u1": "\\mathrm{Tr}\\,[T_2^a T_2^b X] = \\mathcal A_{SU(2)^2 U(1)}\\,\\delta^{ab}",
    "su3_cubed": "\\mathrm{Tr}\\,[T_3^a \\{T_3^b, T_3^c\\}] = \\mathcal A_{SU(3)^3}\\,"
    "\\mathrm{tr}_{\\mathbf 3}[t^a \\{t^b, t^c\\}]",
}
# How each multiplet's term is computed, for the solutions.
TERM_RULES = {
    "u1_cubed": "d_3 d_2 X^3",
    "gravitational": "d_3 d_2 X",
    "su3_u1": "T(r_3)\\, d_2 X",
    "su2_u1": "d_3\\, T(r_2) X",
    "su3_cubed": "A(r_3)\\, d_2",
}
NAMES = {
    "u1_cubed": "the cubic $U(1)_X^3$ anomaly coefficient",
    "gravitational": "the mixed $U(1)_X$-gravitational anomaly coefficient",
    "su3_u1": "the mixed $SU(3)^2\\,U(1)_X$ anomaly coefficient",
    "su2_u1": "the mixed $SU(2)^2\\,U(1)_X$ anomaly coefficient",
    "su3_cubed": "the $SU(3)^3$ anomaly coefficient",
}
REP_LATEX = {"1": "\\mathbf 1", "3": "\\mathbf 3", "3b": "\\bar{\\mathbf 3}", "2": "\\mathbf 2"}

# One generation as left-handed Weyl fields: Q, u^c, d^c, L, e^c (and nu^c), with hypercharge Y and B-L.
SM_FIELDS = (("3", "2"), ("3b", "1"), ("3b", "1"), ("1", "2"), ("1", "1"), ("1", "1"))
SM_CHARGES = {
    "hypercharge": ("1/6", "-2/3", "1/3", "-1/2", "1", "0"),
    "B-L": ("1/3", "-1/3", "-1/3", "-1", "1", "1"),
}
CHARGE_GRID = tuple(sympy.Rational(k, 6) for k in range(-12, 13) if k != 0)
RANDOM_SETS = 48


@cache
def su3_data(rep: str) -> tuple[int, sympy.Rational, int]:
    """(dimension, Dynkin index, cubic index A) of an SU(3) representation from explicit generators; A is
    tr_R(T^8 T^8 T^8) / tr_3(T^8 T^8 T^8), the 3bar generators being -T^*."""
    if rep == "1":
        return 1, sympy.Integer(0), 0
    t8 = fundamental_generators(3)[-1]
    generator = t8 if rep == "3" else -t8.conj()
    cubic = np.trace(generator @ generator @ generator).real / np.trace(t8 @ t8 @ t8).real
    return dimension(3, "fundamental"), dynkin_index(3, "fundamental"), int(round(cubic))


@cache
def su2_data(rep: str) -> tuple[int, sympy.Rational]:
    """(dimension, Dynkin index) of an SU(2) representation."""
    if rep == "1":
        return 1, sympy.Integer(0)
    return dimension(2, "fundamental"), dynkin_index(2, "fundamental")


def contribution(quantity: str, r3: str, r2: str, charge: sympy.Expr) -> sympy.Expr:
    """One multiplet's term in an anomaly coefficient."""
    d3, t3, a3 = su3_data(r3)
    d2, t2 = su2_data(r2)
    return {
        "u1_cubed": d3 * d2 * charge**3,
        "gravitational": d3 * d2 * charge,
        "su3_u1": t3 * d2 * charge,
        "su2_u1": d3 * t2 * charge,
        "su3_cubed": sympy.Integer(a3 * d2),
    }[quantity]


def anomaly(quantity: str, fermions: list[tuple[str, str, sympy.Expr]]) -> sympy.Expr:
    """An anomaly coefficient of a list of (r3, r2, charge) left-handed multiplets."""
    return sympy.expand(sum((contribution(quantity, *f) for f in fermions), sympy.Integer(0)))


def _fermions(params: dict[str, Any]) -> list[tuple[str, str, sympy.Expr]]:
    """The multiplets with exact charges; the unknown one (if any) carries the symbol z."""
    unknown = params.get("unknown", -1)
    return [
        (r3, r2, Z if i == unknown else sympy.Rational(charge))
        for i, (r3, r2, charge) in enumerate(params["fermions"])
    ]


def _random_sets() -> list[list[list[str]]]:
    """Seeded random chiral spectra: 3 to 6 multiplets with charges in (1/6) Z, |X| <= 2."""
    rng = random.Random("gauge_anomaly:1")
    reps = (("3", "2"), ("3", "1"), ("3b", "1"), ("1", "2"), ("1", "1"), ("3b", "2"))
    sets: list[list[list[str]]] = []
    while len(sets) < RANDOM_SETS:
        size = rng.randint(3, 6)
        spectrum = sorted([*rng.choice(reps), str(rng.choice(CHARGE_GRID))] for _ in range(size))
        if spectrum not in sets:
            sets.append(spectrum)
    return sets


def _questions(fermions: list[list[str]], origin: str) -> list[dict[str, Any]]:
    space: list[dict[str, Any]] = []
    exact = _fermions({"fermions": fermions})
    for quantity in COEFFICIENTS:
        if anomaly(quantity, exact) != 0:
            space.append({"origin": origin, "fermions": fermions, "quantity": quantity})
    # A standard-model spectrum asks about every charge; a random one about its first multiplet only.
    for i in range(len(fermions) if origin.startswith("sm") else 1):
        with_z = _fermions({"fermions": fermions, "unknown": i})
        if origin == "random":
            for quantity in ("u1_cubed", "gravitational"):
                space.append({"origin": origin, "fermions": fermions, "quantity": quantity, "unknown": i})
        for quantity in LINEAR:
            solved = sympy.solve(anomaly(quantity, with_z), Z)
            if len(solved) == 1 and solved[0] != 0:
                space.append(
                    {"origin": origin, "fermions": fermions, "quantity": f"cancel_{quantity}", "unknown": i}
                )
    return space


class GaugeAnomaly(Family):
    name = "gauge_anomaly"
    version = 1
    topic = "anomalies/gauge-anomaly-cancellation"
    level = "advanced graduate"
    task_type = "derivation"
    description = (
        "anomaly coefficients of chiral SU(3)xSU(2)xU(1) spectra; the charge that cancels an anomaly"
    )

    def parameter_space(self) -> list[dict[str, Any]]:
        space: list[dict[str, Any]] = []
        for charges_name, charges in SM_CHARGES.items():
            for with_nu in (False, True):
                count = 6 if with_nu else 5
                fermions = [
                    [r3, r2, q] for (r3, r2), q in zip(SM_FIELDS[:count], charges[:count], strict=True)
                ]
                space += _questions(fermions, f"sm-{charges_name}")
        for fermions in _random_sets():
            space += _questions(fermions, "random")
        return space

    def build(self, params: dict[str, Any]) -> Problem:
        quantity = params["quantity"]
        fermions = _fermions(params)
        unknown = params.get("unknown", -1)
        lines = []
        for i, (r3, r2, charge) in enumerate(fermions, 1):
            lines.append(f"- $\\psi_{{{i}}} \\sim ({REP_LATEX[r3]}, {REP_LATEX[r2]})_{{{latex(charge)}}}$")
        statement = (
            "Consider a gauge theory with gauge group $SU(3) \\times SU(2) \\times U(1)_X$ and the following "
            "left-handed Weyl fermions, written as $(r_3, r_2)_X$ with $r_3$ the $SU(3)$ representation, $r_2$ the "
            "$SU(2)$ representation and $X$ the $U(1)_X$ charge:\n\n" + "\n".join(lines) + "\n\n"
            "Here $\\mathrm{Tr}$ runs over all left-handed Weyl components (every colour and isospin state), "
            "$T_3^a$ and $T_2^a$ are the $SU(3)$ and $SU(2)$ generators acting on them, normalized so that the "
            "fundamental generators $t^a$ satisfy $\\mathrm{tr}(t^a t^b) = \\tfrac12 \\delta^{ab}$, and $X$ is the "
            "charge operator. The anomaly coefficient is defined by\n\n"
        )
        base = quantity.removeprefix("cancel_")
        statement += f"$${DEFINITIONS[base]}.$$\n\n"
        terms = [contribution(base, *f) for f in fermions]
        total = anomaly(base, fermions)
        sum_text = " + ".join(f"\\left({latex(t)}\\right)" for t in terms)
        steps = [
            "Each multiplet contributes with its dimensions $d_3$, $d_2$, Dynkin indices $T(\\mathbf 3) = "
            "T(\\bar{\\mathbf 3}) = T(\\mathbf 2) = \\tfrac12$ and cubic index $A(\\mathbf 3) = 1$, "
            "$A(\\bar{\\mathbf 3}) = -1$ (the $\\bar{\\mathbf 3}$ generators are $-t^{a*}$): a term "
            f"${TERM_RULES[base]}$.",
            f"Term by term, ${QUANTITY_LATEX[base]} = {sum_text} = {latex(total)}$.",
        ]
        if quantity.startswith("cancel_"):
            value = sympy.solve(total, Z)[0]
            statement += (
                f"The charge $z$ of $\\psi_{{{unknown + 1}}}$ is to be fixed so that {NAMES[base]} vanishes. "
                "Find $z$."
            )
            steps.append(f"Setting ${latex(total)} = 0$ gives $z = {latex(value)}$.")
            q, symbols, fn, what = "z", {}, "charge", "the charge z that cancels the anomaly"
        elif unknown >= 0:
            value = total
            statement += f"Find {NAMES[base]} ${QUANTITY_LATEX[base]}$ as a function of the charge $z$ of $\\psi_{{{unknown + 1}}}$."
            q, symbols, fn = QUANTITY_LATEX[base], {"z": "real"}, f"anomaly_{base}"
            what = "the anomaly coefficient as a function of z"
        else:
            value = total
            statement += f"Find {NAMES[base]} ${QUANTITY_LATEX[base]}$."
            q, symbols, fn, what = QUANTITY_LATEX[base], {}, f"anomaly_{base}", "the anomaly coefficient"
        return self.problem(
            params,
            statement=statement,
            expr=value,
            symbols=symbols,
            solution="\n\n".join(steps),
            quantity=q,
            function_name=fn,
            describe_return=what,
            sample_point=lambda rng: {"z": round(rng.uniform(-2.0, 2.0), 3)},
        )


FAMILY = GaugeAnomaly()
