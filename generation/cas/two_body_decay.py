"""Two-body decay kinematics and width through the Källén function, with integer mass ratios.

A scalar of mass ``M = c m`` at rest decays to two distinct scalars of masses ``a m`` and ``b m``; the family asks
for the daughter momentum, the energy of daughter 1, or the width for the interaction ``-g Phi phi1 phi2``.
"""

from __future__ import annotations

from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.family import Family, latex, symbol

QUANTITIES = ("momentum", "energy", "width")
MAX_RATIO = 14


def kallen(x: sympy.Expr, y: sympy.Expr, z: sympy.Expr) -> sympy.Expr:
    """The Källén function lambda(x, y, z) = x^2 + y^2 + z^2 - 2xy - 2yz - 2zx."""
    return sympy.expand(x**2 + y**2 + z**2 - 2 * x * y - 2 * y * z - 2 * z * x)


def _mass(k: int) -> str:
    return "0" if k == 0 else ("m" if k == 1 else f"{k}m")


class TwoBodyDecay(Family):
    name = "two_body_decay"
    version = 1
    topic = "relativistic-kinematics/two-body-decay"
    level = "advanced undergraduate"
    task_type = "derivation"
    description = "daughter momentum, energy and width of a two-body decay (Källén function)"

    def parameter_space(self) -> list[dict[str, Any]]:
        space = []
        for c in range(2, MAX_RATIO + 1):
            for a in range(0, c):
                for b in range(0, c - a):
                    if a + b >= c:
                        continue
                    for quantity in QUANTITIES:
                        # |p| and the width are symmetric in the daughters: keep one ordering.
                        if quantity != "energy" and a > b:
                            continue
                        space.append({"M": c, "m1": a, "m2": b, "quantity": quantity})
        return space

    def build(self, params: dict[str, Any]) -> Problem:
        c, a, b, quantity = params["M"], params["m1"], params["m2"], params["quantity"]
        m, g = symbol("m", "positive"), symbol("g", "positive")
        M, m1, m2 = c * m, a * m, b * m
        lam = kallen(M**2, m1**2, m2**2)
        p = sympy.sqrt(lam) / (2 * M)
        e1 = (M**2 + m1**2 - m2**2) / (2 * M)
        setup = (
            f"A spinless particle $\\Phi$ of mass $M = {_mass(c)}$ decays at rest into two distinct spinless "
            f"particles $\\phi_1$ and $\\phi_2$ of masses $m_1 = {_mass(a)}$ and $m_2 = {_mass(b)}$, where $m > 0$. "
            "Use natural units ($\\hbar = c = 1$)."
        )
        steps = [
            "Four-momentum conservation in the rest frame of $\\Phi$ gives back-to-back daughters with "
            "$E_1 = \\frac{M^2 + m_1^2 - m_2^2}{2M}$ and $|\\vec p| = \\frac{\\lambda^{1/2}(M^2, m_1^2, m_2^2)}{2M}$, "
            "with the Källén function $\\lambda(x,y,z) = x^2+y^2+z^2-2xy-2yz-2zx$.",
            f"Here $\\lambda({latex(M**2)}, {latex(m1**2)}, {latex(m2**2)}) = {latex(lam)}$.",
        ]
        if quantity == "momentum":
            statement = setup + " Find the magnitude $|\\vec p|$ of the three-momentum of either daughter."
            expr, q, what = p, "|\\vec p|", "the daughter momentum |p| for the given m"
            steps.append(f"So $|\\vec p| = \\frac{{\\sqrt{{{latex(lam)}}}}}{{{latex(2 * M)}}} = {latex(p)}$.")
        elif quantity == "energy":
            statement = setup + " Find the energy $E_1$ of $\\phi_1$ in the rest frame of $\\Phi$."
            expr, q, what = sympy.simplify(e1), "E_1", "the energy E_1 of phi_1 for the given m"
            steps = steps[:1] + [f"So $E_1 = {latex(expr)}$."]
        else:
            statement = (
                setup + " The decay is caused by the interaction Lagrangian "
                "$\\mathcal{L}_{\\rm int} = -g\\,\\Phi\\,\\phi_1\\,\\phi_2$ (the coupling $g > 0$ has mass dimension "
                "1). At tree level, find the total decay width $\\Gamma(\\Phi \\to \\phi_1 \\phi_2)$."
            )
            expr = sympy.simplify(g**2 * p / (8 * sympy.pi * M**2))
            q, what = "\\Gamma", "the width Gamma for the given m and g"
            steps += [
                f"The amplitude is $\\mathcal{{M}} = -g$, so $|\\mathcal{{M}}|^2 = g^2$, and $|\\vec p| = {latex(p)}$.",
                "The two-body width is $\\Gamma = \\frac{|\\vec p|}{8\\pi M^2}|\\mathcal{M}|^2$ (no identical-"
                "particle factor: the daughters are distinct).",
                f"Hence $\\Gamma = {latex(expr)}$.",
            ]
        symbols = {"m": "positive", "g": "positive"} if quantity == "width" else {"m": "positive"}
        return self.problem(
            params,
            statement=statement,
            expr=expr,
            symbols=symbols,
            solution="\n\n".join(steps),
            quantity=q,
            function_name=f"decay_{quantity}",
            describe_return=what,
        )


FAMILY = TwoBodyDecay()
