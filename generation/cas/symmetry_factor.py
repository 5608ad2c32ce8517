"""Symmetry factors of connected phi^3 and phi^4 Feynman diagrams, by explicit enumeration of Wick contractions.

At order V the term ``(1/V!) (-i lambda/k!)^V <phi(x1)...phi(xn) phi(z1)^k ... phi(zV)^k>`` is expanded into all
perfect matchings of the ``n + kV`` fields. Matchings that give the same diagram (the same multigraph, with the
external points labelled and the vertices not) are counted: a diagram with ``c`` contractions comes with
``c / (V! k!^V) = 1/S``, so its symmetry factor is ``S = V! k!^V / c``.
"""

from __future__ import annotations

import itertools
from collections import Counter
from functools import cache
from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.family import Family

# (k, V, n): the vertex valence, the number of vertices and of external points; up to 14 fields (135135 matchings).
ORDERS = (
    (4, 1, 0), (4, 2, 0), (4, 3, 0), (4, 1, 2), (4, 2, 2), (4, 3, 2), (4, 1, 4), (4, 2, 4),
    (3, 2, 0), (3, 4, 0), (3, 1, 1), (3, 3, 1), (3, 2, 2), (3, 4, 2), (3, 1, 3), (3, 3, 3), (3, 2, 4),
)  # fmt: skip

Edge = tuple[str, str]
Diagram = tuple[Edge, ...]


def _matchings(items: tuple[int, ...]):
    if not items:
        yield ()
        return
    first = items[0]
    for k in range(1, len(items)):
        rest = items[1:k] + items[k + 1 :]
        for tail in _matchings(rest):
            yield ((first, items[k]), *tail)


def _canonical(edges: list[Edge], vertices: int) -> Diagram:
    """The smallest sorted edge list over relabellings of the (interchangeable) vertices."""
    best = None
    for perm in itertools.permutations(range(vertices)):
        names = {f"z{i + 1}": f"z{perm[i] + 1}" for i in range(vertices)}
        form = tuple(sorted(tuple(sorted((names.get(a, a), names.get(b, b)))) for a, b in edges))
        if best is None or form < best:
            best = form
    return best


def _connected(edges: Diagram, nodes: list[str]) -> bool:
    seen, todo = {nodes[0]}, [nodes[0]]
    while todo:
        node = todo.pop()
        for a, b in edges:
            for x, y in ((a, b), (b, a)):
                if x == node and y not in seen:
                    seen.add(y)
                    todo.append(y)
    return seen == set(nodes)


@cache
def diagrams(k: int, vertices: int, externals: int) -> dict[Diagram, int]:
    """Every connected diagram of this order, mapped to the number of Wick contractions that produce it."""
    owner = [f"x{i + 1}" for i in range(externals)] + [f"z{v + 1}" for v in range(vertices) for _ in range(k)]
    labelled: Counter[Diagram] = Counter()
    for matching in _matchings(tuple(range(len(owner)))):
        labelled[tuple(sorted(tuple(sorted((owner[a], owner[b]))) for a, b in matching))] += 1
    nodes = [f"x{i + 1}" for i in range(externals)] + [f"z{v + 1}" for v in range(vertices)]
    counts: Counter[Diagram] = Counter()
    for edges, count in labelled.items():
        if _connected(edges, nodes):
            counts[_canonical(list(edges), vertices)] += count
    return dict(counts)


def symmetry_factor(k: int, vertices: int, externals: int, diagram: Diagram) -> int:
    """S = V! (k!)^V / (number of Wick contractions giving the diagram)."""
    count = diagrams(k, vertices, externals)[diagram]
    total = sympy.factorial(vertices) * sympy.factorial(k) ** vertices
    value = sympy.Rational(total, count)
    if not value.is_integer:
        raise ArithmeticError(f"non-integer symmetry factor {value} for {diagram}")
    return int(value)


def describe(diagram: Diagram) -> str:
    """The propagators as a LaTeX list, with multiplicities (x_i external points, z_j vertices)."""
    parts = []
    for (a, b), mult in Counter(diagram).items():
        la, lb = f"{a[0]}_{a[1:]}", f"{b[0]}_{b[1:]}"
        line = f"${la}$–${lb}$" if a != b else f"a loop at ${la}$ (a propagator from ${la}$ to itself)"
        parts.append(line + (f" ({mult} times)" if mult > 1 else ""))
    return "; ".join(parts)


class SymmetryFactor(Family):
    name = "symmetry_factor"
    version = 1
    topic = "perturbation-theory/feynman-diagrams"
    level = "graduate"
    task_type = "derivation"
    description = "symmetry factors of connected phi^3/phi^4 diagrams from counted Wick contractions"

    def parameter_space(self) -> list[dict[str, Any]]:
        space = []
        for k, vertices, externals in ORDERS:
            for diagram in sorted(diagrams(k, vertices, externals)):
                space.append(
                    {
                        "k": k,
                        "vertices": vertices,
                        "externals": externals,
                        "edges": [list(e) for e in diagram],
                    }
                )
        return space

    def build(self, params: dict[str, Any]) -> Problem:
        k, vertices, externals = params["k"], params["vertices"], params["externals"]
        diagram: Diagram = tuple(tuple(e) for e in params["edges"])
        count = diagrams(k, vertices, externals)[diagram]
        value = symmetry_factor(k, vertices, externals, diagram)
        loops = len(diagram) - (vertices + externals) + 1
        fields = " ".join(f"\\phi(x_{i + 1})" for i in range(externals))
        kind = (
            "vacuum diagram"
            if externals == 0
            else f"diagram contributing to the {externals}-point function $\\langle 0|T\\,{fields}|0\\rangle$"
        )
        statement = (
            f"In the theory of a real scalar field with interaction $\\mathcal L_{{\\rm int}} = -\\frac{{\\lambda}}"
            f"{{{k}!}}\\phi^{k}$, consider the connected {kind} at order $\\lambda^{{{vertices}}}$ with internal "
            f"vertices ${', '.join(f'z_{v + 1}' for v in range(vertices))}$"
            + (
                f" and external points ${', '.join(f'x_{i + 1}' for i in range(externals))}$"
                if externals
                else ""
            )
            + f" whose propagators are: {describe(diagram)}. It has {loops} loop{'s' if loops != 1 else ''}. "
            f"With the diagram's value written as $\\frac{{(-i\\lambda)^{{{vertices}}}}}{{S}}$ times the integral "
            "over vertex positions of the product of propagators, find the symmetry factor $S$."
        )
        total = sympy.factorial(vertices) * sympy.factorial(k) ** vertices
        solution = (
            f"At order $\\lambda^{{{vertices}}}$ the Dyson series gives $\\frac{{1}}{{{vertices}!}}"
            f"\\left(\\frac{{-i\\lambda}}{{{k}!}}\\right)^{{{vertices}}}$ times the Wick expansion of the "
            f"{externals + k * vertices} fields. Counting the full contractions that produce exactly this diagram "
            f"(vertices interchangeable, external points fixed) gives {count} of them.\n\n"
            f"So the diagram comes with $\\frac{{{count}}}{{{vertices}!\\,({k}!)^{{{vertices}}}}} = "
            f"\\frac{{{count}}}{{{total}}} = \\frac{{1}}{{{value}}}$, i.e. $S = {value}$."
        )
        return self.problem(
            params,
            statement=statement,
            expr=sympy.Integer(value),
            symbols={},
            solution=solution,
            quantity="S",
            function_name="symmetry_factor",
            describe_return="the symmetry factor S as a number",
            tags=(f"phi{k}",),
        )


FAMILY = SymmetryFactor()
