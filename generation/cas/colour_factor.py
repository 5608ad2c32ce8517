"""SU(N) colour factors: fully contracted products of traces of fundamental generators, reduced with the Fierz
identity ``T^a_ij T^a_kl = (delta_il delta_kj - delta_ij delta_kl / N) / 2`` to a rational function of N."""

from __future__ import annotations

import itertools
from functools import cache
from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.family import Family, latex, symbol

N = symbol("N", "positive_integer")
# Trace-length layouts: one trace of 2..10 generators, or two or three traces (a single-generator trace vanishes).
LAYOUTS = (
    (2,),
    (4,),
    (6,),
    (8,),
    (10,),
    (2, 2),
    (3, 3),
    (2, 4),
    (4, 4),
    (3, 5),
    (2, 6),
    (5, 5),
    (4, 6),
    (2, 8),
    (2, 2, 2),
    (2, 2, 4),
    (2, 3, 3),
)
LETTERS = "abcdefgh"

Traces = tuple[tuple[int, ...], ...]


def canonical(traces: Traces) -> Traces:
    """The smallest relabelled form over rotations of each trace and orderings of the traces."""
    best = None
    for order in itertools.permutations(traces):
        for rotations in itertools.product(*(range(max(len(t), 1)) for t in order)):
            rotated = [t[r:] + t[:r] for t, r in zip(order, rotations, strict=True)]
            labels: dict[int, int] = {}
            form = tuple(tuple(labels.setdefault(x, len(labels)) for x in t) for t in rotated)
            if best is None or form < best:
                best = form
    return best


def fierz_step(traces: Traces) -> tuple[sympy.Expr, list[tuple[sympy.Expr, Traces]]]:
    """One Fierz contraction: ``product = factor * sum(coefficient * traces')``, or ``(value, [])`` when no
    generator is left (``tr 1 = N``) or a trace of a single generator makes the product vanish."""
    factor = sympy.Integer(1)
    rest = []
    for t in traces:
        if len(t) == 0:
            factor *= N
        elif len(t) == 1:
            return sympy.Integer(0), []
        else:
            rest.append(t)
    if not rest:
        return factor, []
    label = rest[0][0]
    (i1, j1), (i2, j2) = [(i, j) for i, t in enumerate(rest) for j, x in enumerate(t) if x == label]
    others = [t for k, t in enumerate(rest) if k not in (i1, i2)]
    half = sympy.Rational(1, 2)
    if i1 == i2:
        t = rest[i1][j1:] + rest[i1][:j1]  # rotated to T^a Y T^a W
        k = j2 - j1 if j2 > j1 else j2 - j1 + len(t)
        y, w = t[1:k], t[k + 1 :]
        # tr(T^a Y T^a W) = [tr(Y) tr(W) - tr(Y W)/N] / 2
        terms = [(half, (y, w, *others)), (-half / N, (y + w, *others))]
    else:
        x = rest[i1][j1 + 1 :] + rest[i1][:j1]
        y = rest[i2][j2 + 1 :] + rest[i2][:j2]
        # tr(T^a X) tr(T^a Y) = [tr(X Y) - tr(X) tr(Y)/N] / 2
        terms = [(half, (x + y, *others)), (-half / N, (x, y, *others))]
    return factor, [(c, canonical(tuple(t))) for c, t in terms]


@cache
def reduce_traces(traces: Traces) -> sympy.Expr:
    """The value of a product of traces of T^a (each label summed, appearing twice), as a function of N."""
    factor, terms = fierz_step(traces)
    if not terms:
        return factor
    return sympy.factor(sympy.cancel(factor * sum(c * reduce_traces(t) for c, t in terms)))


def _matchings(items: list[int]) -> list[list[tuple[int, int]]]:
    if not items:
        return [[]]
    first, rest = items[0], items[1:]
    out = []
    for k, other in enumerate(rest):
        for tail in _matchings(rest[:k] + rest[k + 1 :]):
            out.append([(first, other), *tail])
    return out


def _all_diagrams() -> list[Traces]:
    forms = []
    seen = set()
    for layout in LAYOUTS:
        size = sum(layout)
        for matching in _matchings(list(range(size))):
            word = [0] * size
            for label, (p, q) in enumerate(matching):
                word[p] = word[q] = label
            traces, start = [], 0
            for length in layout:
                traces.append(tuple(word[start : start + length]))
                start += length
            form = canonical(tuple(traces))
            if form not in seen:
                seen.add(form)
                forms.append(form)
    return forms


def traces_latex(traces: Traces) -> str:
    return " ".join("\\mathrm{tr}(" + " ".join(f"T^{{{LETTERS[x]}}}" for x in t) + ")" for t in traces)


class ColourFactor(Family):
    name = "colour_factor"
    version = 1
    topic = "non-abelian-gauge-theory/colour-algebra"
    level = "graduate"
    task_type = "derivation"
    description = "fully contracted traces of SU(N) generators as functions of N (Fierz reduction)"

    def parameter_space(self) -> list[dict[str, Any]]:
        space = []
        for form in _all_diagrams():
            if reduce_traces(form) != 0:
                space.append({"traces": [list(t) for t in form]})
        return space

    def build(self, params: dict[str, Any]) -> Problem:
        traces: Traces = tuple(tuple(t) for t in params["traces"])
        value = reduce_traces(canonical(traces))
        labels = sorted({x for t in traces for x in t})
        shown = traces_latex(traces)
        statement = (
            "Let $T^a$ ($a = 1, \\dots, N^2-1$) be the generators of $SU(N)$ in the fundamental representation, "
            "normalized as $\\mathrm{tr}(T^a T^b) = \\frac12 \\delta^{ab}$. Every repeated adjoint index is "
            f"summed over. Evaluate the colour factor\n\n$$C = {shown}$$\n\nas a function of $N$."
        )
        steps = [
            "Use the $SU(N)$ Fierz identity $T^a_{ij}T^a_{kl} = \\frac12\\left(\\delta_{il}\\delta_{kj} - "
            "\\frac1N\\delta_{ij}\\delta_{kl}\\right)$, which gives $\\mathrm{tr}(T^a X T^a Y) = \\frac12\\left["
            "\\mathrm{tr}X\\,\\mathrm{tr}Y - \\frac1N\\mathrm{tr}(XY)\\right]$ and $\\mathrm{tr}(T^a X)\\,"
            "\\mathrm{tr}(T^a Y) = \\frac12\\left[\\mathrm{tr}(XY) - \\frac1N\\mathrm{tr}X\\,\\mathrm{tr}Y\\right]$, "
            "with $\\mathrm{tr}\\,\\mathbb 1 = N$ and $\\mathrm{tr}\\,T^a = 0$.",
            f"Contract the indices {', '.join(LETTERS[x] for x in labels)} one at a time (an empty trace stands for "
            "$\\mathrm{tr}\\,\\mathbb 1 = N$):",
        ]
        # The first two levels of the reduction, with the values the recursion computed for each product.
        frontier = [canonical(traces)]
        for _ in range(2):
            following = []
            for product in frontier:
                factor, terms = fierz_step(product)
                if not terms:
                    continue
                rhs = " ".join(
                    f"{'+' if c * factor > 0 else '-'} {latex(abs(c * factor))}\\,[{traces_latex(t) or '1'}]"
                    for c, t in terms
                ).lstrip("+ ")
                values = ", ".join(
                    f"${traces_latex(t) or '1'} = {latex(reduce_traces(t))}$" for _, t in terms
                )
                steps.append(f"$${traces_latex(product)} = {rhs}$$ with {values}.")
                following += [t for _, t in terms if any(len(x) for x in t)]
            frontier = following
        steps.append(f"Hence $C = {latex(value)}$.")
        return self.problem(
            params,
            statement=statement,
            expr=value,
            symbols={"N": "positive_integer"},
            solution="\n\n".join(steps),
            quantity="C",
            function_name="colour_factor",
            describe_return="the colour factor C for SU(N)",
            sample_point=lambda rng: {"N": rng.randint(2, 9)},
        )


FAMILY = ColourFactor()
