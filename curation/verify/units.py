"""Physical units in natural units (hbar = c = k_B = 1): every unit is a power of GeV times a factor.

A cross section in pb and one in GeV^-2 have the same dimension here, as a particle physicist expects;
a cross section and a width do not. The table holds what QFT answers use: energies (eV..PeV), barns,
lengths, times, masses, frequencies, temperatures, joules, and dimensionless percent and degrees.
Conversion constants are CODATA 2018.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import sympy

from curation.verify.parse import NameResolver, ParseError, parse_math

HBAR_C_GEV_M = 1.973269804e-16  # hbar*c in GeV*m
HBAR_GEV_S = 6.582119569e-25  # hbar in GeV*s
GEV_PER_KG = 5.609588603804452e26  # (1 kg) c^2 in GeV
GEV_PER_JOULE = 6.241509074460763e9
GEV_PER_KELVIN = 8.617333262e-14

_METRE = (1 / HBAR_C_GEV_M, -1)
_SECOND = (1 / HBAR_GEV_S, -1)


def _prefixed(base: str, factor: float, dim: int, prefixes: str) -> dict[str, tuple[float, int]]:
    scale = {"P": 1e15, "T": 1e12, "G": 1e9, "M": 1e6, "k": 1e3, "": 1.0, "c": 1e-2, "m": 1e-3, "u": 1e-6,
             "n": 1e-9, "p": 1e-12, "f": 1e-15, "a": 1e-18, "z": 1e-21}  # fmt: skip
    return {p + base: (factor * scale[p] ** 1, dim) for p in prefixes.split(",")}


UNITS: dict[str, tuple[float, int]] = {
    **_prefixed("eV", 1e-9, 1, "m,,k,M,G,T,P"),
    **_prefixed("b", 1e-28 * _METRE[0] ** 2, -2, ",m,u,n,p,f,a,z"),
    **_prefixed("m", _METRE[0], -1, "k,,c,m,u,n,p,f"),
    **_prefixed("s", _SECOND[0], -1, ",m,u,n,p,f,a"),
    **_prefixed("g", GEV_PER_KG * 1e-3, 1, "k,"),
    **_prefixed("Hz", HBAR_GEV_S, 1, ",k,M,G,T"),
    "J": (GEV_PER_JOULE, 1),
    "K": (GEV_PER_KELVIN, 1),
    "barn": (1e-28 * _METRE[0] ** 2, -2),
    "GEV": (1.0, 1),
    "Gev": (1.0, 1),
    "MEV": (1e-3, 1),
    "Mev": (1e-3, 1),
    "KeV": (1e-6, 1),
    "Kev": (1e-6, 1),
    "TEV": (1e3, 1),
    "Tev": (1e3, 1),
    "u": (0.93149410242, 1),  # atomic mass unit
    "Da": (0.93149410242, 1),
    "c": (1.0, 0),  # GeV/c^2: c = 1
    "hbar": (1.0, 0),
    "deg": (math.pi / 180, 0),
    "degree": (math.pi / 180, 0),
    "degrees": (math.pi / 180, 0),
    "circ": (math.pi / 180, 0),
    "rad": (1.0, 0),
    "percent": (0.01, 0),
    "ppm": (1e-6, 0),
}
_UNIT_SYMBOLS = {name: sympy.Symbol(f"unit[{name}]", positive=True) for name in UNITS}
_BY_SYMBOL = {symbol: UNITS[name] for name, symbol in _UNIT_SYMBOLS.items()}
_DIMENSION = sympy.Symbol("GeV_dimension", positive=True)
# `\mu\mathrm{b}`, `\mu b`, `μs`: the micro prefix written as a Greek mu.
_MICRO = re.compile(r"\\mu\s*(?:\\(?:mathrm|text|rm|textrm)\s*)?(\{\s*)?(b|m|s|eV|g|Hz)\b")


@dataclass(frozen=True)
class Quantity:
    """A number with the unit it was written in, converted to GeV^dimension."""

    value: sympy.Expr  # in GeV**dimension
    dimension: int
    has_unit: bool


def unit_resolver() -> NameResolver:
    return NameResolver(units=_UNIT_SYMBOLS)


def normalize_micro(text: str) -> str:
    """``\\mu\\mathrm{b}`` -> ``\\mathrm{ub}`` so the micro prefix reads as one unit word."""
    return _MICRO.sub(
        lambda m: ("\\mathrm{u" + m.group(2) + "}") if not m.group(1) else ("{u" + m.group(2)), text
    )


def split_quantity(expr: sympy.Expr) -> Quantity:
    """Separate ``86.8*unit[nb]`` into its value in GeV^-2 and dimension -2; ParseError on mixed units."""
    unit_symbols = [s for s in expr.free_symbols if s in _BY_SYMBOL]
    if not unit_symbols:
        return Quantity(expr, 0, False)
    substituted = expr.xreplace(
        {s: sympy.Float(_BY_SYMBOL[s][0], 17) * _DIMENSION ** _BY_SYMBOL[s][1] for s in unit_symbols}
    )
    coefficient, exponent = substituted.as_coeff_exponent(_DIMENSION)
    if _DIMENSION in coefficient.free_symbols or not exponent.is_Integer:
        raise ParseError("the units do not combine into one dimension (e.g. a sum of GeV and pb)")
    return Quantity(coefficient, int(exponent), True)


@lru_cache(maxsize=1024)
def parse_unit(unit: str) -> Quantity:
    """The size and dimension of a unit string such as ``pb``, ``GeV^-2``, ``\\mathrm{fm}``."""
    expr = parse_math(normalize_micro(unit), unit_resolver())
    others = [s for s in expr.free_symbols if s not in _BY_SYMBOL]
    if others:
        raise ParseError(f"unknown unit {', '.join(sorted(map(str, others)))} in {unit!r}")
    return split_quantity(expr)


def dimension_name(dimension: int) -> str:
    return "dimensionless" if dimension == 0 else f"GeV^{dimension}"
