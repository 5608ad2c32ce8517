"""Tree-level |M|^2 of 2 -> 2 processes in Yukawa theory, scalar ``g phi psibar psi`` or pseudoscalar
``i g phi psibar gamma5 psi`` coupling, in Mandelstam variables.

Computed from the diagrams by :mod:`generation.cas.amplitudes` (spin sums into traces; ``gamma5`` pairs removed
with ``gamma5 X gamma5 = X`` with every gamma matrix negated), once per process, coupling and mediator mass.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.amplitudes import (
    G5,
    Diagram,
    Line,
    closed,
    cm_mandelstam,
    eliminate,
    interference_latex,
    mandelstam_domain,
    slashed,
    squared_amplitude,
)
from generation.cas.family import Family, latex, symbol

PAIRS = (("s", "t"), ("s", "u"), ("t", "u"))
MASS_LATEX = {"m": "m", "m_chi": "m_\\chi"}


@dataclass(frozen=True)
class Process:
    text: str
    species: tuple[str, str, str, str]  # "psi", "chi" or "phi" for p1..p4
    diagram_text: str
    initial_states: int  # spin states averaged over


PROCESSES = {
    "psi_psi": Process(
        "\\psi(p_1)\\,\\psi(p_2) \\to \\psi(p_3)\\,\\psi(p_4)",
        ("psi", "psi", "psi", "psi"),
        "$t$- and $u$-channel $\\phi$ exchange with a relative minus sign (identical fermions): "
        "$\\mathcal M \\propto \\frac{[\\bar u_3\\Gamma u_1][\\bar u_4\\Gamma u_2]}{t-M^2} - "
        "\\frac{[\\bar u_4\\Gamma u_1][\\bar u_3\\Gamma u_2]}{u-M^2}$",
        4,
    ),
    "psi_psibar": Process(
        "\\psi(p_1)\\,\\bar\\psi(p_2) \\to \\psi(p_3)\\,\\bar\\psi(p_4)",
        ("psi", "psi", "psi", "psi"),
        "$t$-channel exchange and $s$-channel annihilation with a relative minus sign: "
        "$\\mathcal M \\propto \\frac{[\\bar u_3\\Gamma u_1][\\bar v_2\\Gamma v_4]}{t-M^2} - "
        "\\frac{[\\bar v_2\\Gamma u_1][\\bar u_3\\Gamma v_4]}{s-M^2}$",
        4,
    ),
    "psi_chi": Process(
        "\\psi(p_1)\\,\\chi(p_2) \\to \\psi(p_3)\\,\\chi(p_4)",
        ("psi", "chi", "psi", "chi"),
        "one diagram, $t$-channel $\\phi$ exchange: $\\mathcal M \\propto \\frac{[\\bar u_3\\Gamma u_1]"
        "[\\bar u_4\\Gamma u_2]}{t-M^2}$",
        4,
    ),
    "psi_psibar_chi": Process(
        "\\psi(p_1)\\,\\bar\\psi(p_2) \\to \\chi(p_3)\\,\\bar\\chi(p_4)",
        ("psi", "psi", "chi", "chi"),
        "one diagram, $s$-channel $\\phi$: $\\mathcal M \\propto \\frac{[\\bar v_2\\Gamma u_1][\\bar u_3\\Gamma v_4]}"
        "{s-M^2}$",
        4,
    ),
    "annihilation": Process(
        "\\psi(p_1)\\,\\bar\\psi(p_2) \\to \\phi(p_3)\\,\\phi(p_4)",
        ("psi", "psi", "phi", "phi"),
        "$t$- and $u$-channel fermion exchange, same sign (identical bosons): $\\mathcal M \\propto \\bar v_2\\left["
        "\\frac{\\Gamma(\\slashed p_1 - \\slashed p_3 + m)\\Gamma}{t-m^2} + \\frac{\\Gamma(\\slashed p_1 - "
        "\\slashed p_4 + m)\\Gamma}{u-m^2}\\right]u_1$",
        4,
    ),
    "compton": Process(
        "\\psi(p_1)\\,\\phi(p_2) \\to \\psi(p_3)\\,\\phi(p_4)",
        ("psi", "phi", "psi", "phi"),
        "$s$- and $u$-channel fermion exchange, same sign: $\\mathcal M \\propto \\bar u_3\\left["
        "\\frac{\\Gamma(\\slashed p_1 + \\slashed p_2 + m)\\Gamma}{s-m^2} + \\frac{\\Gamma(\\slashed p_1 - "
        "\\slashed p_4 + m)\\Gamma}{u-m^2}\\right]u_1$",
        2,
    ),
}


def masses_for(process: str, mediator_massive: bool) -> dict[str, sympy.Expr]:
    values = {
        "psi": symbol("m", "positive"),
        "chi": symbol("m_chi", "positive"),
        "phi": symbol("M", "positive") if mediator_massive else sympy.Integer(0),
    }
    return {f"p{i + 1}": values[x] for i, x in enumerate(PROCESSES[process].species)}


def _diagrams(process: str, coupling: str, mediator: sympy.Expr) -> tuple[Diagram, ...]:
    s, t, u = (symbol(n, "real") for n in "stu")
    vertex = (G5,) if coupling == "pseudoscalar" else ()
    m = "m"

    def line(left, right, middle=()):
        return Line(left, middle or vertex, right)

    def prop(q):
        return (*vertex, slashed(q, m), *vertex)

    msq = mediator**2
    if process == "psi_psi":
        return (
            Diagram(1 / (t - msq), (line(("ubar", "p3"), ("u", "p1")), line(("ubar", "p4"), ("u", "p2")))),
            Diagram(-1 / (u - msq), (line(("ubar", "p4"), ("u", "p1")), line(("ubar", "p3"), ("u", "p2")))),
        )
    if process == "psi_psibar":
        return (
            Diagram(1 / (t - msq), (line(("ubar", "p3"), ("u", "p1")), line(("vbar", "p2"), ("v", "p4")))),
            Diagram(-1 / (s - msq), (line(("vbar", "p2"), ("u", "p1")), line(("ubar", "p3"), ("v", "p4")))),
        )
    if process == "psi_chi":
        return (
            Diagram(1 / (t - msq), (line(("ubar", "p3"), ("u", "p1")), line(("ubar", "p4"), ("u", "p2")))),
        )
    if process == "psi_psibar_chi":
        return (
            Diagram(1 / (s - msq), (line(("vbar", "p2"), ("u", "p1")), line(("ubar", "p3"), ("v", "p4")))),
        )
    mass = symbol("m", "positive")
    if process == "annihilation":
        return (
            Diagram(1 / (t - mass**2), (Line(("vbar", "p2"), prop({"p1": 1, "p3": -1}), ("u", "p1")),)),
            Diagram(1 / (u - mass**2), (Line(("vbar", "p2"), prop({"p1": 1, "p4": -1}), ("u", "p1")),)),
        )
    return (
        Diagram(1 / (s - mass**2), (Line(("ubar", "p3"), prop({"p1": 1, "p2": 1}), ("u", "p1")),)),
        Diagram(1 / (u - mass**2), (Line(("ubar", "p3"), prop({"p1": 1, "p4": -1}), ("u", "p1")),)),
    )


@cache
def spin_summed(
    process: str, coupling: str, mediator_massive: bool
) -> tuple[tuple[sympy.Expr, sympy.Expr, str], ...]:
    """sum over spins of |M|^2 / g^4 as ((coefficient, trace polynomial in s, t, u, LaTeX of the traces), ...)."""
    masses = masses_for(process, mediator_massive)
    mediator = symbol("M", "positive") if mediator_massive else sympy.Integer(0)
    diagrams = _diagrams(process, coupling, mediator)
    terms = squared_amplitude(diagrams, masses)
    names = {p: (None if m == 0 else str(m)) for p, m in masses.items()}
    texts = [
        interference_latex(closed(a, b, names, ()), MASS_LATEX)
        for i, a in enumerate(diagrams)
        for b in diagrams[i:]
    ]
    return tuple((c, p, text) for (c, p), text in zip(terms, texts, strict=True))


class YukawaScattering(Family):
    name = "yukawa_scattering"
    version = 1
    topic = "scattering/yukawa-tree-level"
    level = "advanced graduate"
    task_type = "derivation"
    description = (
        "tree-level |M|^2 of 2->2 processes with scalar or pseudoscalar Yukawa couplings, from traces"
    )

    def parameter_space(self) -> list[dict[str, Any]]:
        return [
            {
                "process": process,
                "coupling": coupling,
                "mediator_massive": massive,
                "variables": list(pair),
                "spins": spins,
            }
            for process in PROCESSES
            for coupling in ("scalar", "pseudoscalar")
            for massive in (True, False)
            for pair in PAIRS
            for spins in ("averaged", "summed")
        ]

    def build(self, params: dict[str, Any]) -> Problem:
        process, coupling, massive = params["process"], params["coupling"], params["mediator_massive"]
        pair, spins = tuple(params["variables"]), params["spins"]
        spec = PROCESSES[process]
        masses = masses_for(process, massive)
        drop = next(v for v in "stu" if v not in pair)
        g = symbol("g", "positive")
        terms = spin_summed(process, coupling, massive)
        norm = sympy.Rational(1, spec.initial_states) if spins == "averaged" else sympy.Integer(1)
        expr = (
            norm
            * g**4
            * sympy.Add(
                *(
                    sympy.factor(eliminate(c, masses, drop)) * sympy.factor(eliminate(p, masses, drop))
                    for c, p, _ in terms
                )
            )
        )
        mass_total = sum((x**2 for x in masses.values()), sympy.Integer(0))
        interaction = (
            "\\mathcal L_{\\rm int} = -g\\,\\phi\\,\\bar\\psi\\psi"
            if coupling == "scalar"
            else "\\mathcal L_{\\rm int} = -i g\\,\\phi\\,\\bar\\psi\\gamma^5\\psi"
        )
        fields = "a Dirac fermion $\\psi$ of mass $m$"
        if "chi" in spec.species:
            interaction += (
                " - g\\,\\phi\\,\\bar\\chi\\chi"
                if coupling == "scalar"
                else " - i g\\,\\phi\\,\\bar\\chi\\gamma^5\\chi"
            )
            fields += ", a second Dirac fermion $\\chi$ of mass $m_\\chi$"
        mediator_text = "of mass $M$" if massive else "that is massless"
        average = {
            4: "the spins of the two initial fermions (a factor $1/4$)",
            2: "the initial fermion spin (a factor $1/2$)",
        }
        if spins == "averaged":
            spin_text = (
                f"the spin-averaged squared amplitude $\\overline{{|\\mathcal M|^2}}$: average over "
                f"{average[spec.initial_states]} and sum over the final spins"
            )
            quantity = "\\overline{|\\mathcal M|^2}"
        else:
            spin_text = (
                "the squared amplitude summed over all external spins, $\\sum_{\\rm spins}|\\mathcal M|^2$"
            )
            quantity = "\\sum_{\\rm spins}|\\mathcal M|^2"
        kept = [
            n for n in ("m", "m_chi", "M") if n in {str(x) for x in masses.values()} or (n == "M" and massive)
        ]
        names = ", ".join(f"${MASS_LATEX.get(n, n)}$" for n in kept)
        statement = (
            f"A theory contains {fields} and a real {'scalar' if coupling == 'scalar' else 'pseudoscalar'} field "
            f"$\\phi$ {mediator_text}, with the interaction $${interaction}$$ and no other interactions (in particular "
            f"no $\\phi$ self-coupling); $g > 0$. At tree level (order $g^2$ in the amplitude), consider $${spec.text}.$$ "
            "Use the metric $\\mathrm{diag}(+1,-1,-1,-1)$, $\\gamma^5 = i\\gamma^0\\gamma^1\\gamma^2\\gamma^3$, and the "
            "Mandelstam variables $s = (p_1+p_2)^2$, $t = (p_1-p_3)^2$, $u = (p_1-p_4)^2$ with "
            f"$s+t+u = {latex(mass_total)}$. Compute {spin_text}. Express the result in terms of ${pair[0]}$ and "
            f"${pair[1]}$ only (eliminate ${drop}$), the coupling $g$ and the masses {names}."
        )
        vertex, gamma_matrix = ("-ig", "1") if coupling == "scalar" else ("g\\gamma^5", "\\gamma^5")
        steps = [
            f"The vertex is ${vertex}$, so $\\Gamma = {gamma_matrix}$ up to a phase "
            f"common to all diagrams. Diagrams: {spec.diagram_text}.",
            "Summing over spins with $\\sum u\\bar u = \\slashed p + m$, $\\sum v\\bar v = \\slashed p - m$ gives "
            "traces"
            + (
                "; the $\\gamma^5$ pairs are removed with $\\gamma^5 X\\gamma^5 = X$ with every $\\gamma$ matrix in $X$ "
                "negated (and $\\overline{\\gamma^5} = -\\gamma^5$ in the conjugate amplitude)"
                if coupling == "pseudoscalar"
                else ""
            )
            + ". The scalar products follow from $2p_1\\cdot p_2 = s - m_1^2 - m_2^2$, $2p_1\\cdot p_3 = m_1^2 + "
            "m_3^2 - t$, $2p_1\\cdot p_4 = m_1^2 + m_4^2 - u$ and their analogues.",
        ]
        for i, (c, poly, text) in enumerate(terms):
            label = (
                "diagonal"
                if len(terms) == 1 or i in (0, len(terms) - 1)
                else "interference, $2\\,\\mathrm{Re}$"
            )
            steps.append(
                f"Term with coefficient ${latex(c)}\\,g^4$ ({label}): $${text} = {latex(sympy.factor(poly))}$$"
            )
        if spins == "averaged":
            steps.append(f"Averaging divides the spin sum by {spec.initial_states}.")
        steps.append(f"Eliminating ${drop}$: $${quantity} = {latex(expr)}$$")
        symbols = {"g": "positive", **{v: mandelstam_domain(masses, v) for v in pair}}
        symbols.update({n: "positive" for n in kept})

        def point(rng: random.Random) -> dict[str, float]:
            values = {n: round(rng.uniform(0.3, 1.5), 3) for n in kept}
            m = tuple(values.get(str(masses[p]), 0.0) for p in ("p1", "p2", "p3", "p4"))
            threshold = max(m[0] + m[1], m[2] + m[3]) ** 2
            s = round(threshold * rng.uniform(1.3, 4.0), 3)
            t, u = cm_mandelstam(m, s, rng.uniform(-0.9, 0.9))
            return {
                **values,
                "s": s,
                "t": round(t, 3),
                "u": round(u, 3),
                "g": round(rng.uniform(0.3, 1.5), 3),
            }

        return self.problem(
            params,
            statement=statement,
            expr=expr,
            symbols=symbols,
            solution="\n\n".join(steps),
            quantity=quantity,
            function_name="squared_amplitude",
            describe_return=(
                "the "
                + ("spin-averaged" if spins == "averaged" else "spin-summed")
                + " |M|^2 at the given values"
            ),
            sample_point=point,
            tags=(process, coupling),
        )


FAMILY = YukawaScattering()
