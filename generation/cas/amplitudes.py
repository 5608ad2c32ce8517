"""Tree-level 2 -> 2 squared amplitudes, spin-summed, computed from Feynman diagrams.

A diagram is a coefficient times a product of fermion lines (spinor strings ``ubar(a) ... u(b)``) and scalar
currents (``(p_a - p_b)^mu``), with photon indices shared between the pieces. :func:`squared_amplitude` forms
``sum_ij c_i c_j M_i M_j^*``: the conjugated lines are reversed (``gamma5 -> -gamma5``), the spin sums
``sum u ubar = pslash + m`` and ``sum v vbar = pslash - m`` close the spinor strings into Dirac traces, each trace
is reduced to metric tensors and momenta with ``tr(a1 ... an) = sum_k (-1)^k (a1.ak) tr(...)`` (after pairing the
``gamma5`` matrices: ``gamma5 X gamma5`` is ``X`` with every gamma matrix negated), the Lorentz indices are
contracted in four dimensions, external photon polarization sums are ``-g_{mu nu}``, and the scalar products are
written with Mandelstam variables. The polynomial work is plain Python on integer coefficients; sympy only sees
the result.

Conventions: metric (+,-,-,-); incoming ``p1, p2``, outgoing ``p3, p4``; ``s = (p1+p2)^2``, ``t = (p1-p3)^2``,
``u = (p1-p4)^2``.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

import sympy

from generation.cas.family import symbol

# A vector slot is a momentum name ("p1") or a Lorentz index ("^mu"); a term of a factor is
# (integer coefficient, vector slot or None for a mass term, mass names multiplying it).
Term = tuple[int, str | None, tuple[str, ...]]
Factor = tuple[Term, ...] | str  # a sum of terms, or the marker G5
G5 = "g5"
Pairs = tuple[tuple[str, str], ...]
Poly = dict[tuple[Pairs, tuple[str, ...]], int]


def is_index(slot: str) -> bool:
    return slot.startswith("^")


def gamma(index: str) -> Factor:
    """gamma^index as a factor."""
    return ((1, "^" + index, ()),)


def slashed(momenta: dict[str, int], mass: str | None = None, sign: int = 1) -> Factor:
    """(sum_i c_i pslash_i + sign * mass) as a factor, e.g. a propagator numerator."""
    terms: list[Term] = [(c, p, ()) for p, c in momenta.items() if c]
    if mass is not None:
        terms.append((sign, None, (mass,)))
    return tuple(terms)


@dataclass(frozen=True)
class Line:
    """A spinor string ``bar(left) factors spinor(right)``; ``left`` is ("ubar"|"vbar", label), ``right`` is
    ("u"|"v", label)."""

    left: tuple[str, str]
    factors: tuple[Factor, ...]
    right: tuple[str, str]


@dataclass(frozen=True)
class Current:
    """A scalar-line vector current sum_k c_k p_k^index (e.g. (p3 - p4)^mu for a charged scalar pair)."""

    terms: tuple[tuple[int, str], ...]
    index: str


@dataclass(frozen=True)
class Diagram:
    coefficient: sympy.Expr
    lines: tuple[Line, ...]
    currents: tuple[Current, ...] = ()


@cache
def _trace_slots(slots: tuple[str, ...]) -> dict[Pairs, int]:
    """tr(gamma.a1 ... gamma.an) / 1 as {product of pairs (a_i . a_j or g^{mu nu} or p^mu): coefficient}, tr 1 = 4."""
    if not slots:
        return {(): 4}
    if len(slots) % 2:
        return {}
    first, rest = slots[0], slots[1:]
    out: dict[Pairs, int] = defaultdict(int)
    for k, other in enumerate(rest):
        pair = tuple(sorted((first, other)))
        sign = 1 if k % 2 == 0 else -1
        for pairs, c in _trace_slots(rest[:k] + rest[k + 1 :]).items():
            out[tuple(sorted((*pairs, pair)))] += sign * c
    return {k: v for k, v in out.items() if v}


def trace(factors: tuple[Factor, ...]) -> Poly:
    """The Dirac trace of a product of factors (an even number of G5 markers), as a polynomial in pairs."""
    flip = False
    signed: list[tuple[Term, ...]] = []
    for factor in factors:
        if factor == G5:
            flip = not flip
            continue
        signed.append(tuple((-c if flip and v is not None else c, v, m) for c, v, m in factor))
    if flip:
        raise ValueError("a trace with an odd number of gamma5 matrices needs the Levi-Civita tensor")
    out: Poly = defaultdict(int)
    for choice in itertools.product(*signed):
        coefficient, slots, masses = 1, [], []
        for c, v, m in choice:
            coefficient *= c
            masses.extend(m)
            if v is not None:
                slots.append(v)
        if len(slots) % 2:
            continue
        mass_key = tuple(sorted(masses))
        for pairs, c in _trace_slots(tuple(slots)).items():
            out[(pairs, mass_key)] += coefficient * c
    return {k: v for k, v in out.items() if v}


def multiply(a: Poly, b: Poly) -> Poly:
    out: Poly = defaultdict(int)
    for (pa, ma), ca in a.items():
        for (pb, mb), cb in b.items():
            out[(tuple(sorted(pa + pb)), tuple(sorted(ma + mb)))] += ca * cb
    return {k: v for k, v in out.items() if v}


def contract(poly: Poly) -> Poly:
    """Contract every repeated Lorentz index in four dimensions (g^mu_mu = 4)."""
    out: Poly = defaultdict(int)
    for (pairs, masses), c in poly.items():
        work = list(pairs)
        while True:
            at = next((i for i, p in enumerate(work) if is_index(p[0]) or is_index(p[1])), None)
            if at is None:
                break
            a, b = work.pop(at)
            x, other = (a, b) if is_index(a) else (b, a)
            if other == x:
                c *= 4
                continue
            j = next(i for i, p in enumerate(work) if x in p)
            y, z = work.pop(j)
            work.append(tuple(sorted((other, z if y == x else y))))
        out[(tuple(sorted(work)), masses)] += c
    return {k: v for k, v in out.items() if v}


def _conjugate(line: Line, rename: dict[str, str]) -> tuple[Line, int]:
    """[bar(a) G spinor(b)]^* = bar(b) Gbar spinor(a): reversed factors, gamma5 -> -gamma5, internal indices renamed."""
    sign = 1
    factors: list[Factor] = []
    for factor in reversed(line.factors):
        if factor == G5:
            sign = -sign
            factors.append(G5)
        else:
            factors.append(tuple((c, rename.get(v, v) if v else v, m) for c, v, m in factor))
    left = ("ubar" if line.right[0] == "u" else "vbar", line.right[1])
    right = ("u" if line.left[0] == "ubar" else "v", line.left[1])
    return Line(left, tuple(factors), right), sign


def _chains(lines: list[Line], masses: dict[str, str | None]) -> list[tuple[Factor, ...]]:
    """Spin-sum a product of spinor strings: chain them through u ubar = pslash + m, v vbar = pslash - m."""
    by_left = {line.left[1]: line for line in lines}
    unused = list(lines)
    chains = []
    while unused:
        start = unused[0]
        factors: list[Factor] = []
        line = start
        while True:
            unused.remove(line)
            factors.extend(line.factors)
            kind, label = line.right
            factors.append(slashed({label: 1}, masses[label], 1 if kind == "u" else -1))
            line = by_left[label]
            if line is start:
                break
        chains.append(tuple(factors))
    return chains


@dataclass(frozen=True)
class Interference:
    """sum over spins of M_a M_b^* / (c_a c_b) before contraction: sign x traces x currents."""

    sign: int
    traces: tuple[tuple[Factor, ...], ...]
    currents: tuple[Current, ...]


def closed(a: Diagram, b: Diagram, masses: dict[str, str | None], photons: tuple[str, ...]) -> Interference:
    """The traces of M_a M_b^*; ``photons`` are the external photon polarization indices (summed with -g)."""
    external = {"^" + p for p in photons}
    indices = {v for line in b.lines for f in line.factors if f != G5 for _, v, _ in f if v and is_index(v)}
    indices |= {"^" + c.index for c in b.currents}
    rename = {i: i + "'" for i in indices - external}
    lines = list(a.lines)
    sign = (-1) ** len(photons)
    for line in b.lines:
        conj, s = _conjugate(line, rename)
        lines.append(conj)
        sign *= s
    currents = a.currents + tuple(
        Current(c.terms, rename.get("^" + c.index, "^" + c.index)[1:]) for c in b.currents
    )
    return Interference(sign, tuple(_chains(lines, masses)), currents)


def interference(a: Diagram, b: Diagram, masses: dict[str, str | None], photons: tuple[str, ...]) -> Poly:
    """sum over spins (and photon polarizations, as -g) of M_a M_b^* / (c_a c_b), contracted."""
    closed_form = closed(a, b, masses, photons)
    poly: Poly = {((), ()): closed_form.sign}
    for chain in closed_form.traces:
        poly = multiply(poly, trace(chain))
    for current in closed_form.currents:
        poly = multiply(poly, {((tuple(sorted((p, "^" + current.index))),), ()): c for c, p in current.terms})
    return contract(poly)


_GREEK = {"mu": "\\mu", "nu": "\\nu", "rho": "\\rho", "sigma": "\\sigma", "a": "\\alpha", "b": "\\beta"}


def _index_latex(index: str) -> str:
    base = index.rstrip("'")
    return _GREEK.get(base, base) + "'" * (len(index) - len(base))


def _momentum_latex(p: str) -> str:
    return f"\\slashed{{p}}_{p[1:]}" if p[0] == "p" and p[1:].isdigit() else f"\\slashed{{{p}}}"


def factor_latex(factor: Factor, mass_latex: dict[str, str]) -> str:
    if factor == G5:
        return "\\gamma^5"
    if len(factor) == 1 and factor[0][1] is not None and is_index(factor[0][1]) and factor[0][0] == 1:
        return f"\\gamma^{{{_index_latex(factor[0][1][1:])}}}"
    parts = []
    for c, v, m in factor:
        body = _momentum_latex(v) if v is not None else " ".join(mass_latex[x] for x in m)
        parts.append(("- " if c < 0 else "+ ") + (f"{abs(c)}" if abs(c) != 1 else "") + body)
    text = " ".join(parts).removeprefix("+ ")
    return f"({text})" if len(factor) > 1 else text


def interference_latex(closed_form: Interference, mass_latex: dict[str, str]) -> str:
    """The traces (and currents) of an interference term in LaTeX, e.g. tr[(p2 - m) g^mu (p1 + m) g^nu] ..."""
    parts = [
        "\\mathrm{tr}\\left[" + " ".join(factor_latex(f, mass_latex) for f in chain) + "\\right]"
        for chain in closed_form.traces
    ]
    for current in closed_form.currents:
        terms = " ".join(("- " if c < 0 else "+ ") + f"p_{p[1:]}" for c, p in current.terms).removeprefix(
            "+ "
        )
        parts.append(f"({terms})^{{{_index_latex(current.index)}}}")
    sign = "-" if closed_form.sign < 0 else ""
    return sign + "\\,".join(parts)


def mandelstam_dots(masses: dict[str, sympy.Expr]) -> dict[tuple[str, str], sympy.Expr]:
    """p_i . p_j for p1 + p2 -> p3 + p4 in terms of s, t, u and the squared masses."""
    s, t, u = symbol("s", "real"), symbol("t", "real"), symbol("u", "real")
    m2 = {k: v**2 for k, v in masses.items()}
    half = sympy.Rational(1, 2)
    dots = {
        ("p1", "p2"): half * (s - m2["p1"] - m2["p2"]),
        ("p3", "p4"): half * (s - m2["p3"] - m2["p4"]),
        ("p1", "p3"): half * (m2["p1"] + m2["p3"] - t),
        ("p2", "p4"): half * (m2["p2"] + m2["p4"] - t),
        ("p1", "p4"): half * (m2["p1"] + m2["p4"] - u),
        ("p2", "p3"): half * (m2["p2"] + m2["p3"] - u),
    }
    dots.update({(p, p): m2[p] for p in m2})
    return dots


def to_sympy(
    poly: Poly, dots: dict[tuple[str, str], sympy.Expr], mass_symbols: dict[str, sympy.Expr]
) -> sympy.Expr:
    total = sympy.Integer(0)
    for (pairs, masses), c in poly.items():
        term = sympy.Integer(c)
        for pair in pairs:
            term *= dots[pair]
        for m in masses:
            term *= mass_symbols[m]
        total += term
    return sympy.expand(total)


def squared_amplitude(
    diagrams: tuple[Diagram, ...],
    masses: dict[str, sympy.Expr],
    photons: tuple[str, ...] = (),
) -> list[tuple[sympy.Expr, sympy.Expr]]:
    """Spin-summed |M|^2 as [(c_a c_b (times 2 off the diagonal), polynomial in s, t, u)], one entry per pair
    a <= b of diagrams; the sum of products is the result. ``masses`` maps p1..p4 to their mass (0 allowed);
    ``photons`` names the external photon momenta (their index in a diagram is ``^`` + the name)."""
    mass_names = {p: (str(m) if m != 0 else None) for p, m in masses.items()}
    mass_symbols = {str(m): m for m in masses.values() if m != 0}
    dots = mandelstam_dots(masses)
    out = []
    for i, a in enumerate(diagrams):
        for j in range(i, len(diagrams)):
            b = diagrams[j]
            poly = to_sympy(interference(a, b, mass_names, photons), dots, mass_symbols)
            out.append(((1 if i == j else 2) * a.coefficient * b.coefficient, poly))
    return out


def cm_mandelstam(
    masses: tuple[float, float, float, float], s: float, cos_theta: float
) -> tuple[float, float]:
    """(t, u) in the CM frame for p1 + p2 -> p3 + p4 at energy squared s and scattering angle theta (p1, p3)."""
    m1, m2, m3, m4 = masses

    def momentum(a: float, b: float) -> float:
        return math.sqrt(max(s**2 + a**4 + b**4 - 2 * s * a**2 - 2 * s * b**2 - 2 * a**2 * b**2, 0.0)) / (
            2 * math.sqrt(s)
        )

    e1 = (s + m1**2 - m2**2) / (2 * math.sqrt(s))
    e3 = (s + m3**2 - m4**2) / (2 * math.sqrt(s))
    t = m1**2 + m3**2 - 2 * (e1 * e3 - momentum(m1, m2) * momentum(m3, m4) * cos_theta)
    return t, sum(m**2 for m in masses) - s - t


def mandelstam_domain(masses: dict[str, sympy.Expr], variable: str) -> str:
    """ "negative" for t (u) when p1, p3 (p4) and p2, p4 (p3) have equal masses, so that it is a momentum transfer
    squared in the physical region; "real" otherwise; s is "positive"."""
    if variable == "s":
        return "positive"
    a, b = ("p3", "p4") if variable == "t" else ("p4", "p3")
    return "negative" if masses["p1"] == masses[a] and masses["p2"] == masses[b] else "real"


def eliminate(expr: sympy.Expr, masses: dict[str, sympy.Expr], drop: str) -> sympy.Expr:
    """Substitute s + t + u = sum of squared masses to remove ``drop`` (one of s, t, u)."""
    names = {n: symbol(n, "real") for n in "stu"}
    total = sum((m**2 for m in masses.values()), sympy.Integer(0))
    others = sum((v for n, v in names.items() if n != drop), sympy.Integer(0))
    return expr.subs(names[drop], total - others)
