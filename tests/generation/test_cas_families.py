"""Each CAS family checked against a second, independent route: textbook closed forms for special parameters,
explicit matrices, numeric integration, automorphism counting."""

import itertools
import math
from collections import Counter

import mpmath
import numpy as np
import pytest
import sympy
from scipy import integrate, optimize

from generation.cas import get_family
from generation.cas.family import symbol


def _answer(family: str, **params) -> sympy.Expr:
    """The reference answer of the family's problem for these parameters, as a sympy expression."""
    problem = get_family(family).build(params)
    names = {n: symbol(n, d) for n, d in problem.answer.symbols.items()}
    return sympy.sympify(problem.answer.expr, locals=names), names


# --- two_body_decay ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("c", "a", "b"), [(5, 2, 1), (12, 5, 5), (7, 0, 3), (3, 1, 1)])
def test_two_body_momentum_solves_energy_conservation_numerically(c, a, b):
    expr, s = _answer("two_body_decay", M=c, m1=a, m2=b, quantity="momentum")
    root = optimize.brentq(lambda p: math.hypot(p, a) + math.hypot(p, b) - c, 0, c)
    assert float(expr.subs(s["m"], 1)) == pytest.approx(root, rel=1e-12)


def test_two_body_energies_add_up_to_the_parent_mass():
    e1, s = _answer("two_body_decay", M=9, m1=4, m2=2, quantity="energy")
    e2, _ = _answer("two_body_decay", M=9, m1=2, m2=4, quantity="energy")
    assert sympy.simplify(e1 + e2 - 9 * s["m"]) == 0


def test_two_body_width_to_massless_daughters_is_the_textbook_value():
    expr, s = _answer("two_body_decay", M=4, m1=0, m2=0, quantity="width")
    m, g = s["m"], s["g"]
    assert sympy.simplify(expr - g**2 / (16 * sympy.pi * 4 * m)) == 0


def test_kallen_function_is_symmetric_and_vanishes_at_threshold():
    from generation.cas.two_body_decay import kallen

    x, y, z = sympy.symbols("x y z")
    assert kallen(x, y, z) == kallen(y, z, x) == kallen(z, y, x)
    m1, m2 = sympy.symbols("m1 m2", positive=True)
    assert sympy.expand(kallen((m1 + m2) ** 2, m1**2, m2**2)) == 0


# --- mass_dimension ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "v", "c", "at_d4"),
    [(4, 0, 0, 0, 0), (3, 0, 0, 0, 1), (0, 2, 0, 0, -2), (1, 1, 0, 0, 0), (0, 1, 1, 0, 0), (6, 0, 0, 0, -2)],
    ids=["phi4", "phi3", "fermi", "yukawa", "qed-vertex", "phi6"],
)
def test_coupling_dimensions_in_four_dimensions_are_the_textbook_ones(a, b, v, c, at_d4):
    expr, s = _answer(
        "mass_dimension", scalars=a, fermion_bilinears=b, vectors=v, derivatives=c, quantity="coupling"
    )
    assert expr.subs(s["d"], 4) == at_d4


@pytest.mark.parametrize(("a", "critical"), [(3, 6), (4, 4), (6, 3)])
def test_critical_dimensions_of_scalar_self_couplings(a, critical):
    expr, _ = _answer(
        "mass_dimension", scalars=a, fermion_bilinears=0, vectors=0, derivatives=0, quantity="critical"
    )
    assert expr == critical


def test_scalar_field_has_dimension_one_in_four_dimensions():
    from generation.cas.mass_dimension import field_dimensions

    d = sympy.Symbol("d")
    dims = field_dimensions(d)
    assert (dims["phi"].subs(d, 4), dims["psi"].subs(d, 4), dims["A"].subs(d, 4)) == (
        1,
        sympy.Rational(3, 2),
        1,
    )


# --- dirac_trace ------------------------------------------------------------------------------------------

_METRIC = np.diag([1.0, -1.0, -1.0, -1.0])
_SIGMA = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]])]
_GAMMA = [np.block([[np.eye(2), np.zeros((2, 2))], [np.zeros((2, 2)), -np.eye(2)]])] + [
    np.block([[np.zeros((2, 2)), s], [-s, np.zeros((2, 2))]]) for s in _SIGMA
]


def _slash(p):
    lower = _METRIC @ p
    return sum(g * x for g, x in zip(_GAMMA, lower, strict=True))


def _numeric_trace(factors, momenta, masses):
    product = np.eye(4, dtype=complex)
    for label, sign in factors:
        product = product @ (_slash(momenta[label]) + sign * masses[label] * np.eye(4))
    return np.trace(product)


def test_trace_of_four_slashed_momenta_is_the_textbook_formula():
    expr, s = _answer("dirac_trace", factors=[[1, 0], [2, 0], [3, 0], [4, 0]])
    expected = 4 * (s["p1p2"] * s["p3p4"] - s["p1p3"] * s["p2p4"] + s["p1p4"] * s["p2p3"])
    assert sympy.expand(expr - expected) == 0


def test_every_dirac_trace_matches_explicit_gamma_matrices():
    family = get_family("dirac_trace")
    rng = np.random.default_rng(0)
    for index in range(0, family.capacity(), 7):
        params = family.parameters_at(index)
        factors = [tuple(f) for f in params["factors"]]
        momenta = {i: rng.normal(size=4) for i in range(1, 5)}
        masses = {i: rng.uniform(0.5, 2.0) for i in range(1, 5)}
        expr, s = _answer("dirac_trace", **params)
        values = {}
        for name, sym in s.items():
            if name.startswith("m"):
                values[sym] = masses[int(name[1])]
            else:
                i, j = int(name[1]), int(name[3])
                values[sym] = momenta[i] @ _METRIC @ momenta[j]
        numeric = _numeric_trace(factors, momenta, masses)
        assert abs(numeric.imag) < 1e-9
        assert float(expr.subs(values)) == pytest.approx(numeric.real, rel=1e-9, abs=1e-9), params


# --- colour_factor ----------------------------------------------------------------------------------------


def _numeric_colour(traces, n):
    from generation.cas.lie import fundamental_generators

    gens = fundamental_generators(n)
    labels = sorted({x for t in traces for x in t})
    total = 0.0
    for assignment in itertools.product(range(len(gens)), repeat=len(labels)):
        pick = dict(zip(labels, assignment, strict=True))
        value = 1.0 + 0j
        for t in traces:
            value *= np.trace(np.linalg.multi_dot([np.eye(n)] + [gens[pick[x]] for x in t] + [np.eye(n)]))
        total += value
    return total


def test_colour_factor_closed_forms():
    expr, s = _answer("colour_factor", traces=[[0, 1, 0, 1]])
    n = s["N"]
    assert sympy.simplify(expr + (n**2 - 1) / (4 * n)) == 0
    expr, _ = _answer("colour_factor", traces=[[0, 0]])
    assert sympy.simplify(expr - (n**2 - 1) / 2) == 0


@pytest.mark.parametrize("n", [2, 3])
def test_colour_factors_match_explicit_generator_sums(n):
    family = get_family("colour_factor")
    checked = 0
    for index in range(family.capacity()):
        params = family.parameters_at(index)
        if len({x for t in params["traces"] for x in t}) > 3:
            continue  # explicit sums over (N^2-1)^labels stay cheap up to three labels
        expr, s = _answer("colour_factor", **params)
        numeric = _numeric_colour(params["traces"], n)
        assert float(expr.subs(s["N"], n)) == pytest.approx(numeric.real, rel=1e-9, abs=1e-12), params
        checked += 1
    assert checked >= 10


# --- symmetry_factor --------------------------------------------------------------------------------------


def _automorphism_factor(diagram, vertices):
    """S from the graph itself: vertex permutations fixing the diagram, times m! per multi-edge and 2 per
    self-loop (the textbook rule for phi^k with labelled external points)."""
    edges = Counter(tuple(e) for e in diagram)
    count = 0
    for perm in itertools.permutations(range(vertices)):
        names = {f"z{i + 1}": f"z{perm[i] + 1}" for i in range(vertices)}
        mapped = Counter(tuple(sorted((names.get(a, a), names.get(b, b)))) for a, b in edges.elements())
        count += mapped == edges
    factor = count
    for (a, b), mult in edges.items():
        factor *= math.factorial(mult) * (2**mult if a == b else 1)
    return factor


def test_symmetry_factors_agree_with_automorphism_counting():
    family = get_family("symmetry_factor")
    for index in range(family.capacity()):
        params = family.parameters_at(index)
        expr, _ = _answer("symmetry_factor", **params)
        assert expr == _automorphism_factor(params["edges"], params["vertices"]), params


@pytest.mark.parametrize(
    ("k", "vertices", "externals", "edges", "value"),
    [
        (4, 1, 0, [["z1", "z1"], ["z1", "z1"]], 8),
        (4, 1, 2, [["x1", "z1"], ["x2", "z1"], ["z1", "z1"]], 2),
        (4, 2, 2, [["x1", "z1"], ["x2", "z2"], ["z1", "z2"], ["z1", "z2"], ["z1", "z2"]], 6),
        (4, 2, 0, [["z1", "z2"]] * 4, 48),
        (3, 2, 0, [["z1", "z2"]] * 3, 12),
    ],
    ids=["figure-eight", "tadpole", "sunset", "basketball", "theta"],
)
def test_textbook_symmetry_factors(k, vertices, externals, edges, value):
    expr, _ = _answer("symmetry_factor", k=k, vertices=vertices, externals=externals, edges=edges)
    assert expr == value


# --- beta_coefficient / lie -------------------------------------------------------------------------------


def test_b0_of_qcd_with_six_flavours_is_seven():
    expr, s = _answer("beta_coefficient", N=3, quantity="b0", fermions="fundamental", scalars=None)
    assert expr.subs(s["n_f"], 6) == 7


def test_pure_su2_b0_is_22_over_3():
    expr, s = _answer("beta_coefficient", N=2, quantity="b0", fermions="fundamental", scalars=None)
    assert expr.subs(s["n_f"], 0) == sympy.Rational(22, 3)


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_casimirs_and_indices_match_closed_forms(n):
    from generation.cas.lie import casimir, dimension, dynkin_index

    N = sympy.Integer(n)
    assert casimir(n, "fundamental") == (N**2 - 1) / (2 * N)
    assert casimir(n, "adjoint") == N and dynkin_index(n, "adjoint") == N
    assert dynkin_index(n, "symmetric") == (N + 2) / 2
    assert casimir(n, "symmetric") == (N - 1) * (N + 2) / N
    if n > 2:
        assert dynkin_index(n, "antisymmetric") == (N - 2) / 2
        assert casimir(n, "antisymmetric") == (N + 1) * (N - 2) / N
    for rep in ("fundamental", "adjoint", "symmetric"):
        assert casimir(n, rep) * dimension(n, rep) == dynkin_index(n, rep) * (N**2 - 1)


def test_a_real_adjoint_scalar_counts_one_sixth_of_its_index():
    # SU(3): b0 = 11 - 2/3 n_f - 1/6 * T(adj) with T(adj) = 3.
    expr, s = _answer(
        "beta_coefficient",
        N=3,
        quantity="b0",
        fermions="fundamental",
        scalars={"rep": "adjoint", "count": 1, "type": "real"},
    )
    assert sympy.expand(expr - (11 - sympy.Rational(2, 3) * s["n_f"] - sympy.Rational(1, 2))) == 0


# --- rg_running -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "n_f"), [(3, 5), (2, 16), (3, 0)])
def test_running_coupling_matches_numeric_integration(n, n_f):
    expr, s = _answer("rg_running", N=n, n_f=n_f, quantity="alpha")
    b0 = sympy.Rational(11, 3) * n - sympy.Rational(2, 3) * n_f
    alpha0, mu0, mu = 0.2, 10.0, 3.0
    solved = integrate.solve_ivp(
        lambda t, a: [-float(b0) * a[0] ** 2 / (2 * math.pi)],
        (0.0, math.log(mu / mu0)),
        [alpha0],
        rtol=1e-12,
        atol=1e-14,
    )
    value = float(expr.subs({s["alpha_0"]: alpha0, s["mu_0"]: mu0, s["mu"]: mu}))
    assert value == pytest.approx(solved.y[0, -1], rel=1e-8)


def test_pole_scale_is_where_the_inverse_coupling_vanishes():
    scale, s = _answer("rg_running", N=3, n_f=4, quantity="pole_scale")
    alpha, t = _answer("rg_running", N=3, n_f=4, quantity="alpha")
    inverse = 1 / alpha.subs(t["mu"], scale.subs(s["mu_0"], t["mu_0"]).subs(s["alpha_0"], t["alpha_0"]))
    assert sympy.simplify(inverse) == 0


# --- dimreg_integral --------------------------------------------------------------------------------------


def test_convergent_integral_matches_radial_quadrature_in_four_dimensions():
    expr, s = _answer("dimreg_integral", D=4, a=0, n=3, quantity="finite")
    delta = 1.7
    # d^4 l/(2 pi)^4 = 2 pi^2 l^3 dl/(2 pi)^4
    radial, _ = integrate.quad(
        lambda r: 2 * math.pi**2 * r**3 / (r**2 + delta) ** 3 / (2 * math.pi) ** 4, 0, np.inf
    )
    assert float(expr.subs(s["Delta"], delta)) == pytest.approx(radial, rel=1e-9)


def test_bubble_pole_is_the_universal_uv_coefficient():
    expr, _ = _answer("dimreg_integral", D=4, a=0, n=2, quantity="pole")
    assert expr == 1 / (16 * sympy.pi**2)


@pytest.mark.parametrize(("dim", "a", "n"), [(4, 0, 1), (4, 1, 2), (6, 0, 2), (2, 0, 1), (6, 2, 4)])
def test_expansion_approaches_the_exact_d_dimensional_value(dim, a, n):
    expansion, s = _answer("dimreg_integral", D=dim, a=a, n=n, quantity="expansion")
    delta, mu = 1.3, 0.7
    with mpmath.workdps(40):
        for eps in (mpmath.mpf("1e-6"), mpmath.mpf("1e-7")):
            d = dim - 2 * eps
            exact = (
                mu ** (2 * eps)
                * mpmath.gamma(a + d / 2)
                * mpmath.gamma(n - a - d / 2)
                / ((4 * mpmath.pi) ** (d / 2) * mpmath.gamma(d / 2) * mpmath.gamma(n))
                * delta ** (d / 2 + a - n)
            )
            approx = sympy.N(expansion.subs({s["epsilon"]: eps, s["Delta"]: delta, s["mu"]: mu}), 40)
            # The remainder is O(eps): it shrinks tenfold with eps.
            assert abs(exact - mpmath.mpf(str(approx))) < 10 * eps
