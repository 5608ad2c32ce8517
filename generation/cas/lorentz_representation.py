"""Finite-dimensional representations of the Lorentz algebra so(1,3) = su(2) + su(2): tensor products of
irreducible representations (A, B), the multiplicity of an irrep in a product (for (0, 0): the number of
independent Lorentz invariants), and the rotation (spin) content.

A product is decomposed factor by factor with the su(2) rule ``j1 x j2 = |j1 - j2| + ... + (j1 + j2)`` applied to
both labels; the spin content of ``(A, B)`` is ``A x B``. Independent checks (tests): dimension counting and the
invariant subspace of explicit generator matrices.
"""

from __future__ import annotations

import itertools
from collections import Counter
from fractions import Fraction
from functools import cache
from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.family import Family

HALF = Fraction(1, 2)
Irrep = tuple[Fraction, Fraction]

# The irreps that appear as factors, and the smaller set used for four-fold products.
FACTORS: tuple[Irrep, ...] = tuple(
    (Fraction(a), Fraction(b))
    for a, b in (
        ("1/2", "0"),
        ("0", "1/2"),
        ("1/2", "1/2"),
        ("1", "0"),
        ("0", "1"),
        ("1", "1/2"),
        ("1/2", "1"),
        ("1", "1"),
        ("3/2", "0"),
        ("0", "3/2"),
    )
)
TRIPLE_FACTORS = FACTORS[:7]
QUADRUPLE_FACTORS = FACTORS[:5]


def su2_product(j1: Fraction, j2: Fraction) -> list[Fraction]:
    """The spins in j1 x j2: |j1 - j2|, ..., j1 + j2."""
    count = int(2 * min(j1, j2)) + 1
    return [abs(j1 - j2) + k for k in range(count)]


def dimension(irrep: Irrep) -> int:
    """(2A + 1)(2B + 1)."""
    return int((2 * irrep[0] + 1) * (2 * irrep[1] + 1))


@cache
def decompose(factors: tuple[Irrep, ...]) -> Counter:
    """The irreps (A, B) of a tensor product with their multiplicities."""
    result: Counter = Counter({factors[0]: 1})
    for a2, b2 in factors[1:]:
        nxt: Counter = Counter()
        for (a1, b1), mult in result.items():
            for a in su2_product(a1, a2):
                for b in su2_product(b1, b2):
                    nxt[(a, b)] += mult
        result = nxt
    return result


@cache
def spin_content(factors: tuple[Irrep, ...]) -> Counter:
    """The rotation spins of a product and their multiplicities: (A, B) contains A x B."""
    spins: Counter = Counter()
    for (a, b), mult in decompose(factors).items():
        for j in su2_product(a, b):
            spins[j] += mult
    return spins


def _label(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"\\tfrac{{{x.numerator}}}{{{x.denominator}}}"


def irrep_latex(irrep: Irrep) -> str:
    return f"({_label(irrep[0])}, {_label(irrep[1])})"


def _parse(factors: list[list[str]]) -> tuple[Irrep, ...]:
    return tuple((Fraction(a), Fraction(b)) for a, b in factors)


def _encode(factors: tuple[Irrep, ...]) -> list[list[str]]:
    return [[str(a), str(b)] for a, b in factors]


def _target(factors: tuple[Irrep, ...]) -> Irrep:
    """The irrep asked about: (0, 0) when present, else the most frequent (the smallest on a tie)."""
    parts = decompose(factors)
    zero = (Fraction(0), Fraction(0))
    if parts[zero]:
        return zero
    return min(parts, key=lambda r: (-parts[r], dimension(r), r))


def _spin_asked(factors: tuple[Irrep, ...]) -> Fraction:
    """The spin asked about: the most frequent (the smallest on a tie)."""
    spins = spin_content(factors)
    return min(spins, key=lambda j: (-spins[j], j))


class LorentzRepresentation(Family):
    name = "lorentz_representation"
    version = 1
    topic = "symmetries/lorentz-group-representations"
    level = "graduate"
    task_type = "derivation"
    description = (
        "Lorentz irreps (A,B): tensor-product decompositions, invariant counts, rotation spin content"
    )

    def parameter_space(self) -> list[dict[str, Any]]:
        space: list[dict[str, Any]] = []
        for single in FACTORS:
            if single[0] and single[1]:  # a chiral irrep has a single spin: nothing to ask
                space.append({"factors": _encode((single,)), "quantity": "spin"})
        for pair in itertools.combinations_with_replacement(FACTORS, 2):
            for quantity in ("components", "spin"):  # every irrep in a product of two occurs once
                space.append({"factors": _encode(pair), "quantity": quantity})
        for triple in itertools.combinations_with_replacement(TRIPLE_FACTORS, 3):
            for quantity in ("components", "multiplicity"):
                space.append({"factors": _encode(triple), "quantity": quantity})
        for quadruple in itertools.combinations_with_replacement(QUADRUPLE_FACTORS, 4):
            space.append({"factors": _encode(quadruple), "quantity": "multiplicity"})
        return space

    def build(self, params: dict[str, Any]) -> Problem:
        factors = _parse(params["factors"])
        quantity = params["quantity"]
        parts = decompose(factors)
        product = " \\otimes ".join(irrep_latex(f) for f in factors)
        statement = (
            "The complexified Lorentz algebra splits into two commuting $su(2)$ algebras generated by "
            "$\\mathbf N^\\pm = \\tfrac12(\\mathbf J \\pm i\\mathbf K)$, with $\\mathbf J$ the rotation and "
            "$\\mathbf K$ the boost generators. Its finite-dimensional irreducible representations are labelled "
            "$(A, B)$, with $A$ the spin under $\\mathbf N^+$ and $B$ the spin under $\\mathbf N^-$ "
            "($A, B \\in \\{0, \\tfrac12, 1, \\dots\\}$); $(A, B)$ has dimension $(2A+1)(2B+1)$. "
        )
        ordered = sorted(parts, key=lambda r: (-dimension(r), r))
        decomposition = " \\oplus ".join(
            (f"{parts[r]}\\," if parts[r] > 1 else "") + irrep_latex(r) for r in ordered
        )
        total_dim = sympy.Mul(*(dimension(f) for f in factors))
        steps = []
        if len(factors) > 1:
            steps.append(
                "Couple the factors one at a time, applying $j_1 \\otimes j_2 = |j_1 - j_2| \\oplus \\dots \\oplus "
                f"(j_1 + j_2)$ to both labels: ${product} = {decomposition}$."
            )
            dims = " + ".join(f"{parts[r]} \\cdot {dimension(r)}" for r in ordered)
            steps.append(
                f"Check by dimension: ${dims} = "
                f"{sum(parts[r] * dimension(r) for r in ordered)} = {total_dim}$."
            )
        if quantity == "components":
            value = sympy.Integer(sum(parts.values()))
            statement += (
                f"Decompose the tensor product ${product}$ into irreducible representations. How many irreducible "
                "components does it contain, counted with multiplicity?"
            )
            steps.append(f"Counting with multiplicity: ${value}$ irreducible components.")
            q, fn, what = "n_{\\rm irr}", "components", "the number of irreducible components"
        elif quantity == "multiplicity":
            target = _target(factors)
            value = sympy.Integer(parts[target])
            statement += (
                f"How many times does ${irrep_latex(target)}$ occur in the decomposition of ${product}$"
            )
            statement += (
                " (the number of linearly independent Lorentz-invariant multilinear forms on these factors)?"
                if target == (0, 0)
                else " into irreducible representations?"
            )
            steps.append(f"The irrep ${irrep_latex(target)}$ occurs ${value}$ times.")
            q, fn, what = "n", "multiplicity", "the multiplicity"
        else:
            j = _spin_asked(factors)
            spins = spin_content(factors)
            value = sympy.Integer(spins[j])
            what_rep = f"the representation ${product}$" if len(factors) > 1 else f"the irrep ${product}$"
            statement += (
                f"Restrict {what_rep} to the rotation subgroup generated by $\\mathbf J = \\mathbf N^+ + "
                f"\\mathbf N^-$. How many spin-${_label(j)}$ multiplets does it contain?"
            )
            content = ", ".join(f"spin ${_label(s)}$: {spins[s]}" for s in sorted(spins))
            steps.append(
                "Under rotations $(A, B)$ decomposes as $A \\otimes B = |A - B| \\oplus \\dots \\oplus (A + B)$. "
                f"Summed over the components, the multiplets are: {content}."
            )
            steps.append(f"So there are ${value}$ spin-${_label(j)}$ multiplets.")
            q, fn, what = "n_j", "spin_multiplets", "the number of multiplets of that spin"
        return self.problem(
            params,
            statement=statement,
            expr=value,
            symbols={},
            solution="\n\n".join(steps),
            quantity=q,
            function_name=fn,
            describe_return=what,
        )


FAMILY = LorentzRepresentation()
