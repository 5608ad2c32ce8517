"""Centre-of-mass cross sections of e+ e- -> X Xbar through one photon, for a Dirac fermion or a charged scalar.

The spin-averaged |M|^2 comes from :mod:`generation.cas.amplitudes` (traces and contractions, computed once per
final state and mass setting); the CM kinematics with a massless electron, ``t = m^2 - s(1 - beta cos theta)/2``,
turn it into dsigma/dOmega = beta |M|^2 / (64 pi^2 s), dsigma/dcos(theta), dsigma/dt = |M|^2 / (16 pi s^2), and
sympy integrates over the angle for sigma.
"""

from __future__ import annotations

import random
from functools import cache
from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.amplitudes import (
    Current,
    Diagram,
    Line,
    cm_mandelstam,
    eliminate,
    gamma,
    squared_amplitude,
)
from generation.cas.family import Family, latex, symbol

# Final states: (kind, charge as a string or "symbolic", colours or "symbolic").
SPECIES = {
    "lepton": ("fermion", "-1", "1"),
    "up_quark": ("fermion", "2/3", "3"),
    "down_quark": ("fermion", "-1/3", "3"),
    "fermion_symbolic": ("fermion", "symbolic", "symbolic"),
    "scalar": ("scalar", "-1", "1"),
    "scalar_symbolic": ("scalar", "symbolic", "1"),
}
QUANTITIES = ("dsigma_dOmega", "dsigma_dcos", "dsigma_dt", "sigma")
QUANTITY_LATEX = {
    "dsigma_dOmega": "\\frac{d\\sigma}{d\\Omega}",
    "dsigma_dcos": "\\frac{d\\sigma}{d\\cos\\theta}",
    "dsigma_dt": "\\frac{d\\sigma}{dt}",
    "sigma": "\\sigma",
}
PARTICLE_TEXT = {
    "lepton": "a charged lepton $\\ell^-$ of charge $-e$ (no colour)",
    "up_quark": "an up-type quark $q$ of charge $+\\tfrac23 e$ with $N_c = 3$ colours",
    "down_quark": "a down-type quark $q$ of charge $-\\tfrac13 e$ with $N_c = 3$ colours",
    "fermion_symbolic": "a Dirac fermion $f$ of charge $Q_f e$ with $N_c$ colour states",
    "scalar": "a charged spin-0 particle $\\phi^-$ of charge $-e$ (scalar QED)",
    "scalar_symbolic": "a charged spin-0 particle $\\phi$ of charge $Q_\\phi e$ (scalar QED)",
}


def _mass_symbol(kind: str) -> sympy.Symbol:
    return symbol("m_f" if kind == "fermion" else "m_phi", "positive")


@cache
def averaged_msq(kind: str, massive: bool) -> sympy.Expr:
    """(1/4) sum |M|^2 / (e^4 Q^2 N_c) for e-(p1) e+(p2) -> X(p3) Xbar(p4) with a massless electron, in s, t, u."""
    m = _mass_symbol(kind) if massive else sympy.Integer(0)
    masses = {"p1": sympy.Integer(0), "p2": sympy.Integer(0), "p3": m, "p4": m}
    s = symbol("s", "real")
    electron = Line(("vbar", "p2"), (gamma("mu"),), ("u", "p1"))
    if kind == "fermion":
        diagram = Diagram(1 / s, (electron, Line(("ubar", "p3"), (gamma("mu"),), ("v", "p4"))))
    else:
        diagram = Diagram(1 / s, (electron,), (Current(((1, "p3"), (-1, "p4")), "mu"),))
    ((c, poly),) = squared_amplitude((diagram,), masses)
    return sympy.factor(c * poly / 4)


def _coupling(species: str) -> tuple[sympy.Expr, dict[str, str]]:
    """Q^2 N_c and the extra declared symbols."""
    _, charge, colours = SPECIES[species]
    if charge == "symbolic":
        q = symbol("Q_f" if SPECIES[species][0] == "fermion" else "Q_phi", "real")
        factor = q**2
        extra = {q.name: "real"}
    else:
        factor, extra = sympy.Rational(charge) ** 2, {}
    if colours == "symbolic":
        n = symbol("N_c", "positive_integer")
        factor *= n
        extra[n.name] = "positive_integer"
    else:
        factor *= int(colours)
    return factor, extra


class CMCrossSection(Family):
    name = "cm_cross_section"
    version = 1
    topic = "scattering/cross-sections"
    level = "graduate"
    task_type = "derivation"
    description = (
        "CM-frame dsigma/dOmega, dsigma/dcos, dsigma/dt and sigma for e+e- -> fermion or scalar pairs"
    )

    def parameter_space(self) -> list[dict[str, Any]]:
        return [
            {"species": species, "massive": massive, "quantity": quantity, "coupling": coupling}
            for species in SPECIES
            for massive in (False, True)
            for quantity in QUANTITIES
            for coupling in ("alpha", "e")
        ]

    def build(self, params: dict[str, Any]) -> Problem:
        species, massive, quantity, coupling = (
            params["species"],
            params["massive"],
            params["quantity"],
            params["coupling"],
        )
        kind = SPECIES[species][0]
        m = _mass_symbol(kind) if massive else sympy.Integer(0)
        masses = {"p1": sympy.Integer(0), "p2": sympy.Integer(0), "p3": m, "p4": m}
        s, t, u = (symbol(n, "real") for n in "stu")
        theta = symbol("theta", "real")
        e, alpha = symbol("e", "positive"), symbol("alpha", "positive")
        e4 = e**4 if coupling == "e" else 16 * sympy.pi**2 * alpha**2
        charge_factor, extra = _coupling(species)
        base = averaged_msq(kind, massive)
        msq = e4 * charge_factor * base
        beta = sympy.sqrt(1 - 4 * m**2 / s)
        t_cm = m**2 - s * (1 - beta * sympy.cos(theta)) / 2
        u_cm = m**2 - s * (1 + beta * sympy.cos(theta)) / 2
        angular = sympy.factor(sympy.expand(base.subs({t: t_cm, u: u_cm})))
        dsigma_domega = e4 * charge_factor * beta * angular / (64 * sympy.pi**2 * s)
        c = sympy.Symbol("c")
        steps = [
            "With one photon in the $s$ channel and a massless electron, the spin sums close into traces; the "
            f"computed spin-averaged squared amplitude is $$\\overline{{|\\mathcal M|^2}} = {latex(msq)}$$ in terms "
            "of $s = (p_1+p_2)^2$, $t = (p_1-p_3)^2$, $u = (p_1-p_4)^2$"
            + (f", with $s+t+u = {latex(2 * m**2)}$." if massive else ", with $s+t+u = 0$."),
        ]
        if quantity == "dsigma_dt":
            expr = sympy.factor(eliminate(msq, masses, "u")) / (16 * sympy.pi * s**2)
            steps.append(
                "For massless initial particles the flux gives $\\frac{d\\sigma}{dt} = \\frac{\\overline{|\\mathcal M|^2}}"
                f"{{16\\pi s^2}}$; eliminating $u$: $$\\frac{{d\\sigma}}{{dt}} = {latex(expr)}$$"
            )
            variables = {"s": "positive", "t": "negative"}
        else:
            beta_text = (
                f"the final-state velocity $\\beta = \\sqrt{{1 - 4{latex(m**2)}/s}}$, "
                if massive
                else "massless final particles ($\\beta = 1$), "
            )
            steps.append(
                "In the CM frame, with " + beta_text + f"$t = {latex(t_cm)}$ and $u = {latex(u_cm)}$, so "
                f"$\\overline{{|\\mathcal M|^2}} = {latex(e4 * charge_factor * angular)}$."
            )
            steps.append(
                "Then $\\frac{d\\sigma}{d\\Omega} = \\frac{|\\vec p_f|}{|\\vec p_i|}\\frac{\\overline{|\\mathcal M|^2}}"
                f"{{64\\pi^2 s}} = {latex(dsigma_domega)}$."
            )
            if quantity == "dsigma_dOmega":
                expr = dsigma_domega
                variables = {"s": "positive", "theta": "real"}
            elif quantity == "dsigma_dcos":
                expr = 2 * sympy.pi * dsigma_domega
                steps.append(
                    f"Integrating over the azimuth, $\\frac{{d\\sigma}}{{d\\cos\\theta}} = {latex(expr)}$."
                )
                variables = {"s": "positive", "theta": "real"}
            else:
                in_c = sympy.expand(angular.subs(sympy.cos(theta), c))
                integral = sympy.integrate(in_c, (c, -1, 1))
                expr = sympy.factor(
                    2 * sympy.pi * e4 * charge_factor * beta * integral / (64 * sympy.pi**2 * s)
                )
                steps.append(
                    f"With $c = \\cos\\theta$, $\\int_{{-1}}^{{1}} \\left({latex(in_c)}\\right) dc = "
                    f"{latex(sympy.factor(integral))}$, and the azimuth gives $2\\pi$: $$\\sigma = {latex(expr)}$$"
                )
                variables = {"s": "positive"}
        symbols = {coupling: "positive", **variables}
        if massive:
            symbols[m.name] = "positive"
        symbols.update(extra)

        def point(rng: random.Random) -> dict[str, float]:
            mass = round(rng.uniform(0.3, 1.5), 3)
            s_value = round(max(4 * mass**2, 0.5) * rng.uniform(1.2, 5.0), 3)
            p = {
                "s": s_value,
                "theta": round(rng.uniform(0.1, 3.0), 3),
                m.name if massive else "_": mass,
                "e": round(rng.uniform(0.3, 1.2), 3),
                "alpha": round(rng.uniform(0.005, 0.1), 4),
                "Q_f": round(rng.uniform(-1.0, 1.0), 3) or 0.5,
                "Q_phi": round(rng.uniform(-1.0, 1.0), 3) or 0.5,
                "N_c": rng.randint(1, 5),
            }
            final = mass if massive else 0.0
            p["t"] = round(cm_mandelstam((0.0, 0.0, final, final), s_value, rng.uniform(-0.9, 0.9))[0], 3)
            return p

        particle = PARTICLE_TEXT[species]
        mass_text = f"of mass ${latex(m)}$" if massive else "treated as massless"
        coupling_text = (
            "the positron charge $e > 0$"
            if coupling == "e"
            else "the fine-structure constant $\\alpha = e^2/(4\\pi)$ ($e > 0$ the positron charge)"
        )
        if quantity == "sigma":
            ask = "the total cross section $\\sigma$"
            variables_text = "$s$"
        elif quantity == "dsigma_dt":
            ask = "the differential cross section $d\\sigma/dt$, where $t = (p_1 - p_3)^2$"
            variables_text = "$s$ and $t$"
        else:
            what = "d\\sigma/d\\Omega" if quantity == "dsigma_dOmega" else "d\\sigma/d\\cos\\theta"
            ask = (
                f"the differential cross section ${what}$ in the centre-of-mass frame, where $\\theta$ is the angle "
                "between the outgoing particle $X(p_3)$ and the incoming electron"
            )
            variables_text = "$s$ and $\\theta$"
        names = [f"${latex(sympy.Symbol(n))}$" for n in extra]
        statement = (
            f"Unpolarized electrons and positrons collide, $e^-(p_1)\\, e^+(p_2) \\to X(p_3)\\, \\bar X(p_4)$, where $X$ "
            f"is {particle}, {mass_text}. Work in QED at lowest order (one-photon exchange in the $s$ channel), "
            "neglect the electron mass, use natural units and the metric $\\mathrm{diag}(+1,-1,-1,-1)$, and let "
            "$s = (p_1 + p_2)^2$ be the squared centre-of-mass energy. Average over the initial spins and sum over "
            f"all final spins{' and colours' if SPECIES[species][2] != '1' else ''}. Compute {ask}. Express it in terms of "
            f"{variables_text}{', $' + latex(m) + '$' if massive else ''}"
            + (", " + ", ".join(names) if names else "")
            + f" and {coupling_text}."
        )
        return self.problem(
            params,
            statement=statement,
            expr=expr,
            symbols=symbols,
            solution="\n\n".join(steps),
            quantity=QUANTITY_LATEX[quantity],
            function_name=quantity,
            describe_return=f"{quantity.replace('_', '/')} at the given values",
            sample_point=point,
            tags=(species,),
        )


FAMILY = CMCrossSection()
