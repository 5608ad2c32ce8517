"""SU(N) representation data computed from explicit generators (never tabulated): Dynkin indices and quadratic
Casimirs of the fundamental, adjoint, and two-index symmetric and antisymmetric representations.

The fundamental generators are the generalized Gell-Mann matrices normalized to ``tr(T^a T^b) = delta^ab / 2``;
the adjoint has ``(T^a)_bc = -i f^abc``; the two-index representations act on the (anti)symmetric part of the
tensor product. ``T(R)`` is read off ``tr(T^a_R T^b_R) = T(R) delta^ab`` and ``C_2(R)`` off
``sum_a T^a_R T^a_R = C_2(R) 1``; the floats are turned into exact fractions and checked.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np
import sympy

REPRESENTATIONS = ("fundamental", "adjoint", "symmetric", "antisymmetric")
REPRESENTATION_LATEX = {
    "fundamental": "fundamental",
    "adjoint": "adjoint",
    "symmetric": "two-index symmetric",
    "antisymmetric": "two-index antisymmetric",
}


def fundamental_generators(n: int) -> list[np.ndarray]:
    """The N^2 - 1 generalized Gell-Mann matrices over 2, so that tr(T^a T^b) = delta^ab / 2."""
    gens = []
    for j in range(n):
        for k in range(j + 1, n):
            sym = np.zeros((n, n), complex)
            sym[j, k] = sym[k, j] = 0.5
            anti = np.zeros((n, n), complex)
            anti[j, k], anti[k, j] = -0.5j, 0.5j
            gens += [sym, anti]
    for size in range(1, n):
        diag = np.zeros((n, n), complex)
        diag[:size, :size] = np.eye(size)
        diag[size, size] = -size
        gens.append(diag / np.sqrt(2 * size * (size + 1)))
    return gens


@cache
def generators(n: int, rep: str) -> tuple[np.ndarray, ...]:
    """The generators of SU(n) in ``rep``."""
    fund = fundamental_generators(n)
    if rep == "fundamental":
        return tuple(fund)
    if rep == "adjoint":
        # f^abc = -2i tr([T^a, T^b] T^c); (T^a_adj)_bc = -i f^abc
        f = np.array([[[-2j * np.trace((a @ b - b @ a) @ c) for c in fund] for b in fund] for a in fund])
        return tuple(-1j * f[a] for a in range(len(fund)))
    if rep in ("symmetric", "antisymmetric"):
        sign = 1 if rep == "symmetric" else -1
        basis = []
        for i in range(n):
            for j in range(i if sign == 1 else i + 1, n):
                v = np.zeros((n, n))
                v[i, j] += 1
                v[j, i] += sign
                basis.append(v.reshape(-1) / np.linalg.norm(v))
        projector = np.array(basis)  # rows: an orthonormal basis of the subspace
        eye = np.eye(n)
        return tuple(projector @ (np.kron(t, eye) + np.kron(eye, t)) @ projector.T for t in fund)
    raise KeyError(f"unknown representation {rep!r}; use one of {', '.join(REPRESENTATIONS)}")


def _exact(x: float) -> sympy.Rational:
    fraction = Fraction(x).limit_denominator(1000)
    if abs(float(fraction) - x) > 1e-9:
        raise ArithmeticError(f"{x} is not a simple fraction")
    return sympy.Rational(fraction.numerator, fraction.denominator)


@cache
def dynkin_index(n: int, rep: str) -> sympy.Rational:
    """T(R): tr(T^a_R T^b_R) = T(R) delta^ab, read off a = b = 1 (and checked on the whole matrix)."""
    gens = generators(n, rep)
    gram = np.array([[np.trace(a @ b).real for b in gens] for a in gens])
    value = gram[0, 0]
    if not np.allclose(gram, value * np.eye(len(gens)), atol=1e-9):
        raise ArithmeticError(f"SU({n}) {rep}: tr(T^a T^b) is not proportional to delta^ab")
    return _exact(value)


@cache
def casimir(n: int, rep: str) -> sympy.Rational:
    """C_2(R): sum_a T^a_R T^a_R = C_2(R) times the identity (checked)."""
    gens = generators(n, rep)
    total = sum(g @ g for g in gens)
    value = total[0, 0].real
    if not np.allclose(total, value * np.eye(total.shape[0]), atol=1e-9):
        raise ArithmeticError(f"SU({n}) {rep}: the Casimir is not proportional to the identity")
    return _exact(value)


def dimension(n: int, rep: str) -> int:
    """The dimension of ``rep`` (the size of its generators)."""
    return generators(n, rep)[0].shape[0]
