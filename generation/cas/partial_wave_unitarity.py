"""Tree-level partial-wave amplitudes of 2 -> 2 scalar scattering and the perturbative-unitarity bounds they imply.

A model is a list of interaction monomials ``-c * prod(fields)`` of massless real scalars (``phi``, ``phi1``,
``phi2``), a massless complex scalar (``chi`` and its conjugate ``chib``) and a real scalar mediator ``sigma`` of
mass ``m``. The tree amplitude of a process is derived from the monomials, not typed: a contact monomial whose
fields match the four legs gives ``M = -c prod_f n_f!`` (``n_f`` the multiplicity of field ``f``), and two cubic
monomials joined by a ``sigma`` propagator in channel ``X`` (``s``, ``t`` or ``u``) give ``-v1 v2 / (X - m^2)``.
An incoming particle is annihilated by its own field, an outgoing one by the conjugate field (``chi <-> chib``).

Partial waves use the normalization ``a_l(s) = S / (32 pi) ∫_{-1}^{1} d(cos θ) P_l(cos θ) M(s, cos θ)`` with the
identical-particle factor ``S`` of the stated convention, massless external particles (``t = -s(1 - cos θ)/2``,
``u = -s(1 + cos θ)/2``); the Legendre projections of the ``t`` and ``u`` poles are done exactly (polynomial
division in ``w = -(t - m^2)``), with ``L = log(1 + s/m^2)``. The bound asks for the largest coupling with
``|Re a_0| <= 1/2``: in the high-energy limit for a model with a quartic coupling, or at ``s = k m^2`` for a
purely cubic model.
"""

from __future__ import annotations

import math
from collections import Counter
from functools import cache
from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.family import Family, latex, symbol

S_SYM, M_SYM = symbol("s", "positive"), symbol("m", "positive")
LAM, G, G1, G2 = (symbol(n, "positive") for n in ("lamda", "g", "g_1", "g_2"))
L_SYM = sympy.Symbol("L", positive=True)  # log(1 + s/m^2) while assembling
CONJUGATE = {"chi": "chib", "chib": "chi"}
FIELD_LATEX = {
    "phi": "\\phi",
    "phi1": "\\phi_1",
    "phi2": "\\phi_2",
    "chi": "\\chi",
    "chib": "\\chi^*",
    "sigma": "\\sigma",
}
PARTICLE_LATEX = {"phi": "\\phi", "phi1": "\\phi_1", "phi2": "\\phi_2", "chi": "\\chi", "chib": "\\bar\\chi"}

# name: (monomials (coefficient c of -c * fields, fields), processes (p1, p2, p3, p4), the bound's coupling).
MODELS: dict[str, tuple[tuple[tuple[sympy.Expr, tuple[str, ...]], ...], tuple[tuple[str, ...], ...], Any]] = {
    "phi4_24": (((LAM / 24, ("phi",) * 4),), (("phi", "phi", "phi", "phi"),), LAM),
    "phi4_4": (((LAM / 4, ("phi",) * 4),), (("phi", "phi", "phi", "phi"),), LAM),
    "two_real_quartic": (
        ((LAM / 4, ("phi1", "phi1", "phi2", "phi2")),),
        (("phi1", "phi1", "phi2", "phi2"), ("phi1", "phi2", "phi1", "phi2")),
        LAM,
    ),
    "complex_quartic": (
        ((LAM, ("chi", "chi", "chib", "chib")),),
        (("chi", "chib", "chi", "chib"), ("chi", "chi", "chi", "chi")),
        LAM,
    ),
    "real_cubic": (((G / 2, ("sigma", "phi", "phi")),), (("phi", "phi", "phi", "phi"),), G),
    "two_real_cubic": (
        ((G1 / 2, ("sigma", "phi1", "phi1")), (G2 / 2, ("sigma", "phi2", "phi2"))),
        (("phi1", "phi1", "phi2", "phi2"), ("phi1", "phi2", "phi1", "phi2")),
        None,
    ),
    "mixed_cubic": (
        ((G, ("sigma", "phi1", "phi2")),),
        (("phi1", "phi2", "phi1", "phi2"), ("phi1", "phi1", "phi2", "phi2")),
        G,
    ),
    "complex_cubic": (
        ((G, ("sigma", "chi", "chib")),),
        (("chi", "chib", "chi", "chib"), ("chi", "chi", "chi", "chi")),
        G,
    ),
    "quartic_and_cubic": (
        ((LAM / 24, ("phi",) * 4), (G / 2, ("sigma", "phi", "phi"))),
        (("phi", "phi", "phi", "phi"),),
        LAM,
    ),
}
CONVENTIONS = ("symmetrized", "plain")
LMAX = 3
BOUND_POINTS = (2, 3, 4, 6, 10)
CHANNELS = {"s": ((0, 1), (2, 3)), "t": ((0, 2), (1, 3)), "u": ((0, 3), (1, 2))}


def _vertex(monomials, fields: tuple[str, ...]) -> sympy.Expr:
    """v with vertex factor -i v for these legs (field names as seen at the vertex)."""
    total = sympy.Integer(0)
    for c, mono in monomials:
        if Counter(mono) == Counter(fields):
            total += c * math.prod(math.factorial(n) for n in Counter(mono).values())
    return total


def _monomial_latex(fields: tuple[str, ...]) -> str:
    counts = Counter(fields)
    return " ".join(FIELD_LATEX[f] + (f"^{n}" if n > 1 else "") for f, n in counts.items())


def _legs(process: tuple[str, ...]) -> tuple[str, ...]:
    """The fields that annihilate each external line: incoming as is, outgoing conjugated."""
    return tuple(p if i < 2 else CONJUGATE.get(p, p) for i, p in enumerate(process))


@cache
def amplitude(model: str, process: tuple[str, ...]) -> tuple[sympy.Expr, dict[str, sympy.Expr]]:
    """(contact part, {channel: residue coefficient r, the term being r/(X - m^2)}) of M for the process."""
    monomials = MODELS[model][0]
    legs = _legs(process)
    contact = -_vertex(monomials, legs)
    poles = {}
    for name, (a, b) in CHANNELS.items():
        v1 = _vertex(monomials, (legs[a[0]], legs[a[1]], "sigma"))
        v2 = _vertex(monomials, (legs[b[0]], legs[b[1]], "sigma"))
        if v1 * v2 != 0:
            poles[name] = -v1 * v2
    return contact, poles


@cache
def t_projection(ell: int) -> sympy.Expr:
    """∫_{-1}^{1} dc P_l(c) / (t - m^2) with t = -s(1 - c)/2, in terms of s, m and L = log(1 + s/m^2).

    With w = m^2 - t = m^2 + s(1 - c)/2 (from m^2 to m^2 + s), dc = -2 dw/s and the integrand is -P_l(c(w))/w:
    the polynomial part integrates term by term and the 1/w term gives L."""
    w = sympy.Symbol("w")
    c = 1 - 2 * (w - M_SYM**2) / S_SYM
    poly = sympy.Poly(sympy.expand(sympy.legendre(ell, c)), w)
    total = sympy.Integer(0)
    for (k,), a in poly.terms():
        total += a * L_SYM if k == 0 else a * ((M_SYM**2 + S_SYM) ** k - M_SYM ** (2 * k)) / k
    return sympy.factor(sympy.expand(-2 * total / S_SYM))


def projection(channel: str, ell: int) -> sympy.Expr:
    """∫ dc P_l(c) / (X - m^2) for channel X (u = t with c -> -c, so (-1)^l times the t result)."""
    if channel == "s":
        return 2 / (S_SYM - M_SYM**2) if ell == 0 else sympy.Integer(0)
    return t_projection(ell) * (-1 if channel == "u" and ell % 2 else 1)


def identical_factor(process: tuple[str, ...], convention: str) -> sympy.Expr:
    if convention == "plain":
        return sympy.Integer(1)
    pairs = (process[0] == process[1]) + (process[2] == process[3])
    return 1 / sympy.sqrt(2) ** pairs


@cache
def partial_wave(model: str, process: tuple[str, ...], convention: str, ell: int) -> sympy.Expr:
    """a_l with L = log(1 + s/m^2) left as the symbol L."""
    contact, poles = amplitude(model, process)
    integral = (2 * contact if ell == 0 else 0) + sum(
        (r * projection(ch, ell) for ch, r in poles.items()), sympy.Integer(0)
    )
    return sympy.factor(sympy.expand(identical_factor(process, convention) * integral / (32 * sympy.pi)))


def with_log(expr: sympy.Expr) -> sympy.Expr:
    return expr.subs(L_SYM, sympy.log(1 + S_SYM / M_SYM**2))


class PartialWaveUnitarity(Family):
    name = "partial_wave_unitarity"
    version = 1
    topic = "scattering/partial-wave-unitarity"
    level = "post-graduate"
    task_type = "derivation"
    description = (
        "tree-level partial-wave amplitudes a_0, a_1, a_2 of scalar 2->2 scattering and unitarity bounds"
    )

    def parameter_space(self) -> list[dict[str, Any]]:
        space = []
        for model, (_, processes, bound_coupling) in MODELS.items():
            for process in processes:
                identical = process[0] == process[1] or process[2] == process[3]
                for convention in CONVENTIONS if identical else ("symmetrized",):
                    base = {"model": model, "process": list(process), "convention": convention}
                    for ell in range(LMAX + 1):
                        if partial_wave(model, process, convention, ell) != 0:
                            space.append({**base, "quantity": f"a{ell}", "k": 0})
                    if bound_coupling is None:
                        continue
                    if bound_coupling == LAM:
                        space.append({**base, "quantity": "bound", "k": 0})
                    else:
                        space += [{**base, "quantity": "bound", "k": k} for k in BOUND_POINTS]
        return space

    def build(self, params: dict[str, Any]) -> Problem:
        model, convention, quantity, k = (
            params["model"],
            params["convention"],
            params["quantity"],
            params["k"],
        )
        process = tuple(params["process"])
        monomials, _, bound_coupling = MODELS[model]
        contact, poles = amplitude(model, process)
        has_sigma = any("sigma" in mono for _, mono in monomials)
        lagrangian = " ".join(f"- {latex(c)}\\,{_monomial_latex(mono)}" for c, mono in monomials)
        fields_text = {
            "phi": "a massless real scalar $\\phi$",
            "phi1": "two distinct massless real scalars $\\phi_1, \\phi_2$",
            "chi": "a massless complex scalar $\\chi$ (particle $\\chi$, antiparticle $\\bar\\chi$)",
        }
        present = {f for _, mono in monomials for f in mono}
        kinds = [text for key, text in fields_text.items() if key in present]
        sigma_text = (
            ", coupled to a real scalar $\\sigma$ of mass $m > 0$ (kinetic and mass terms canonical)"
            if has_sigma
            else ""
        )
        process_text = (
            f"{PARTICLE_LATEX[process[0]]}(p_1)\\, {PARTICLE_LATEX[process[1]]}(p_2) \\to "
            f"{PARTICLE_LATEX[process[2]]}(p_3)\\, {PARTICLE_LATEX[process[3]]}(p_4)"
        )
        if convention == "symmetrized":
            convention_text = (
                "$S = 1/\\sqrt{2}$ for each of the initial and the final two-particle states that consists of two "
                "identical particles ($S = 1/2$ when both do, $S = 1$ when neither does)"
            )
        else:
            convention_text = "$S = 1$ (no identical-particle factor, whatever the particles)"
        statement = (
            f"Consider {' and '.join(kinds)}{sigma_text}, with the interaction Lagrangian "
            f"$\\mathcal{{L}}_{{\\rm int}} = {lagrangian}$ (natural units, metric $\\mathrm{{diag}}(+1,-1,-1,-1)$). "
            "Define the invariant amplitude $\\mathcal{M}$ by $\\langle f|S - 1|i\\rangle = i(2\\pi)^4 "
            "\\delta^4(p_f - p_i)\\,\\mathcal{M}$ and consider, at tree level, the process "
            f"${process_text}$ with $s = (p_1 + p_2)^2$ and $\\theta$ the centre-of-mass angle between "
            "$\\vec p_1$ and $\\vec p_3$. The partial-wave amplitudes are "
            "$a_\\ell(s) = \\frac{S}{32\\pi}\\int_{-1}^{1} d\\cos\\theta\\, P_\\ell(\\cos\\theta)\\,"
            f"\\mathcal{{M}}(s, \\cos\\theta)$, with $P_\\ell$ the Legendre polynomials and {convention_text}."
        )
        amp = contact + sum((r / (sympy.Symbol(ch) - M_SYM**2) for ch, r in poles.items()), sympy.Integer(0))
        steps = [
            "Each external line is annihilated by its own field when incoming and by the conjugate field when "
            "outgoing. A monomial $-c\\prod_f f^{n_f}$ gives the vertex $-ic\\prod_f n_f!$, and a $\\sigma$ "
            "propagator $i/(q^2 - m^2)$; the tree amplitude is "
            f"$$\\mathcal{{M}} = {latex(amp)}$$"
            + (
                " with $t = -\\frac{s}{2}(1 - \\cos\\theta)$ and $u = -\\frac{s}{2}(1 + \\cos\\theta)$ for massless "
                "external particles."
                if poles
                else "."
            ),
            f"The identical-particle factor is $S = {latex(identical_factor(process, convention))}$.",
        ]
        ell = int(quantity[1]) if quantity.startswith("a") else 0
        if any(ch in poles for ch in "tu"):
            steps.append(
                "With $w = m^2 - t$ and $d\\cos\\theta = -2\\,dw/s$, the integrand $P_\\ell(c)/(t - m^2)$ becomes a "
                "polynomial in $w$ plus a $1/w$ term, so "
                f"$\\int_{{-1}}^{{1}} \\frac{{P_{ell}(c)\\,dc}}{{t - m^2}} = {latex(with_log(t_projection(ell)))}$; "
                "the $u$ pole gives $(-1)^\\ell$ times this (the substitution $c \\to -c$), and the $s$ pole "
                "projects only onto $\\ell = 0$: $\\int_{-1}^{1} \\frac{dc}{s - m^2} = \\frac{2}{s - m^2}$."
            )
        symbols: dict[str, str] = {}
        if quantity.startswith("a"):
            expr = with_log(partial_wave(model, process, convention, ell))
            steps.append(f"Hence $$a_{ell}(s) = {latex(expr)}$$")
            statement += f" Compute $a_{ell}(s)$ in closed form."
            q, what, fname = f"a_{ell}", f"the partial-wave amplitude a_{ell}", f"partial_wave_a{ell}"
        elif k == 0:
            a0 = partial_wave(model, process, convention, 0)
            limit = sympy.limit(with_log(a0), S_SYM, sympy.oo) if has_sigma else a0
            value = sympy.nsimplify(limit / bound_coupling)
            expr = sympy.simplify(sympy.Rational(1, 2) / abs(value))
            steps.append(
                f"Hence $a_0 = {latex(with_log(a0))}$"
                + (
                    f", which tends to ${latex(limit)}$ as $s \\to \\infty$ (the exchange terms fall like "
                    "$\\log(s)/s$)."
                    if has_sigma
                    else ", independent of $s$."
                )
            )
            steps.append(
                f"Requiring $|\\mathrm{{Re}}\\,a_0| \\le \\frac12$ gives ${latex(bound_coupling)} \\le {latex(expr)}$."
            )
            statement += (
                " Impose the perturbative-unitarity condition $|\\mathrm{Re}\\,a_0| \\le \\frac{1}{2}$ in the "
                f"high-energy limit $s \\to \\infty$ and find the largest allowed value of ${latex(bound_coupling)} > 0$."
            )
            q = f"{latex(bound_coupling)}_{{\\max}}"
            what, fname = f"the largest allowed {bound_coupling.name}", "coupling_bound"
        else:
            a0 = partial_wave(model, process, convention, 0)
            at = sympy.simplify(with_log(a0).subs(S_SYM, k * M_SYM**2))
            per = sympy.simplify(at / bound_coupling**2)
            sign = 1 if float(per * M_SYM**2) > 0 else -1
            expr = sympy.simplify(sympy.sqrt(1 / (2 * sign * per)))
            symbols = {"m": "positive"}
            steps.append(
                f"Hence $a_0 = {latex(with_log(a0))}$; at $s = {k}m^2$ this is $a_0 = {latex(at)}$, real, and "
                f"$|a_0| \\le \\frac12$ gives $${latex(bound_coupling)} \\le {latex(expr)}$$"
            )
            statement += (
                " Impose the perturbative-unitarity condition $|\\mathrm{Re}\\,a_0| \\le \\frac{1}{2}$ at "
                f"$s = {k}m^2$ and find the largest allowed value of the coupling ${latex(bound_coupling)} > 0$, in terms "
                "of $m$."
            )
            q = f"{latex(bound_coupling)}_{{\\max}}"
            what, fname = f"the largest allowed {bound_coupling.name} for the given m", "coupling_bound"
        if quantity.startswith("a"):
            couplings = sorted(
                (x.name for x in expr.free_symbols if x.name in ("lamda", "g", "g_1", "g_2")),
            )
            symbols = {**{n: "positive" for n in couplings}}
            if expr.has(S_SYM):
                symbols["s"] = "positive"
            if expr.has(M_SYM):
                symbols["m"] = "positive"
            names = ", ".join(f"${latex(sympy.Symbol(n))}$" for n in symbols)
            statement += f" Express it in terms of {names}."
        return self.problem(
            params,
            statement=statement,
            expr=expr,
            symbols=symbols,
            solution="\n\n".join(steps),
            quantity=q,
            function_name=fname,
            describe_return=what,
            tags=(model,),
        )


FAMILY = PartialWaveUnitarity()
