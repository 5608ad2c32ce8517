"""Spin-summed or spin-averaged tree-level |M|^2 of QED 2 -> 2 processes in Mandelstam variables.

The squared amplitude is computed from the Feynman diagrams by :mod:`generation.cas.amplitudes` (spin sums closed
into Dirac traces, traces reduced and indices contracted, photon polarization sums as ``-g``), once per process
and mass configuration; a problem then picks which two of ``s, t, u`` the answer uses, whether spins are averaged
or summed, and whether the coupling is written as ``e`` or ``alpha``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.amplitudes import (
    Diagram,
    Line,
    closed,
    cm_mandelstam,
    eliminate,
    gamma,
    interference_latex,
    mandelstam_domain,
    slashed,
    squared_amplitude,
)
from generation.cas.family import Family, latex, symbol

MASS_LATEX = {"m_e": "m_e", "m_mu": "m_\\mu"}
PAIRS = (("s", "t"), ("s", "u"), ("t", "u"))


def _s_channel_pair(sign: int, c):
    """e-(p1) e+(p2) -> f(p3) fbar(p4) through a photon in the s channel."""
    return Diagram(
        sign * c,
        (
            Line(("vbar", "p2"), (gamma("mu"),), ("u", "p1")),
            Line(("ubar", "p3"), (gamma("mu"),), ("v", "p4")),
        ),
    )


def _diagrams_ee_mumu(m: dict[str, sympy.Expr]):
    s = symbol("s", "real")
    return (_s_channel_pair(1, 1 / s),)


def _diagrams_emu(m):
    t = symbol("t", "real")
    return (
        Diagram(
            1 / t,
            (
                Line(("ubar", "p3"), (gamma("mu"),), ("u", "p1")),
                Line(("ubar", "p4"), (gamma("mu"),), ("u", "p2")),
            ),
        ),
    )


def _diagrams_bhabha(m):
    s, t = symbol("s", "real"), symbol("t", "real")
    return (
        Diagram(
            1 / t,
            (
                Line(("ubar", "p3"), (gamma("mu"),), ("u", "p1")),
                Line(("vbar", "p2"), (gamma("mu"),), ("v", "p4")),
            ),
        ),
        _s_channel_pair(-1, 1 / s),
    )


def _diagrams_moller(m):
    t, u = symbol("t", "real"), symbol("u", "real")
    return (
        Diagram(
            1 / t,
            (
                Line(("ubar", "p3"), (gamma("mu"),), ("u", "p1")),
                Line(("ubar", "p4"), (gamma("mu"),), ("u", "p2")),
            ),
        ),
        Diagram(
            -1 / u,
            (
                Line(("ubar", "p4"), (gamma("mu"),), ("u", "p1")),
                Line(("ubar", "p3"), (gamma("mu"),), ("u", "p2")),
            ),
        ),
    )


def _mass_name(m: sympy.Expr) -> str | None:
    return None if m == 0 else str(m)


def _diagrams_compton(m):
    s, u = symbol("s", "real"), symbol("u", "real")
    me = m["p1"]
    q_s, q_u = {"p1": 1, "p2": 1}, {"p1": 1, "p4": -1}
    return (
        Diagram(
            1 / (s - me**2),
            (Line(("ubar", "p3"), (gamma("b"), slashed(q_s, _mass_name(me)), gamma("a")), ("u", "p1")),),
        ),
        Diagram(
            1 / (u - me**2),
            (Line(("ubar", "p3"), (gamma("a"), slashed(q_u, _mass_name(me)), gamma("b")), ("u", "p1")),),
        ),
    )


def _diagrams_annihilation(m):
    t, u = symbol("t", "real"), symbol("u", "real")
    me = m["p1"]
    q_t, q_u = {"p1": 1, "p3": -1}, {"p1": 1, "p4": -1}
    return (
        Diagram(
            1 / (t - me**2),
            (Line(("vbar", "p2"), (gamma("b"), slashed(q_t, _mass_name(me)), gamma("a")), ("u", "p1")),),
        ),
        Diagram(
            1 / (u - me**2),
            (Line(("vbar", "p2"), (gamma("a"), slashed(q_u, _mass_name(me)), gamma("b")), ("u", "p1")),),
        ),
    )


@dataclass(frozen=True)
class Process:
    text: str  # the reaction with momenta, LaTeX
    name: str
    species: tuple[str, str, str, str]  # "e", "mu" or "gamma" for p1..p4
    diagrams: Any
    diagram_text: str
    photons: tuple[str, ...] = ()  # external photon polarization indices
    photon_text: str = ""


PROCESSES = {
    "ee_mumu": Process(
        "e^-(p_1)\\, e^+(p_2) \\to \\mu^-(p_3)\\, \\mu^+(p_4)",
        "muon pair production",
        ("e", "e", "mu", "mu"),
        _diagrams_ee_mumu,
        "one diagram, photon exchange in the $s$ channel: $\\mathcal M = \\frac{e^2}{s}\\,[\\bar v(p_2)\\gamma^\\mu "
        "u(p_1)]\\,[\\bar u(p_3)\\gamma_\\mu v(p_4)]$ (up to an overall phase)",
    ),
    "emu_emu": Process(
        "e^-(p_1)\\, \\mu^-(p_2) \\to e^-(p_3)\\, \\mu^-(p_4)",
        "electron-muon scattering",
        ("e", "mu", "e", "mu"),
        _diagrams_emu,
        "one diagram, photon exchange in the $t$ channel: $\\mathcal M = \\frac{e^2}{t}\\,[\\bar u(p_3)\\gamma^\\mu "
        "u(p_1)]\\,[\\bar u(p_4)\\gamma_\\mu u(p_2)]$",
    ),
    "bhabha": Process(
        "e^-(p_1)\\, e^+(p_2) \\to e^-(p_3)\\, e^+(p_4)",
        "Bhabha scattering",
        ("e", "e", "e", "e"),
        _diagrams_bhabha,
        "two diagrams with a relative minus sign (Fermi statistics): $\\mathcal M = e^2\\left(\\frac{[\\bar u_3"
        "\\gamma^\\mu u_1][\\bar v_2\\gamma_\\mu v_4]}{t} - \\frac{[\\bar v_2\\gamma^\\mu u_1][\\bar u_3\\gamma_\\mu "
        "v_4]}{s}\\right)$",
    ),
    "moller": Process(
        "e^-(p_1)\\, e^-(p_2) \\to e^-(p_3)\\, e^-(p_4)",
        "Møller scattering",
        ("e", "e", "e", "e"),
        _diagrams_moller,
        "two diagrams with a relative minus sign (identical fermions): $\\mathcal M = e^2\\left(\\frac{[\\bar u_3"
        "\\gamma^\\mu u_1][\\bar u_4\\gamma_\\mu u_2]}{t} - \\frac{[\\bar u_4\\gamma^\\mu u_1][\\bar u_3\\gamma_\\mu "
        "u_2]}{u}\\right)$",
    ),
    "compton": Process(
        "e^-(p_1)\\, \\gamma(p_2) \\to e^-(p_3)\\, \\gamma(p_4)",
        "Compton scattering",
        ("e", "gamma", "e", "gamma"),
        _diagrams_compton,
        "two diagrams ($s$- and $u$-channel electron exchange): $\\mathcal M = e^2\\,\\epsilon_\\alpha(p_2)"
        "\\epsilon^*_\\beta(p_4)\\,\\bar u_3\\left[\\frac{\\gamma^\\beta(\\slashed p_1+\\slashed p_2+m_e)\\gamma^\\alpha}"
        "{s-m_e^2} + \\frac{\\gamma^\\alpha(\\slashed p_1-\\slashed p_4+m_e)\\gamma^\\beta}{u-m_e^2}\\right]u_1$",
        ("a", "b"),
        "the photon polarizations",
    ),
    "annihilation": Process(
        "e^-(p_1)\\, e^+(p_2) \\to \\gamma(p_3)\\, \\gamma(p_4)",
        "pair annihilation into two photons",
        ("e", "e", "gamma", "gamma"),
        _diagrams_annihilation,
        "two diagrams ($t$- and $u$-channel electron exchange): $\\mathcal M = e^2\\,\\epsilon^*_\\alpha(p_3)"
        "\\epsilon^*_\\beta(p_4)\\,\\bar v_2\\left[\\frac{\\gamma^\\beta(\\slashed p_1-\\slashed p_3+m_e)\\gamma^\\alpha}"
        "{t-m_e^2} + \\frac{\\gamma^\\alpha(\\slashed p_1-\\slashed p_4+m_e)\\gamma^\\beta}{u-m_e^2}\\right]u_1$",
        ("a", "b"),
        "the photon polarizations",
    ),
}

# Which masses are kept, per process: subsets of ("m_e", "m_mu").
MASS_CONFIGS = {
    "ee_mumu": ((), ("m_mu",), ("m_e", "m_mu")),
    "emu_emu": ((), ("m_mu",), ("m_e", "m_mu")),
    "bhabha": ((), ("m_e",)),
    "moller": ((), ("m_e",)),
    "compton": ((), ("m_e",)),
    "annihilation": ((), ("m_e",)),
}


def masses_for(process: str, kept: tuple[str, ...]) -> dict[str, sympy.Expr]:
    """The mass of p1..p4 (a positive symbol, or 0 when neglected or a photon)."""
    names = {"e": "m_e", "mu": "m_mu", "gamma": None}
    out = {}
    for label, species in zip(("p1", "p2", "p3", "p4"), PROCESSES[process].species, strict=True):
        name = names[species]
        out[label] = symbol(name, "positive") if name in kept else sympy.Integer(0)
    return out


@cache
def spin_summed(process: str, kept: tuple[str, ...]) -> tuple[tuple[sympy.Expr, sympy.Expr, str], ...]:
    """sum over all spins of |M|^2 / e^4 as ((coefficient, trace polynomial in s, t, u, LaTeX of the traces), ...)."""
    spec = PROCESSES[process]
    masses = masses_for(process, kept)
    diagrams = spec.diagrams(masses)
    terms = squared_amplitude(diagrams, masses, spec.photons)
    mass_names = {p: (None if m == 0 else str(m)) for p, m in masses.items()}
    texts = []
    for i, a in enumerate(diagrams):
        for b in diagrams[i:]:
            texts.append(interference_latex(closed(a, b, mass_names, spec.photons), MASS_LATEX))
    return tuple((c, p, text) for (c, p), text in zip(terms, texts, strict=True))


def kinematic_point(masses: dict[str, sympy.Expr], rng: random.Random) -> dict[str, float]:
    """A physical CM-frame point: masses in [0.3, 1.5], s above threshold, |cos theta| < 0.9."""
    values = {str(m): round(rng.uniform(0.3, 1.5), 3) for m in masses.values() if m != 0}
    m = tuple(values.get(str(masses[p]), 0.0) for p in ("p1", "p2", "p3", "p4"))
    threshold = max(m[0] + m[1], m[2] + m[3], 0.5) ** 2
    s = round(threshold * rng.uniform(1.3, 4.0), 3)
    t, u = cm_mandelstam(m, s, rng.uniform(-0.9, 0.9))
    return {**values, "s": s, "t": round(t, 3), "u": round(u, 3)}


def coupling_point(point: dict[str, float], coupling: str, rng: random.Random) -> dict[str, float]:
    value = round(rng.uniform(0.3, 1.2), 3) if coupling == "e" else round(rng.uniform(0.005, 0.1), 4)
    return {**point, coupling: value}


class QEDSpinAveragedSquaredAmplitude(Family):
    name = "qed_spin_averaged_msq"
    version = 1
    topic = "scattering/qed-tree-level"
    level = "graduate"
    task_type = "derivation"
    description = "tree-level spin-summed/averaged |M|^2 of QED 2->2 processes from Dirac traces, in Mandelstam variables"

    def parameter_space(self) -> list[dict[str, Any]]:
        space = []
        for process, configs in MASS_CONFIGS.items():
            for kept in configs:
                for pair in PAIRS:
                    for spins in ("averaged", "summed"):
                        for coupling in ("e", "alpha"):
                            space.append(
                                {
                                    "process": process,
                                    "masses": list(kept),
                                    "variables": list(pair),
                                    "spins": spins,
                                    "coupling": coupling,
                                }
                            )
        return space

    def build(self, params: dict[str, Any]) -> Problem:
        process, kept = params["process"], tuple(params["masses"])
        pair, spins, coupling = tuple(params["variables"]), params["spins"], params["coupling"]
        spec = PROCESSES[process]
        masses = masses_for(process, kept)
        drop = next(v for v in "stu" if v not in pair)
        e, alpha = symbol("e", "positive"), symbol("alpha", "positive")
        e4 = e**4 if coupling == "e" else 16 * sympy.pi**2 * alpha**2
        norm = sympy.Rational(1, 4) if spins == "averaged" else sympy.Integer(1)
        terms = spin_summed(process, kept)
        pieces = []
        for c, poly, _ in terms:
            pieces.append(
                sympy.factor(eliminate(c, masses, drop)) * sympy.factor(eliminate(poly, masses, drop))
            )
        expr = norm * e4 * sympy.Add(*pieces)
        mass_total = sum((m**2 for m in masses.values()), sympy.Integer(0))

        species_masses = []
        if process in ("ee_mumu", "emu_emu"):
            species_masses.append(
                "the electron mass $m_e$" if "m_e" in kept else "the electron as massless ($m_e = 0$)"
            )
            species_masses.append(
                "the muon mass $m_\\mu$" if "m_mu" in kept else "the muon as massless ($m_\\mu = 0$)"
            )
        else:
            species_masses.append(
                "the electron mass $m_e$" if kept else "the electron as massless ($m_e = 0$)"
            )
        mass_sentence = " and ".join(species_masses)
        if all("massless" not in x for x in species_masses):
            mass_sentence = "Keep " + mass_sentence
        elif all("massless" in x for x in species_masses):
            mass_sentence = "Treat " + mass_sentence
        else:
            mass_sentence = "Treat " + mass_sentence.replace(" and the muon mass", ", but keep the muon mass")
        if spins == "averaged":
            initial = (
                "the spins of the two initial fermions"
                if not spec.photons
                else (
                    "the initial electron spin and photon polarization"
                    if process == "compton"
                    else "the initial spins"
                )
            )
            spin_text = (
                f"the spin-averaged squared amplitude $\\overline{{|\\mathcal M|^2}}$: average over {initial} "
                "(a factor $1/4$) and sum over all final spins"
                + (" and polarizations" if spec.photons else "")
            )
            quantity = "\\overline{|\\mathcal M|^2}"
        else:
            spin_text = (
                "the squared amplitude summed over the spins"
                + (" and polarizations" if spec.photons else "")
                + " of all four external particles, $\\sum_{\\rm spins}|\\mathcal M|^2$ (no averaging factor)"
            )
            quantity = "\\sum_{\\rm spins}|\\mathcal M|^2"
        coupling_text = (
            "the positron charge $e > 0$ (the electron has charge $-e$)"
            if coupling == "e"
            else "the fine-structure constant $\\alpha = e^2/(4\\pi)$, where $e > 0$ is the positron charge"
        )
        photon_text = (
            " Sum over the physical (transverse) photon polarizations; by the Ward identity this is equivalent to "
            "$\\sum \\epsilon_\\mu \\epsilon^*_\\nu \\to -g_{\\mu\\nu}$."
            if spec.photons
            else ""
        )
        statement = (
            f"Consider {spec.name} in QED at tree level (lowest order), $${spec.text}.$$ {mass_sentence}. Use the metric "
            "$g = \\mathrm{diag}(+1,-1,-1,-1)$ and the Mandelstam variables $s = (p_1+p_2)^2$, $t = (p_1-p_3)^2$, "
            f"$u = (p_1-p_4)^2$, which satisfy $s + t + u = {latex(mass_total)}$. Compute {spin_text}.{photon_text} "
            f"Express the result in terms of ${pair[0]}$ and ${pair[1]}$ only (eliminate ${drop}$ with "
            f"$s+t+u = {latex(mass_total)}$)"
            + (", the masses kept above" if kept else "")
            + f" and {coupling_text}."
        )
        steps = [
            f"Conventions: {spec.diagram_text}.",
            "Summing over spins with $\\sum_s u\\bar u = \\slashed p + m$, $\\sum_s v\\bar v = \\slashed p - m$"
            + (" and over photon polarizations with $-g_{\\mu\\nu}$" if spec.photons else "")
            + ", each product $\\mathcal M_a\\mathcal M_b^*$ becomes Dirac traces; reduce them with "
            "$\\mathrm{tr}(\\gamma^\\mu\\gamma^\\nu) = 4g^{\\mu\\nu}$, $\\mathrm{tr}(\\gamma^\\mu\\gamma^\\nu\\gamma^\\rho"
            "\\gamma^\\sigma) = 4(g^{\\mu\\nu}g^{\\rho\\sigma} - g^{\\mu\\rho}g^{\\nu\\sigma} + g^{\\mu\\sigma}"
            "g^{\\nu\\rho})$, contract the repeated indices with the metric, and use $2p_1\\cdot p_2 = s - m_1^2 - m_2^2$, "
            "$2p_1\\cdot p_3 = m_1^2 + m_3^2 - t$, $2p_1\\cdot p_4 = m_1^2 + m_4^2 - u$ (and likewise for the others).",
        ]
        for i, (c, poly, text) in enumerate(terms):
            label = "diagonal" if len(terms) == 1 or i in (0, len(terms) - 1) else "interference"
            steps.append(
                f"Term with coefficient ${latex(c)}\\,e^4$ ({label}): $${text} = {latex(sympy.factor(poly))}$$"
            )
        summed = e**4 * sympy.Add(*(c * sympy.factor(p) for c, p, _ in terms))
        steps.append(f"So $\\sum_{{\\rm spins}}|\\mathcal M|^2 = {latex(summed)}$.")
        if spins == "averaged":
            steps.append("Averaging over the $2\\times 2$ initial states divides by 4.")
        if coupling == "alpha":
            steps.append("With $e^2 = 4\\pi\\alpha$, $e^4 = 16\\pi^2\\alpha^2$.")
        steps.append(f"Eliminating ${drop}$: $${quantity} = {latex(expr)}$$")

        symbols = {coupling: "positive"}
        for v in pair:
            symbols[v] = mandelstam_domain(masses, v)
        for name in ("m_e", "m_mu"):
            if name in kept:
                symbols[name] = "positive"

        def point(rng: random.Random) -> dict[str, float]:
            return coupling_point(kinematic_point(masses, rng), coupling, rng)

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
            tags=(process,),
        )


FAMILY = QEDSpinAveragedSquaredAmplitude()
