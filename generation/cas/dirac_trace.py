"""Dirac traces of products of slashed momenta, optionally with mass terms ``(pslash_i ± m_i)``, reduced to
scalar products with the recursion ``tr(a1 a2 ... an) = sum_k (-1)^k (a1·ak) tr(a2 ... âk ... an)``."""

from __future__ import annotations

import itertools
from functools import cache
from typing import Any

import sympy

from curation.records.problem import Problem
from generation.cas.family import Family, latex, symbol

MOMENTA = 4
PURE_LENGTHS = (2, 4, 6, 8)
MASSIVE_LENGTHS = (2, 3, 4)

Factor = tuple[int, int]  # (momentum label 1..4, mass sign: 0 for pslash alone, +1/-1 for pslash ± m)


def dot(i: int, j: int) -> sympy.Symbol:
    """The scalar product p_i·p_j as the real symbol ``pipj`` (i <= j)."""
    i, j = sorted((i, j))
    return symbol(f"p{i}p{j}", "real")


def mass(i: int) -> sympy.Symbol:
    return symbol(f"m{i}", "positive")


@cache
def slashed_trace(labels: tuple[int, ...]) -> sympy.Expr:
    """tr(pslash_{l1} ... pslash_{ln}) with tr(1) = 4, as a polynomial in the scalar products."""
    if not labels:
        return sympy.Integer(4)
    if len(labels) % 2:
        return sympy.Integer(0)
    first, rest = labels[0], labels[1:]
    total = sympy.Integer(0)
    for k, label in enumerate(rest):
        total += (-1) ** k * dot(first, label) * slashed_trace(rest[:k] + rest[k + 1 :])
    return sympy.expand(total)


def factor_trace(factors: tuple[Factor, ...]) -> sympy.Expr:
    """tr of a product of factors pslash_i or (pslash_i ± m_i): expand the mass terms, trace what is left."""
    total = sympy.Integer(0)
    choices = [((False,), (False, True))[sign != 0] for _, sign in factors]
    for picks in itertools.product(*choices):
        coefficient = sympy.Integer(1)
        slashed = []
        for (label, sign), pick_mass in zip(factors, picks, strict=True):
            if pick_mass:
                coefficient *= sign * mass(label)
            else:
                slashed.append(label)
        total += coefficient * slashed_trace(tuple(slashed))
    return sympy.expand(total)


def _canonical(factors: tuple[Factor, ...]) -> tuple[Factor, ...]:
    """Smallest form over cyclic rotations, reversal (tr of the reversed product is equal) and relabelling."""
    best = None
    n = len(factors)
    for seq in (factors, factors[::-1]):
        for r in range(n):
            rotated = seq[r:] + seq[:r]
            labels: dict[int, int] = {}
            form = tuple((labels.setdefault(x, len(labels) + 1), s) for x, s in rotated)
            if best is None or form < best:
                best = form
    return best


def factors_latex(factors: tuple[Factor, ...]) -> str:
    parts = []
    for label, sign in factors:
        slash = f"\\slashed{{p}}_{label}"
        parts.append(slash if sign == 0 else f"({slash} {'+' if sign > 0 else '-'} m_{label})")
    return " ".join(parts)


class DiracTrace(Family):
    name = "dirac_trace"
    version = 1
    topic = "dirac-algebra/traces"
    level = "graduate"
    task_type = "derivation"
    description = "traces of 2-8 slashed momenta, and of products of (pslash ± m) factors"

    def parameter_space(self) -> list[dict[str, Any]]:
        forms: dict[tuple[Factor, ...], None] = {}
        for n in PURE_LENGTHS:
            for labels in itertools.product(range(1, MOMENTA + 1), repeat=n):
                forms.setdefault(_canonical(tuple((x, 0) for x in labels)))
        for n in MASSIVE_LENGTHS:
            for labels in itertools.product(range(1, min(n, MOMENTA) + 1), repeat=n):
                for signs in itertools.product((1, -1), repeat=n):
                    forms.setdefault(_canonical(tuple(zip(labels, signs, strict=True))))
        return [{"factors": [list(f) for f in form]} for form in forms if factor_trace(form) != 0]

    def build(self, params: dict[str, Any]) -> Problem:
        factors = tuple((int(x), int(s)) for x, s in params["factors"])
        value = factor_trace(factors)
        labels = sorted({x for x, _ in factors})
        masses = sorted({x for x, s in factors if s})
        symbols = {}
        for i, j in itertools.combinations_with_replacement(labels, 2):
            if dot(i, j) in value.free_symbols:
                symbols[dot(i, j).name] = "real"
        for i in masses:
            if mass(i) in value.free_symbols:
                symbols[mass(i).name] = "positive"
        names = ", ".join(
            f"$p_{i}\\cdot p_{j}$ as `p{i}p{j}`"
            for i, j in itertools.combinations_with_replacement(labels, 2)
        )
        mass_text = (
            f" The masses {', '.join(f'$m_{i}$' for i in masses)} are positive constants, and no on-shell "
            "condition relates them to the momenta."
            if masses
            else ""
        )
        statement = (
            "In four spacetime dimensions with metric $g^{\\mu\\nu} = \\mathrm{diag}(+1,-1,-1,-1)$, the Dirac "
            "matrices obey $\\{\\gamma^\\mu, \\gamma^\\nu\\} = 2g^{\\mu\\nu}\\mathbb 1_4$, and $\\slashed{p} = "
            f"\\gamma^\\mu p_\\mu$ for four-vectors $p_1, \\dots, p_{MOMENTA}$.{mass_text} Evaluate the trace\n\n"
            f"$$T = \\mathrm{{tr}}\\left[{factors_latex(factors)}\\right]$$\n\n"
            f"in terms of the scalar products, written {names}."
        )
        steps = [
            "Use $\\mathrm{tr}\\,\\mathbb 1 = 4$, the vanishing of the trace of an odd number of $\\gamma$ matrices, "
            "and $\\mathrm{tr}(\\slashed a_1 \\slashed a_2 \\cdots \\slashed a_n) = \\sum_{k=2}^{n} (-1)^k "
            "(a_1\\cdot a_k)\\,\\mathrm{tr}(\\slashed a_2 \\cdots \\widehat{\\slashed a_k} \\cdots \\slashed a_n)$.",
        ]
        if masses:
            steps.append(
                "Expanding the mass terms, only products with an even number of slashed momenta survive:"
            )
            choices = [((False,), (False, True))[s != 0] for _, s in factors]
            for picks in itertools.product(*choices):
                slashed = tuple(x for (x, _), p in zip(factors, picks, strict=True) if not p)
                coefficient = sympy.Mul(*(s * mass(x) for (x, s), p in zip(factors, picks, strict=True) if p))
                if len(slashed) % 2 == 0:
                    shown = " ".join(f"\\slashed{{p}}_{x}" for x in slashed) or "\\mathbb 1"
                    steps.append(
                        f"$${latex(coefficient)}\\,\\mathrm{{tr}}({shown}) = "
                        f"{latex(sympy.expand(coefficient * slashed_trace(slashed)))}$$"
                    )
        else:
            first, rest = factors[0][0], [x for x, _ in factors[1:]]
            for k, label in enumerate(rest):
                sub = tuple(rest[:k] + rest[k + 1 :])
                shown = " ".join(f"\\slashed{{p}}_{x}" for x in sub) or "\\mathbb 1"
                steps.append(
                    f"Term $k={k + 2}$: ${'+' if k % 2 == 0 else '-'}(p_{first}\\cdot p_{label})\\,\\mathrm{{tr}}"
                    f"({shown})$ with $\\mathrm{{tr}}({shown}) = {latex(slashed_trace(sub))}$."
                )
        steps.append(f"Collecting terms, $T = {latex(value)}$.")
        return self.problem(
            params,
            statement=statement,
            expr=value,
            symbols=symbols,
            solution="\n\n".join(steps),
            quantity="T",
            function_name="dirac_trace",
            describe_return="the trace T for the given scalar products (and masses)",
        )


FAMILY = DiracTrace()
